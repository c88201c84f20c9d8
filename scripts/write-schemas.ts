/**
 * Writes the published JSON Schemas generated from the zod contracts. Run after changing a
 * contract: `npx tsx scripts/write-schemas.ts`; a test fails while the committed file differs.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { outreachMessageJsonSchema } from '../model/outreach/message.ts';

export const SCHEMA_FILES = {
  'schemas/outreach-message.v1.json': outreachMessageJsonSchema,
} as const;

/** The text of each schema file, as it must be committed. */
export const schemaFileText = (generate: () => Record<string, unknown>): string => `${JSON.stringify(generate(), null, 2)}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  for (const [file, generate] of Object.entries(SCHEMA_FILES)) {
    await writeFile(`${root}${file}`, schemaFileText(generate));
    console.error(`wrote ${file}`);
  }
}
