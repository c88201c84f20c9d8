import { OUTREACH_STATES, type OutreachLedger, type OutreachRecord, type OutreachState } from './ports.ts';

export type StateCounts = Record<OutreachState, number>;

/** One run's outreach, by state and by playbook. */
export interface RunOutreachStatus {
  runId: string;
  total: number;
  byState: StateCounts;
  byPlaybook: Record<string, StateCounts>;
}

/** One record as `outreach status --json` lists it (no message body). */
export type OutreachStatusRecord = Omit<OutreachRecord, 'body'>;

export interface OutreachStatusReport {
  runs: RunOutreachStatus[];
  totals: StateCounts;
  records: OutreachStatusRecord[];
  /** Messages in the dead-letter queue, when it could be read. */
  deadLetters?: number;
}

const zero = (): StateCounts => Object.fromEntries(OUTREACH_STATES.map((s) => [s, 0])) as StateCounts;

/**
 * Every outreach of the ledger (or of one run), counted by state per run and playbook: what was
 * delivered, what is still on its way, what failed and why. `outreach status` prints it.
 */
export async function outreachStatus(
  ledger: Pick<OutreachLedger, 'records'>,
  options: { runId?: string; deadLetters?: () => Promise<number> } = {},
): Promise<OutreachStatusReport> {
  const records = await ledger.records(options.runId === undefined ? {} : { runId: options.runId });
  const runs = new Map<string, RunOutreachStatus>();
  const totals = zero();
  for (const record of records) {
    const state: OutreachState = OUTREACH_STATES.includes(record.status) ? record.status : 'queued';
    const run =
      runs.get(record.runId) ??
      runs.set(record.runId, { runId: record.runId, total: 0, byState: zero(), byPlaybook: {} }).get(record.runId)!;
    run.total++;
    run.byState[state]++;
    const playbook = record.playbook ?? 'unknown';
    run.byPlaybook[playbook] ??= zero();
    run.byPlaybook[playbook][state]++;
    totals[state]++;
  }
  const report: OutreachStatusReport = {
    runs: [...runs.values()].sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0)),
    totals,
    records: records
      .map(({ body: _body, ...record }) => record)
      .sort((a, b) => (a.runId === b.runId ? (a.customerId < b.customerId ? -1 : 1) : a.runId < b.runId ? -1 : 1)),
  };
  if (options.deadLetters) {
    try {
      report.deadLetters = await options.deadLetters();
    } catch {
      // no DLQ to read: the ledger is the report
    }
  }
  return report;
}
