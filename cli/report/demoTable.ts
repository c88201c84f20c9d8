import Table from 'cli-table3';
import type { DemoResult } from '../commands/demo.ts';
import type { AfterExitDemo } from '../commands/demoAfterExit.ts';
import { effectSummary } from './outreachOverTime.ts';

/** Which model the run made champion, in the words of the summary table. */
const trainingDecision = (t: { promoted: boolean; candidateVersion: string; kind?: 'mlp' | 'logistic' | undefined }): string => {
  if (!t.promoted) return 'not promoted: the champion stays';
  // The summary says which kind was promoted (older summaries: the baseline's version ends in -lr).
  return (t.kind ?? (t.candidateVersion.endsWith('-lr') ? 'logistic' : 'mlp')) === 'logistic'
    ? 'the MLP did not beat it: baseline promoted'
    : 'MLP promoted';
};

const afterExitLine = ({ first, followUp, responses }: AfterExitDemo): string =>
  `${first.exitSurveys.sent} exit surveys (${responses.exitSurveyAnswers} answered), ${first.winBack.sent + followUp.winBack.sent} win-backs; ` +
  `${followUp.funnel.reactivated} of ${followUp.funnel.contacted} contacted came back`;

/** The closing table of the demo. */
export function demoTable(result: DemoResult): string {
  // Plain borders when piped: colour codes are noise in a log file.
  const style = process.stdout.isTTY ? { head: ['cyan'] } : { head: [], border: [] };
  const table = new Table({ head: ['', 'result'], style, wordWrap: true, colWidths: [26, 64] });
  const { summary } = result.job;
  const t = summary.training;
  const fmt = (n: number) => n.toLocaleString('en-US');
  table.push(
    ['business', `${fmt(result.ingest.customers)} customers, ${result.window.start.slice(0, 10)} → ${result.window.end.slice(0, 10)}`],
    [
      'events ingested',
      result.ingest.skipped
        ? `${fmt(result.ingest.events)} (stored by an earlier run: not re-sent)`
        : `${fmt(result.ingest.accepted)} in ${(result.ingest.elapsedMs / 1000).toFixed(1)} s = ${fmt(Math.round(result.ingest.eventsPerSecond ?? 0))} events/s`,
    ],
    [
      'model ROC AUC',
      t
        ? `${t.model.rocAuc.toFixed(3)} vs logistic baseline ${t.baseline.rocAuc.toFixed(3)} (${trainingDecision(t)}, ${t.backend})`
        : 'no training this run',
    ],
    [
      'customers scored',
      `${fmt(summary.scoring.customersScored)}: ${summary.scoring.bands.high} high, ${summary.scoring.bands.medium} medium risk`,
    ],
    [
      'at risk by playbook',
      Object.entries(result.atRiskByPlaybook)
        .sort((a, b) => b[1] - a[1])
        .map(([p, n]) => `${p} ${n}`)
        .join(', ') || 'none',
    ],
    [
      'expected MRR at risk',
      `$${(summary.scoring.expectedMrrAtRiskCents / 100).toLocaleString('en-US', { maximumFractionDigits: 0 })} per month`,
    ],
    [
      'messages delivered',
      `${result.delivery.verified} this run, signature verified: ${summary.outreach.sent} at-risk (run ${summary.runId}${summary.outreach.control ? `, ${summary.outreach.control} more held out as control` : ''}) and ${result.afterExit.first.exitSurveys.sent + result.afterExit.first.winBack.sent} after exit; ${result.delivery.badSignatures} bad signatures; ${result.delivery.failedAttempts} retried`,
    ],
    ['after exit', afterExitLine(result.afterExit)],
    ...(result.outreachEffect ? [['outreach effect', effectSummary(result.outreachEffect)]] : []),
    ['report', result.report.path],
    [
      'took',
      `ingest ${(result.stepsMs.ingest / 1000).toFixed(1)} s, job ${(result.stepsMs.job / 1000).toFixed(1)} s, outreach ${(result.stepsMs.delivery / 1000).toFixed(1)} s, after exit ${(result.stepsMs.afterExit / 1000).toFixed(1)} s, weekly runs ${(result.stepsMs.outreachOverTime / 1000).toFixed(1)} s`,
    ],
  );
  return table.toString();
}
