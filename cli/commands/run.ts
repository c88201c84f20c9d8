import { type Command, Option } from 'commander';
import { z } from 'zod';
import { JOB_MODES, type JobInput, type JobResult, runJob } from '../../app/job.ts';
import type { JobConfig } from '../../app/jobConfig.ts';
import type { JobDependencies } from '../../app/ports.ts';
import { parseAfterExitConfig } from '../../model/outreach/winBack.ts';
import type { RunSummary } from '../../model/runSummary.ts';
import { parseOptions } from '../../model/validation.ts';
import { withLocalJob } from '../localJob.ts';
import { asOfOption, churnOption, dataDirOption, horizonOption, jsonOption, PointInTimeFlags, pointInTimeOverrides } from '../options.ts';
import { effectSummary } from './outreachEffect.ts';

const RunOptions = PointInTimeFlags.pick({ horizon: true, churn: true }).extend({
  mode: z.enum(JOB_MODES),
  asOf: z.string().optional(),
  runId: z.string().optional(),
  budget: z.coerce.number({ error: '--budget must be a number' }).int().nonnegative().optional(),
  cooldownDays: z.coerce.number({ error: '--cooldown-days must be a number' }).int().nonnegative().optional(),
  controlShare: z.coerce
    .number({ error: '--control-share must be a number' })
    .min(0, '--control-share must be at least 0')
    .lt(1, '--control-share must be below 1')
    .optional(),
  segment: z.coerce.number({ error: '--segment must be a number' }).int().nonnegative().optional(),
  totalSegments: z.coerce.number({ error: '--total-segments must be a number' }).int().positive().optional(),
  redrive: z.boolean().optional(),
  /** JSON of AfterExitConfig: the win-back window, the return horizon, the avoidable mapping. */
  afterExit: z
    .string()
    .optional()
    .transform((json, ctx) => {
      if (json === undefined) return undefined;
      try {
        return parseAfterExitConfig(json);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  json: z.boolean().optional(),
  dataDir: z.string(),
});

/** The job's input, from the flags that were given. */
export const jobInputOf = (
  o: Pick<z.output<typeof RunOptions>, 'mode' | 'asOf' | 'runId' | 'segment' | 'totalSegments'> & { redrive?: boolean | undefined },
): JobInput => ({
  mode: o.mode,
  ...(o.asOf ? { asOf: o.asOf } : {}),
  ...(o.runId ? { runId: o.runId } : {}),
  ...(o.segment === undefined ? {} : { segment: o.segment }),
  ...(o.totalSegments === undefined ? {} : { totalSegments: o.totalSegments }),
  ...(o.redrive ? { redrive: true } : {}),
});

/** Runs the train-and-score job on the local stack; reusable by the demo. */
export async function runLocalJob(
  dataDir: string,
  input: JobInput,
  overrides: Partial<JobConfig> = {},
  log?: JobDependencies['log'],
): Promise<JobResult> {
  return withLocalJob(dataDir, overrides, (deps) => runJob(input, deps), log);
}

/** The human-readable account of a run. */
export function formatRunSummary(summary: RunSummary, keys: { summaryKey: string; scoresKey?: string }): string {
  const lines = [`run ${summary.runId} (${summary.mode}) as of ${summary.asOf}`];
  if (summary.training) {
    const t = summary.training;
    lines.push(
      `  training${t.trainedBecause === 'no-champion' ? ' (no champion yet: this score run trained the first model)' : ''}: ${t.candidateVersion} ${t.promoted ? 'promoted to champion' : 'not promoted'} (${t.reason})`,
      `    ROC AUC ${t.model.rocAuc.toFixed(3)} vs baseline ${t.baseline.rocAuc.toFixed(3)}; backend ${t.backend}`,
    );
  }
  const s = summary.scoring;
  lines.push(
    `  scored ${s.customersScored} customers with ${summary.modelVersion ?? 'no model'}: ${s.bands.high} high, ${s.bands.medium} medium, ${s.bands.low} low risk`,
    `  expected MRR at risk: ${(s.expectedMrrAtRiskCents / 100).toFixed(2)} per month`,
  );
  const o = summary.outreach;
  const playbooks = Object.entries(o.byPlaybook)
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
  lines.push(
    `  outreach: ${o.sent} queued${playbooks ? ` (${playbooks})` : ''}, ${o.skippedCooldown} in cooldown, ${o.skippedBudget} over budget, ${
      o.heldForDunning ? `${o.heldForDunning} held while the payment processor retries, ` : ''
    }${o.failed} failed${o.control ? `, ${o.control} held out as control` : ''}`,
  );
  if (summary.outreachEffect)
    lines.push(`  outreach effect (earlier runs, control vs contacted): ${effectSummary(summary.outreachEffect)}`);
  const exit = summary.afterExit;
  if (exit)
    lines.push(
      `  after exit: ${exit.exitSurveys.sent} exit surveys, ${exit.winBack.sent} win-backs (of ${exit.winBack.candidates}); funnel: ${exit.funnel.contacted} contacted in ${exit.returnHorizonDays} days, ${exit.funnel.reactivated} came back`,
    );
  const flagged = summary.drift.filter((d) => d.flagged);
  lines.push(
    summary.drift.length
      ? `  drift: ${flagged.length} of ${summary.drift.length} features with PSI > 0.2${flagged.length ? `: ${flagged.map((d) => d.feature).join(', ')}` : ''}`
      : '  drift: not measured',
  );
  lines.push(`  summary: ${keys.summaryKey}${keys.scoresKey ? `; scores: ${keys.scoresKey}` : ''}`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run the train-and-score job: features, training, scoring, run summary and outreach selection')
    .addOption(new Option('--mode <mode>', 'what to do').choices([...JOB_MODES]).default('train-and-score'))
    .addOption(asOfOption('point in time to run at'))
    .addOption(horizonOption("churn horizon: what training learns (default 30d, env HORIZON_DAYS); scoring uses the champion's"))
    .addOption(
      churnOption(
        "cancelled | inactive:<days>d: what training learns (default cancelled, env CHURN_DEFINITION); scoring uses the champion's",
      ),
    )
    .option('--run-id <id>', 'run id (default <mode>-<as-of day>: re-running resumes without re-sending)')
    .option('--budget <n>', 'maximum outreach messages of the run (env BUDGET_MAX_MESSAGES, default 100)')
    .option('--cooldown-days <n>', 'days before a customer may be contacted again (env COOLDOWN_DAYS, default 14)')
    .option(
      '--control-share <share>',
      'share of selected customers held out as the control group, 0 turns it off (env OUTREACH_CONTROL_SHARE, default 0.1)',
    )
    .option('--segment <n>', 'score-segment: the Scan segment of this worker')
    .option('--total-segments <n>', 'score-segment: the number of Scan segments; send: Scan segments read in parallel')
    .option(
      '--redrive',
      'before selecting, move the outreach dead-letter queue back to the queue (reconcile runs at the start of every run that sends)',
    )
    .option(
      '--after-exit <json>',
      'after-exit settings as JSON, e.g. \'{"windowMinDays":7,"windowMaxDays":60,"returnHorizonDays":60,"exitReasons":{"other":"avoidable"}}\'',
    )
    .addOption(jsonOption())
    .addOption(dataDirOption())
    .action(async (raw: unknown) => {
      const options = parseOptions(RunOptions, raw, 'options of churnguard run');
      const { summary, summaryKey, scoresKey } = await runLocalJob(options.dataDir, jobInputOf(options), {
        ...pointInTimeOverrides({ horizon: options.horizon, churn: options.churn, segments: undefined }),
        maxMessages: options.budget,
        cooldownDays: options.cooldownDays,
        ...(options.afterExit ? { afterExit: options.afterExit } : {}),
        controlShare: options.controlShare,
      });
      if (options.json) console.log(JSON.stringify({ summaryKey, scoresKey, summary }, null, 2));
      else console.log(formatRunSummary(summary, { summaryKey, ...(scoresKey ? { scoresKey } : {}) }));
    });
}
