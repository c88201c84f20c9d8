/** Characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell of text from the data (ids, category values, driver sentences): a text that a
 * spreadsheet would evaluate (`=HYPERLINK(…)`, `+cmd|…`, `@SUM(…)`, `-2+3`, or a leading tab or
 * CR) gets a leading `'` so that it stays text, as OWASP recommends; then the cell is quoted when
 * it holds a quote, comma or line break. Numbers the code writes itself do not go through here.
 */
export function csvText(value: string): string {
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
