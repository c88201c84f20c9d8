import { type Command, Option } from 'commander';
import { z } from 'zod';
import { createAwsClients } from '../../adapters/aws/clients.ts';
import { parseEnv } from '../../adapters/aws/env.ts';
import { DynamoEventStore } from '../../adapters/aws/eventStore.ts';
import { DynamoOutreachLedger } from '../../adapters/aws/outreachLedger.ts';
import { resolveAsOf } from '../../app/asOf.ts';
import { measureOutreachEffect } from '../../app/outreachEffect.ts';
import { JobEnv } from '../../lambdas/train-score/config.ts';
import type { OutreachEffectReport, PlaybookEffect } from '../../model/analytics/outreachEffect.ts';
import { parseDuration } from '../../model/features/churnDefinition.ts';
import { parseInstant } from '../../model/features/time.ts';
import { parseOptions } from '../../model/validation.ts';
import { dataDirOption, jsonOption, withLocalStack } from '../options.ts';

const EffectOptions = z.object({
  since: z.string().optional(),
  asOf: z.string().optional(),
  horizon: z.string().optional(),
  json: z.boolean().optional(),
  dataDir: z.string(),
});

const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`);
const points = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} pts`;

/** One line per playbook (and overall): what a retention lead reads. */
export function formatEffectLine(effect: PlaybookEffect): string {
  const { treated, control } = effect;
  const arms = `treated ${treated.resolved} (churn ${pct(treated.churnRate)}), control ${control.resolved} (churn ${pct(control.churnRate)})`;
  const truth = effect.trueUplift === undefined ? '' : `; true ${points(effect.trueUplift)}`;
  if (!effect.shown || effect.uplift === null || effect.interval === null)
    return `${effect.playbook}: ${arms}; not shown yet: ${effect.reason ?? 'not enough outcomes'}${truth}`;
  const [lo, hi] = effect.interval;
  const mrr = effect.savedMrrCentsPerMonth === null ? '' : `, $${(effect.savedMrrCentsPerMonth / 100).toFixed(0)} MRR/month`;
  return `${effect.playbook}: ${arms}; uplift ${points(effect.uplift)} (95% ${points(lo)} to ${points(hi)}), saved ${(effect.savedCustomers ?? 0).toFixed(1)} customers${mrr}${truth}`;
}

export function formatOutreachEffect(report: OutreachEffectReport): string {
  const lines = [
    `outreach effect as of ${report.asOf.slice(0, 10)} (horizon ${report.horizonDays} days; uplift = control churn − treated churn, Newcombe 95% interval; shown with ≥ ${report.rule.minResolvedPerArm} resolved per arm and ≥ ${report.rule.minChurned} churned)`,
  ];
  if (
    report.overall.treated.resolved + report.overall.control.resolved + report.overall.treated.pending + report.overall.control.pending ===
    0
  )
    return `${lines[0]}\nno selections recorded yet`;
  for (const effect of report.playbooks) lines.push(`  ${formatEffectLine(effect)}`);
  lines.push(`  ${formatEffectLine(report.overall)}`);
  const pending = report.overall.treated.pending + report.overall.control.pending;
  if (pending) lines.push(`  ${pending} selection(s) still within their horizon`);
  return lines.join('\n');
}

async function effect(raw: unknown): Promise<void> {
  const o = parseOptions(EffectOptions, raw, 'options of churnguard outreach effect');
  const since = o.since === undefined ? undefined : parseInstant(o.since, '--since');
  const report = await withLocalStack(o.dataDir, async () => {
    const env = parseEnv(JobEnv, process.env);
    const { documents } = createAwsClients();
    const events = new DynamoEventStore(documents, { tableName: env.TABLE_NAME });
    const { asOf } = await resolveAsOf(o.asOf, events);
    const horizonDays = o.horizon === undefined ? env.HORIZON_DAYS : parseDuration(o.horizon);
    const inactivityDays = env.CHURN_DEFINITION.kind === 'inactive' ? env.CHURN_DEFINITION.days : env.PASSIVE_INACTIVITY_DAYS;
    return measureOutreachEffect(
      { outreach: new DynamoOutreachLedger(documents, env.TABLE_NAME), events },
      { asOf, horizonDays, rules: { inactivityDays }, ...(since ? { since } : {}) },
    );
  });
  console.log(o.json ? JSON.stringify(report, null, 2) : formatOutreachEffect(report));
}

/** `outreach effect`: did contacting them help? Treated against control, per playbook. */
export function registerEffectCommand(outreach: Command): void {
  outreach
    .command('effect')
    .description('churn of contacted against held-out customers per playbook, once their horizon has passed: uplift, interval, saves')
    .option('--since <date>', 'only selections made on or after this date')
    .option('--as-of <date>', 'resolve outcomes with the events before this instant (default: just after the latest stored event)')
    .addOption(new Option('--horizon <duration>', 'days after a selection its outcome is read (default env HORIZON_DAYS, 30d)'))
    .addOption(jsonOption())
    .addOption(dataDirOption())
    .action(effect);
}

/** One line for the demo table and `run`: measured uplift per shown playbook, beside the true one when simulated. */
export function effectSummary(effect: OutreachEffectReport): string {
  const pts = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;
  const shown = [...effect.playbooks, effect.overall].filter((p) => p.shown && p.uplift !== null && p.interval !== null);
  if (shown.length === 0) return `not enough resolved outcomes yet (≥ ${effect.rule.minResolvedPerArm} per arm)`;
  return shown
    .map(
      (p) =>
        `${p.playbook} ${pts(p.uplift as number)} pts [${pts((p.interval as [number, number])[0])}, ${pts((p.interval as [number, number])[1])}]${p.trueUplift === undefined ? '' : ` (true ${pts(p.trueUplift)})`}`,
    )
    .join('; ');
}
