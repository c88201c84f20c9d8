/**
 * The MLP against its logistic baseline on simulated businesses (issue 15: "the MLP keeps beating
 * or tying its baseline on the simulated business"): several sizes and seeds, since one business
 * is one draw. Each is trained as the job trains (rolling-origin cutoffs, the newest labelled one
 * validates, final fit, the baseline blended in at the share validation picks) and compared on
 * validation ROC AUC (2-fold cross-fitted, the figures `train` prints).
 *
 *   npm run bench:simulated-model
 *   npm run bench:simulated-model -- --sizes 1000 --seeds 1,2,3,4,5
 *
 * Baseline, in the same run: the logistic regression trained beside each MLP.
 */
import { parseArgs } from 'node:util';
import { buildDatasets } from '../model/features/datasets.ts';
import { streamHistories } from '../model/features/history.ts';
import { initBackend } from '../model/nn/backend.ts';
import { trainChurnModel } from '../model/nn/trainChurnModel.ts';
import { simulateBusiness } from '../model/simulate/index.ts';

const { values: args } = parseArgs({
  options: { sizes: { type: 'string', default: '300,1000,3000' }, seeds: { type: 'string', default: '1,2,3' } },
});

await initBackend(() => {});
const rows: Array<{ customers: number; seed: number; mlp: number; baseline: number; share: number; ms: number }> = [];
for (const customers of args.sizes.split(',').map(Number)) {
  for (const seed of args.seeds.split(',').map(Number)) {
    const business = simulateBusiness({ customers, days: 180, seed });
    const byCustomer = new Map<string, typeof business.events>();
    for (const event of business.events) byCustomer.set(event.customerId, [...(byCustomer.get(event.customerId) ?? []), event]);
    const histories = [...byCustomer].map(([customerId, events]) => ({ customerId, events }));
    const datasets = await buildDatasets(streamHistories(histories), {
      asOf: business.window.end,
      horizonDays: 30,
      churn: { kind: 'cancelled' },
    });
    const result = await trainChurnModel(datasets.train, datasets.validation, { seed });
    const row = {
      customers,
      seed,
      mlp: result.metrics.rocAuc,
      baseline: result.baselineMetrics.rocAuc,
      share: result.model.metadata.training.baselineShare ?? 0,
      ms: result.trainingMs,
    };
    rows.push(row);
    result.model.dispose();
    console.log(
      `${customers} customers, seed ${seed}: MLP ROC AUC ${row.mlp.toFixed(4)} (baseline share ${row.share}) vs baseline ${row.baseline.toFixed(4)}, difference ${(row.mlp - row.baseline).toFixed(4)}; trained in ${(row.ms / 1000).toFixed(1)} s`,
    );
  }
}
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const differences = rows.map((r) => r.mlp - r.baseline);
const sd = Math.sqrt(mean(differences.map((d) => (d - mean(differences)) ** 2)) * (rows.length / Math.max(1, rows.length - 1)));
console.log(
  `\n${rows.length} businesses: MLP ${mean(rows.map((r) => r.mlp)).toFixed(4)} vs baseline ${mean(rows.map((r) => r.baseline)).toFixed(4)} (mean validation ROC AUC); MLP ahead in ${differences.filter((d) => d > 0).length}, level in ${differences.filter((d) => d === 0).length}, behind in ${differences.filter((d) => d < 0).length}; mean difference ${mean(differences).toFixed(4)} ± ${((1.96 * sd) / Math.sqrt(rows.length)).toFixed(4)} (95%, normal approximation over businesses)`,
);
