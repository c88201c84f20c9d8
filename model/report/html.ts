/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Serialises JSON for a `<script type="application/json">` block: `<`, `>` and `&` become
 * unicode escapes so no string in the data can close the script element, and U+2028/2029
 * are escaped for old parsers. `JSON.parse` reads it back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Inlines a JavaScript bundle: `</script` inside it would end the element early. */
export function scriptForHtml(source: string): string {
  return source.replace(/<\/script/gi, '<\\/script').replace(/<!--/g, '<\\!--');
}

/** How a number is shown; the report test reads the same formats back. */
export type NumberFormat = 'int' | 'decimal3' | 'decimal1' | 'percent' | 'percent1' | 'money';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Formats a number for the page; money is in cents and shown in dollars. */
export function formatNumber(value: number, format: NumberFormat): string {
  if (!Number.isFinite(value)) return '—';
  switch (format) {
    case 'int':
      return integer.format(value);
    case 'decimal3':
      return value.toFixed(3);
    case 'decimal1':
      return value.toFixed(1);
    case 'percent':
      return `${(value * 100).toFixed(0)}%`;
    case 'percent1':
      return `${(value * 100).toFixed(1)}%`;
    case 'money':
      return money.format(value / 100);
  }
}

/**
 * A number as the page shows it, carrying its exact value and where it comes from in the run
 * summary (`data-metric`), so a reader's tools and the tests can check the page against the data.
 */
export function metric(path: string, value: number, format: NumberFormat): string {
  return `<span class="num" data-metric="${escapeHtml(path)}" data-value="${escapeHtml(String(value))}" data-format="${format}">${escapeHtml(formatNumber(value, format))}</span>`;
}

/** `payment_recovery` → `Payment recovery`. */
export function humanise(id: string): string {
  const words = id.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
