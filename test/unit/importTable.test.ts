import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildDatasets } from '../../model/features/datasets.ts';
import { groupHistories, streamHistories } from '../../model/features/history.ts';
import { parseDelimited } from '../../model/import/delimited.ts';
import { planTableImport } from '../../model/import/tableImport.ts';
import { inferColumnType, parseNumber } from '../../model/import/values.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const AS_OF = '2026-07-01';
const telco = () => parseDelimited(fixture('telco-sample.csv'));

describe('importing the Telco sample (one row per customer, Churn = Yes/No)', () => {
  it('imports every row as a profile with inferred attribute types, and counts churners and stayers', () => {
    const plan = planTableImport(telco(), { idColumn: 'customerID', labelColumn: 'Churn', positive: 'Yes', asOf: AS_OF });
    expect(plan.counts).toEqual({ rows: 151, imported: 151, churners: 36, stayers: 115, unlabelled: 0, rejected: 0 });
    expect(plan.problems).toEqual([]);
    const types = Object.fromEntries(plan.columns.map((c) => [c.attribute, c.type]));
    expect(types).toMatchObject({
      tenure: 'number',
      MonthlyCharges: 'number',
      TotalCharges: 'number',
      SeniorCitizen: 'number',
      Contract: 'category',
      Partner: 'category',
    });
    expect(plan.skippedColumns).toEqual(['customerID', 'Churn']);
  });

  it('reads a blank TotalCharges as missing, never as 0', () => {
    const plan = planTableImport(telco(), { idColumn: 'customerID', labelColumn: 'Churn', asOf: AS_OF });
    const profile = plan.events.find((e) => e.eventId === 'import:4472-LVYGI:profile');
    expect(profile?.type === 'customer_profile' && profile.properties.attributes.TotalCharges).toBeNull();
  });

  it('gives events deterministic ids, so a second import of the same file writes the same keys', () => {
    const first = planTableImport(telco(), { idColumn: 'customerID', labelColumn: 'Churn', asOf: AS_OF });
    const second = planTableImport(telco(), { idColumn: 'customerID', labelColumn: 'Churn', asOf: AS_OF });
    expect(second.events.map((e) => `${e.eventId}@${e.occurredAt}`)).toEqual(first.events.map((e) => `${e.eventId}@${e.occurredAt}`));
    expect(first.events[0]?.eventId).toBe('import:7590-VHVEG:profile');
  });

  it('lines the timeline up with buildDatasets: churners are positives of the validation cutoff, validation split off by customer', async () => {
    // Prepare
    const plan = planTableImport(telco(), { idColumn: 'customerID', labelColumn: 'Churn', asOf: AS_OF, horizonDays: 30 });
    // Act
    const d = await buildDatasets(streamHistories(groupHistories(plan.events)), {
      asOf: AS_OF,
      horizonDays: 30,
      churn: { kind: 'cancelled' },
    });
    // Assess
    expect(d.cutoffs.validation).toBe(plan.timeline.labelledCutoff);
    expect(d.validationSplit).toBe('by-customer');
    const positives = [...d.train.labels, ...d.validation.labels].filter((l) => l === 1).length;
    expect(d.train.customerIds.length + d.validation.customerIds.length).toBe(151);
    expect(positives).toBe(36);
    expect([...d.validation.labels].filter((l) => l === 1).length).toBe(7);
    expect(d.scoring.customerIds.length).toBe(115); // stayers are still customers at asOf; churners are gone
    expect(d.train.categoricalColumns.map((c) => c.name)).toContain('profile.Contract');
  });

  it('works the same when training uses the latest event + 1 ms as asOf', async () => {
    const plan = planTableImport(telco(), { idColumn: 'customerID', labelColumn: 'Churn', asOf: AS_OF });
    const latest =
      plan.events
        .map((e) => e.occurredAt)
        .sort()
        .at(-1) ?? '';
    const asOf = new Date(Date.parse(latest) + 1).toISOString();
    const d = await buildDatasets(streamHistories(groupHistories(plan.events)), { asOf, horizonDays: 30, churn: { kind: 'cancelled' } });
    expect([...d.train.labels, ...d.validation.labels].filter((l) => l === 1).length).toBe(36);
  });

  it('scores unlabelled rows (blank label) but never uses them as examples', async () => {
    const text = fixture('telco-sample.csv').replace(/,No\n/, ',\n'); // the first stayer loses its label
    const plan = planTableImport(parseDelimited(text), { idColumn: 'customerID', labelColumn: 'Churn', asOf: AS_OF });
    expect(plan.counts.unlabelled).toBe(1);
    const d = await buildDatasets(streamHistories(groupHistories(plan.events)), {
      asOf: AS_OF,
      horizonDays: 30,
      churn: { kind: 'cancelled' },
    });
    expect([...d.train.customerIds, ...d.validation.customerIds]).not.toContain('7590-VHVEG');
    expect(d.scoring.customerIds).toContain('7590-VHVEG');
  });
});

