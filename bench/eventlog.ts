/**
 * Quality bar of churnguard on an event log (issue 17): the CDNOW purchase log, beside RFM peers.
 *
 *   npm run bench:eventlog
 *
 * The protocol is the README's CDNOW walkthrough: the purchases imported with `--value
 * dollar_value --property cds=number_of_cds --shift-years 28`; `train --as-of 2025-10-01 --horizon
 * 90d --churn inactive:90d` (1997-10-01 before the shift); `score --as-of 2025-10-01`; the scores
 * compared with who bought nothing in the next 90 days. Training sees no event at or after the
 * as-of (rows at past cutoffs, labels known before it); only the comparison looks beyond it.
 *
 * Peers, trained in the same run on the same customers, cutoffs and labels (bench/rfmPeers.ts):
 * logistic regression and XGBoost (ml-xgboost: XGBoost compiled to WebAssembly) on 14 RFM
 * features of the same purchases, their settings chosen on the newest labelled cutoff after
 * training on the older ones, then refitted on every labelled cutoff; and recency alone.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_JOB_CONFIG } from '../app/jobConfig.ts';
import { formatChurnDefinition } from '../model/features/churnDefinition.ts';
import { buildDatasets, buildFeatureMatrix } from '../model/features/datasets.ts';
import { groupHistories, streamHistories } from '../model/features/history.ts';
import type { FeatureMatrix } from '../model/features/matrix.ts';
import { parseDelimited } from '../model/import/delimited.ts';
import { planEventLogImport } from '../model/import/eventLogImport.ts';
import { initBackend } from '../model/nn/backend.ts';
import { ChurnModel } from '../model/nn/churnModel.ts';
import { prAuc, rocAuc } from '../model/nn/metrics.ts';
import { trainChurnModel } from '../model/nn/trainChurnModel.ts';
import { assignBands } from '../model/outreach/bands.ts';
import { decidePromotion } from '../model/registry/promotion.ts';
import { DATA } from './datasets.ts';
import { gradientBoostedTrees } from './gradientBoostedTrees.ts';
import { fitLogisticRegression, RFM_FEATURES, rfmMatrix, stackRows } from './rfmPeers.ts';

const { values } = parseArgs({ options: { gbt: { type: 'string' } } });
const FILE = `${DATA}/cdnow_transactions/CDNOW_master.txt`;
/** 1997-10-01, 28 years on: 39 weeks of history before it, 39 weeks of outcomes after. */
const AS_OF = '2025-10-01T00:00:00.000Z';
const HORIZON_DAYS = 90;
const CHURN = { kind: 'inactive', days: 90 } as const;
/** The product's defaults (app/jobConfig.ts): the same seed and costs as `churnguard train`. */
const SEED = 42;
const COSTS = { costLostCustomer: 500, costIntervention: 50 };

const fmt = (n: number, digits = 4) => n.toFixed(digits);
const log = (m: string) => console.error(`  [cdnow] ${m}`);

const started = performance.now();
const plan = planEventLogImport(parseDelimited(readFileSync(FILE, 'utf8')), {
  customerColumn: 'customer_id',
  timeColumn: 'date',
  valueColumn: 'dollar_value',
  measureColumns: [{ name: 'cds', column: 'number_of_cds' }],
  shiftYears: 28,
});
if (plan.problems.length > 0) throw new Error(`CDNOW import: ${plan.problems.length} rows refused, e.g. ${plan.problems[0]?.message}`);
const histories = groupHistories(plan.events);
const backend = await initBackend();

// churnguard, as `train --as-of` and `score --as-of` run it.
const datasets = await buildDatasets(streamHistories(histories), { asOf: AS_OF, horizonDays: HORIZON_DAYS, churn: CHURN });
const result = await trainChurnModel(datasets.train, datasets.validation, { seed: SEED, ...COSTS, asOf: AS_OF, log });
const verdict = await decidePromotion(
  {
    mlp: { version: result.model.version, model: result.model, metrics: result.metrics },
    baselineMetrics: result.baselineMetrics,
    baseline: result.baseline,
    validation: result.validation,
  },
  undefined,
);
const champion = verdict.winner === 'logistic' ? await ChurnModel.fromArtifacts(result.baseline) : result.model;
// The score command's matrix; its labels are what happened in the 90 days after the as-of.
const scoring = await buildFeatureMatrix(streamHistories(histories), AS_OF, { horizonDays: HORIZON_DAYS, churn: CHURN });
const labels = scoring.labels;
if (labels.some((l) => l < 0)) throw new Error('outcomes after the as-of should be known for every scored customer');
const risk = champion.predict(scoring);
const churnguardSeconds = (performance.now() - started) / 1000;

