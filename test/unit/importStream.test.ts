import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDelimited } from '../../model/import/delimited.ts';
import { type DelimitedRow, streamDelimited } from '../../model/import/delimitedStream.ts';
import { IdRegistry } from '../../model/import/idRegistry.ts';
import { planTableImport, streamTableImport } from '../../model/import/tableImport.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const AS_OF = '2026-07-01';

/** The text in pieces of `size` characters, as a file stream would hand it over (cut anywhere). */
async function* pieces(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function rows(text: string, size: number, delimiter?: string): Promise<DelimitedRow[]> {
  const all: DelimitedRow[] = [];
  for await (const row of streamDelimited(pieces(text, size), delimiter)) all.push(row);
  return all;
}

/** What parseDelimited reads, header row included, for comparison with the stream. */
const parsedRows = (text: string, delimiter?: string) => {
  const table = parseDelimited(text, { delimiter, header: false });
  return table.rows;
};

describe('streamDelimited reads a file as parseDelimited does, whatever the chunks', () => {
  const quoted = '\uFEFFid,comment,n\r\na,"one, two",1\r\n\r\nb,"multi\nline ""quoted""",2\nc,plain,3';
  const cases: Array<[string, string, string | undefined]> = [
    ['quoted CSV with a BOM, CRLF, a blank line and a multi-line cell', quoted, undefined],
    ['semicolons', 'id;x\n1;2\n3;4\n', undefined],
    ['whitespace columns (the CDNOW log)', fixture('cdnow-sample.txt'), undefined],
    ['the Telco sample', fixture('telco-sample.csv'), undefined],
    ['an explicit tab delimiter', 'a\tb\n1\t2\n', 'tab'],
  ];
  for (const [what, text, delimiter] of cases) {
    it(what, async () => {
      const expected = parsedRows(text, delimiter);
      expect(expected.length).toBeGreaterThan(1);
      for (const size of [1, 7, 64, 1 << 20]) expect(await rows(text, size, delimiter)).toEqual(expected);
    });
  }
});

describe('streamTableImport plans what planTableImport plans', () => {
  const opened: string[] = [];
  const open = (text: string) => (pass: string) => {
    opened.push(pass);
    return streamDelimited(pieces(text, 1000));
  };
  const collect = async (text: string, options: Parameters<typeof planTableImport>[1]) => {
    const stream = await streamTableImport(open(text), options);
    const events = [];
    for await (const event of stream.events()) events.push(event);
    return { events, ...stream.planner.summary() };
  };

  it('on the Telco sample: the same events, columns, counts and timeline', async () => {
    const options = { idColumn: 'customerID', labelColumn: 'Churn', positive: 'Yes', asOf: AS_OF };
    const text = fixture('telco-sample.csv');
    opened.length = 0;
    expect(await collect(text, options)).toEqual(planTableImport(parseDelimited(text), options));
    // Unique ids: the header, then checks, types and events; never a copy of the file.
    expect(opened).toEqual(['header', 'checks', 'types', 'events']);
  });

  it('on a table with bad rows: the same problems by line (duplicates found only after the whole file)', async () => {
    const text = [
      'id,plan,seats,churned',
      'a,pro,2,yes',
      'b,pro,2',
      ',pro,2,no',
      'c,pro,2,no',
      'e,pro,2,no',
      'c,team,4,yes',
      'd#1,pro,2,no',
    ].join('\n');
    const options = { idColumn: 'id', labelColumn: 'churned', asOf: AS_OF };
    opened.length = 0;
    const streamed = await collect(text, options);
    // An id seen twice costs one more pass, which finds the lines of the repeated ids.
    expect(opened).toEqual(['header', 'checks', 'repeats', 'types', 'events']);
    expect(streamed).toEqual(planTableImport(parseDelimited(text), options));
    expect(streamed.problems.map((p) => p.line)).toEqual([3, 4, 5, 7, 8]);
    expect(new Set(streamed.events.map((e) => e.customerId))).toEqual(new Set(['a', 'e']));
  });

  it('refuses an empty file and ambiguous labels as planTableImport does', async () => {
    await expect(streamTableImport(open(''), { asOf: AS_OF })).rejects.toThrow(/the file is empty/);
    await expect(
      streamTableImport(open('id,status\na,left\nb,stayed\nc,paused\n'), { idColumn: 'id', labelColumn: 'status', asOf: AS_OF }),
    ).rejects.toThrow(/which value of label column status means churned.*--positive/);
  });
});

describe('IdRegistry', () => {
  it('finds the ids that repeat among many, with all their lines, and nothing else', () => {
    const registry = new IdRegistry();
    const ids = Array.from({ length: 200_000 }, (_, i) => `C${i}`);
    ids.push('C17', 'C199999', 'C17');
    const flagged = ids.filter((id) => registry.add(id));
    expect(flagged).toEqual(['C17', 'C199999', 'C17']);
    expect(registry.hasSuspects).toBe(true);
    for (const [i, id] of ids.entries()) registry.confirm(id, i + 2);
    expect(registry.duplicates()).toEqual(
      new Map([
        ['C17', [19, 200_002, 200_004]],
        ['C199999', [200_001, 200_003]],
      ]),
    );
  });

  it('has no suspects when every id is distinct (no second look needed)', () => {
    const registry = new IdRegistry();
    for (let i = 0; i < 50_000; i++) registry.add(`customer-${i}`);
    expect(registry.hasSuspects).toBe(false);
    expect(registry.duplicates().size).toBe(0);
  });
});