describe('importing the Orange sample (no id column, Churn = True/False)', () => {
  it('names customers by line, infers the positive label True and keeps headers with spaces as attributes', () => {
    const plan = planTableImport(parseDelimited(fixture('orange-sample.csv')), { labelColumn: 'Churn', idPrefix: 'orange', asOf: AS_OF });
    expect(plan.positive).toBe('true');
    expect(plan.counts).toMatchObject({ imported: 120, churners: 23, stayers: 97 });
    expect(plan.events[0]?.customerId).toBe('orange-2');
    const types = Object.fromEntries(plan.columns.map((c) => [c.attribute, c.type]));
    expect(types).toMatchObject({
      State: 'category',
      'Total day minutes': 'number',
      'International plan': 'category',
      'Customer service calls': 'number',
    });
  });
});

describe('bad rows', () => {
  const csv = [
    'id,plan,seats,churned',
    'a,pro,3,yes',
    'b,basic,1',
    ',pro,2,no',
    'c,pro,2,no',
    'c,team,4,yes',
    'd#1,pro,2,no',
    'e,pro,2,no',
  ].join('\n');

  it('are reported by line and kept out; the valid rows are imported unchanged', () => {
    const plan = planTableImport(parseDelimited(csv), { idColumn: 'id', labelColumn: 'churned', asOf: AS_OF });
    expect(plan.problems).toEqual([
      { line: 3, message: 'has 3 fields, the header has 4' },
      { line: 4, message: 'empty customer id in column id' },
      { line: 5, message: 'duplicate customer id "c" (lines 5, 6): none of them is imported' },
      { line: 6, message: 'duplicate customer id "c" (lines 5, 6): none of them is imported' },
      { line: 7, message: 'customer id "d#1" may contain only letters, digits and . _ : @ - (at most 128 characters)' },
    ]);
    expect(new Set(plan.events.map((e) => e.customerId))).toEqual(new Set(['a', 'e']));
    expect(plan.counts).toMatchObject({ rows: 7, imported: 2, rejected: 5, churners: 1, stayers: 1 });
  });

  it('ask for --positive when the label values are not a yes/no pair', () => {
    const text = 'id,status\na,left\nb,stayed\nc,paused\n';
    expect(() => planTableImport(parseDelimited(text), { idColumn: 'id', labelColumn: 'status', asOf: AS_OF })).toThrow(
      /which value of label column status means churned.*--positive/,
    );
  });

  it('name the missing column and list the columns', () => {
    expect(() => planTableImport(telco(), { idColumn: 'CustomerId', labelColumn: 'Exited', asOf: AS_OF })).toThrow(
      /--label Exited: no such column; the columns are: customerID, gender/,
    );
  });
});

describe('column types', () => {
  it('are numbers, booleans or categories, blanks ignored; codes with leading zeros stay categories', () => {
    expect(inferColumnType(['1', '2.5', ' ', '-3e2'])).toBe('number');
    expect(inferColumnType(['True.', 'false', ''])).toBe('boolean');
    expect(inferColumnType(['Yes', 'No'])).toBe('category');
    expect(inferColumnType(['02134', '10001'])).toBe('category');
    expect(inferColumnType(['', ' '])).toBe('empty');
    expect(parseNumber('007')).toBeUndefined();
    expect(parseNumber('0.5')).toBe(0.5);
  });
});
