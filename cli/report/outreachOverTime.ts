import { scoringQuestion } from '../../app/modelDefinition.ts';
import { resolveSelections } from '../../app/outreachEffect.ts';
import type { JobDependencies } from '../../app/ports.ts';
import { scoreWithPlaybooks } from '../../app/scoreCustomers.ts';
import { estimateOutreachEffect, type OutreachEffectReport, type ResolvedSelection } from '../../model/analytics/outreachEffect.ts';
import { rankForOutreach } from '../../model/outreach/selection.ts';
import { type SimulationOptions, simulatedCustomerIndex } from '../../model/simulate/index.ts';
import { type HistoryBefore, runOutreachExperiment } from '../../model/simulate/outreachExperiment.ts';

const DAY_MS = 86_400_000;

export interface OutreachOverTime {
  /** The runs' as-of dates. */
  runs: string[];
  selections: number;
  effect: OutreachEffectReport;
}

/**
 * The demo's weeks of outreach: weekly scoring runs with the champion over the last weeks of the
 * simulated window, each ending a horizon before the window's end so every outcome resolves. Each
 * run ranks the customers as the job does (risk × MRR above the cost threshold, the playbook their
 * drivers call for), holds out the control group (playbook × band), contacts the rest up to the
 * budget, and the simulator lives the contacted customers' weeks again with the playbook's true
 * effect. The effect is then measured as `outreach effect` measures the ledger, beside the truth.
 * Runs in memory, on the simulator's customers (the stored events stay the untreated business).
 */
export async function outreachOverTime(
  deps: JobDependencies,
  simulation: SimulationOptions & { end: string },
  options: { weeks: number; controlShare: number; budget: number },
): Promise<OutreachOverTime> {
  const champion = await deps.registry.loadChampion();
  if (!champion) throw new Error('no champion model to score the weekly runs with');
  try {
    const question = scoringQuestion(champion, deps.config);
    const endMs = Date.parse(simulation.end);
    const lastRunMs = endMs - question.horizonDays * DAY_MS;
    const runs = Array.from({ length: options.weeks }, (_, w) => new Date(lastRunMs - (options.weeks - 1 - w) * 7 * DAY_MS).toISOString());
    const select = async (histories: readonly HistoryBefore[], asOf: string) => {
      const matrix = await deps.buildScoringMatrix(
        (async function* () {
          yield* histories;
        })(),
        asOf,
        question,
      );
      const scored = scoreWithPlaybooks(champion, matrix);
      const { ranked } = rankForOutreach(scored, { threshold: champion.threshold, unknownMrrValueCents: deps.config.unknownMrrValueCents });
      return ranked.map(({ customer }) => ({ customerId: customer.customerId, playbook: customer.playbook, band: customer.band }));
    };
    const experiment = await runOutreachExperiment({
      simulation,
      runs,
      horizonDays: question.horizonDays,
      cooldownDays: deps.config.cooldownDays,
      controlShare: options.controlShare,
      budget: options.budget,
      select,
    });
    const asOf = new Date(endMs).toISOString();
    const rules = { inactivityDays: question.churn.kind === 'inactive' ? question.churn.days : deps.config.passiveInactivityDays };
    const resolved: ResolvedSelection[] = experiment.selections.flatMap((s) =>
      resolveSelections(
        [{ ...s, dedupId: `${s.runId}:${s.customerId}`, status: s.arm === 'control' ? 'control' : 'delivered' }],
        experiment.customers[simulatedCustomerIndex(s.customerId)]?.events ?? [],
        { asOf, horizonDays: question.horizonDays, rules },
      ),
    );
    return {
      runs,
      selections: resolved.length,
      effect: estimateOutreachEffect(resolved, { asOf, horizonDays: question.horizonDays, trueUplift: experiment.trueUplift }),
    };
  } finally {
    champion.dispose();
  }
}

/** The demo's step: the weekly runs on the local stack's champion, with the job's settings. */
export async function outreachOverTimeStep(
  dataDir: string,
  simulation: SimulationOptions & { end: string },
  options: { weeks: number; controlShare: number; budget?: number | undefined },
): Promise<OutreachOverTime> {
  const { withLocalJob } = await import('../localJob.ts');
  console.error(`churnguard demo: ${options.weeks} weekly outreach runs with a ${Math.round(options.controlShare * 100)}% control group`);
  return withLocalJob(dataDir, {}, (deps) =>
    outreachOverTime(deps, simulation, {
      weeks: options.weeks,
      controlShare: options.controlShare,
      budget: options.budget ?? deps.config.maxMessages,
    }),
  );
}

/** The demo table's line (shared with `run` and `outreach effect`). */
export { effectSummary } from '../commands/outreachEffect.ts';
