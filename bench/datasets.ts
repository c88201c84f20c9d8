/** The public churn data sets of the model benchmark (../shared/data), read straight into FeatureMatrix form. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import type { CategoricalColumn, FeatureMatrix, NumericColumn } from '../model/features/matrix.ts';
import { stratifiedSplit } from '../model/nn/random.ts';
import { selectRows } from '../model/nn/rows.ts';

export interface DatasetSpec {
  name: string;
  files: string[];
  idColumn?: string;
  labelColumn: string;
  isChurn: (value: string) => boolean;
  dropColumns: string[];
  /** Test ROC AUC the model must reach; undefined: reported against XGBoost only. */
  target?: number;
  reference: string;
}

/** The shared data sets sit beside the repository (../shared/data); CHURNGUARD_BENCH_DATA points elsewhere. */
export const DATA = process.env.CHURNGUARD_BENCH_DATA ?? fileURLToPath(new URL('../../shared/data', import.meta.url));
export const DATASETS: Record<string, DatasetSpec> = {
  telco: {
    name: 'Telco (IBM)',
    files: [`${DATA}/telco_customer_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv`],
    idColumn: 'customerID',
    labelColumn: 'Churn',
    isChurn: (v) => v === 'Yes',
    dropColumns: [],
    target: 0.845,
    reference: 'GBT ≈0.84, LR ≈0.84',
  },
  orange: {
    name: 'Orange telecom (churn.txt, 3,333 rows)',
    files: [`${DATA}/orange_telecom_churn/churn.txt`],
    idColumn: 'Phone',
    labelColumn: 'Churn_',
    isChurn: (v) => v.startsWith('True'),
    dropColumns: [],
    target: 0.89,
    reference: 'GBT ≈0.89, LR ≈0.80',
  },
  sagemaker: {
    name: 'SageMaker synthetic (churn.txt, 5,000 rows, synthetic)',
    files: [`${DATA}/sagemaker_synthetic_churn/churn.txt`],
    labelColumn: 'Churn?',
    isChurn: (v) => v.startsWith('True'),
    // Not an id: one phone number appears twice in this synthetic file.
    dropColumns: ['Phone'],
    reference: 'no published figure on this split; level with XGBoost is the bar',
  },
};

/** A FeatureMatrix straight from a CSV: all-number columns numeric (blank = missing), others categorical. */
export function matrixFromCsv(spec: DatasetSpec): FeatureMatrix {
  const records = spec.files.flatMap(
    (file) => parse(readFileSync(file), { columns: true, skip_empty_lines: true, trim: false }) as Array<Record<string, string>>,
  );
  const first = records[0];
  if (!first) throw new Error(`${spec.name}: no rows`);
  const names = Object.keys(first).filter((n) => n !== spec.idColumn && n !== spec.labelColumn && !spec.dropColumns.includes(n));
  const isNumeric = (name: string) => records.every((r) => (r[name] ?? '').trim() === '' || Number.isFinite(Number(r[name])));
  const numericNames = names.filter(isNumeric);
  const categoricalNames = names.filter((n) => !isNumeric(n));
  const numericColumns: NumericColumn[] = numericNames.map((name) => ({ kind: 'numeric', name, family: 'profile', description: name }));
  const categoricalColumns: CategoricalColumn[] = categoricalNames.map((name) => ({
    kind: 'categorical',
    name,
    family: 'profile',
    description: name,
    categories: [...new Set(records.map((r) => (r[name] ?? '').trim()).filter((v) => v !== ''))].sort(),
  }));
  const codeOf = categoricalColumns.map((c) => new Map(c.categories.map((v, i) => [v, i])));
  const numeric = new Float64Array(records.length * numericNames.length);
  const categorical = new Int32Array(records.length * categoricalNames.length);
  records.forEach((r, i) => {
    numericNames.forEach((n, j) => {
      const raw = (r[n] ?? '').trim();
      numeric[i * numericNames.length + j] = raw === '' ? Number.NaN : Number(raw);
    });
    categoricalNames.forEach((n, j) => {
      categorical[i * categoricalNames.length + j] = codeOf[j]?.get((r[n] ?? '').trim()) ?? -1;
    });
  });
  return {
    cutoff: '2026-01-01T00:00:00.000Z',
    customerIds: records.map((r, i) => (spec.idColumn ? (r[spec.idColumn] ?? `row-${i}`) : `row-${i}`)),
    numericColumns,
    categoricalColumns,
    numeric,
    categorical,
    labels: Int8Array.from(records, (r) => (spec.isChurn((r[spec.labelColumn] ?? '').trim()) ? 1 : 0)),
    mrrCents: new Float64Array(records.length).fill(Number.NaN),
  };
}

/** The benchmark's fixed split: TEST is a seeded stratified 20% by customer, never used for tuning; the rest is split 80/20 into inner train and inner validation. */
export function benchmarkSplit(
  all: FeatureMatrix,
  seed = 2026,
): { rest: FeatureMatrix; test: FeatureMatrix; innerTrain: FeatureMatrix; innerValidation: FeatureMatrix } {
  const outer = stratifiedSplit(all.labels, 0.2, seed);
  const rest = selectRows(all, outer.keep);
  const inner = stratifiedSplit(rest.labels, 0.2, seed + 1);
  return {
    rest,
    test: selectRows(all, outer.holdout),
    innerTrain: selectRows(rest, inner.keep),
    innerValidation: selectRows(rest, inner.holdout),
  };
}