// Peers on RFM features of the same purchases, same customers, cutoffs and labels.
const labelledCutoffs = [...datasets.cutoffs.training, datasets.cutoffs.validation];
const rfmAt = (cutoff: string, knownUntil: string) => rfmMatrix(histories, cutoff, { churn: CHURN, horizonDays: HORIZON_DAYS, knownUntil });
const nonEmpty = (m: FeatureMatrix) => m.customerIds.length > 0;
const older = stackRows(datasets.cutoffs.training.map((c) => rfmAt(c, AS_OF)).filter(nonEmpty));
const newest = rfmAt(datasets.cutoffs.validation, AS_OF);
const allLabelled = stackRows([older, newest]);
const test = rfmAt(AS_OF, '2100-01-01T00:00:00.000Z');
if (test.customerIds.join() !== scoring.customerIds.join()) throw new Error('the peers must score the same customers as churnguard');
let chosenL2 = 0;
let bestAuc = -1;
for (const l2 of [1e-4, 1e-3, 1e-2, 1e-1]) {
  const auc = rocAuc(newest.labels, fitLogisticRegression(older, l2)(newest));
  if (auc > bestAuc) [bestAuc, chosenL2] = [auc, l2];
}
const lrRisk = fitLogisticRegression(allLabelled, chosenL2)(test);
const gbt = values.gbt === 'false' ? undefined : await gradientBoostedTrees(older, newest, test, 2026, { refitOn: allLabelled });
const recency = Float64Array.from(test.customerIds, (_, r) => test.numeric[r * RFM_FEATURES.length] as number);

const churners = labels.reduce((n, y) => n + y, 0);
const rows = [
  { name: `churnguard (${verdict.winner === 'logistic' ? 'logistic baseline' : 'MLP'} promoted)`, scores: risk },
  { name: `logistic regression on ${RFM_FEATURES.length} RFM features (L2 ${chosenL2})`, scores: lrRisk },
  ...(gbt
    ? [
        {
          name: `XGBoost (ml-xgboost, wasm) on the same features (depth ${gbt.params.maxDepth}, ${gbt.params.rounds} rounds)`,
          scores: Float64Array.from(gbt.testRisk),
        },
      ]
    : []),
  { name: 'recency alone (days since the last purchase)', scores: recency },
].map((r) => ({ ...r, roc: rocAuc(labels, r.scores), pr: prAuc(labels, r.scores) }));

console.log(
  `\nCDNOW (${plan.counts.imported} purchases of ${plan.counts.customers} customers): as of ${AS_OF.slice(0, 10)}, horizon ${HORIZON_DAYS}d, churn ${formatChurnDefinition(CHURN)}; backend ${backend}`,
);
console.log(
  `  churnguard: trained on ${result.model.metadata.training.trainRows} rows, ${result.model.metadata.preprocessing.inputs.length} inputs from ${datasets.train.numericColumns.length} numeric columns; cutoffs ${labelledCutoffs.map((c) => c.slice(0, 10)).join(', ')}; validation ROC AUC MLP ${fmt(result.metrics.rocAuc)} vs baseline ${fmt(result.baselineMetrics.rocAuc)}: ${verdict.reason}`,
);
console.log(
  `  champion ${champion.version}; scored ${scoring.customerIds.length} customers active at the as-of; ${churners} bought nothing in the next ${HORIZON_DAYS} days`,
);
// Bands under the default budget (app/jobConfig.ts), as `score` bands them.
const banded = assignBands(champion.score(scoring), { threshold: champion.threshold, reach: DEFAULT_JOB_CONFIG.maxMessages });
const bandLine = banded.guide
  .map((g) => {
    const rows = banded.customers.flatMap((c, r) => (c.band === g.band ? [labels[r] as number] : []));
    const rate = rows.length === 0 ? Number.NaN : rows.reduce((n, y) => n + y, 0) / rows.length;
    return `${g.band} ${g.customers} (${fmt((100 * g.customers) / scoring.customerIds.length, 1)}%, churned ${fmt(100 * rate, 1)}%)`;
  })
  .join(', ');
console.log(`  bands (threshold ${fmt(champion.threshold, 3)}, budget ${DEFAULT_JOB_CONFIG.maxMessages}): ${bandLine}`);
console.log('');
for (const r of rows) console.log(`  ${r.name.padEnd(92)} ROC AUC ${fmt(r.roc)}  PR AUC ${fmt(r.pr)}`);
const [ours, ...peers] = rows;
const bestPeer = peers.filter((p) => !p.name.startsWith('recency')).reduce((a, b) => (b.roc > a.roc ? b : a));
if (!ours) throw new Error('no churnguard row');
console.log(
  `\n  churnguard / best peer (${bestPeer.name.split(' on ')[0]}) ROC AUC ratio ${fmt(ours.roc / bestPeer.roc, 3)}; / recency alone ${fmt(ours.roc / (rows[rows.length - 1]?.roc ?? Number.NaN), 3)}`,
);
console.log(
  `  churnguard (import, features, training, scoring) ${fmt(churnguardSeconds, 1)} s; XGBoost grid ${fmt((gbt?.trainingMs ?? 0) / 1000, 1)} s`,
);
console.log(`  ${ours.roc >= bestPeer.roc ? 'PASS' : 'MISS'} churnguard ROC AUC ${fmt(ours.roc)} ≥ best peer ${fmt(bestPeer.roc)}`);
champion.dispose();
if (champion !== result.model) result.model.dispose();
