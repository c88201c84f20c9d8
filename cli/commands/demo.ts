import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { createAwsClients } from '../../adapters/aws/clients.ts';
import { S3RunStore } from '../../adapters/aws/runStore.ts';
import type { JobResult } from '../../app/job.ts';
import type { ScoreRow } from '../../app/ports.ts';
import { eventStoreFromEnv } from '../../lambdas/ingest/config.ts';
import type { OutreachEffectReport } from '../../model/analytics/outreachEffect.ts';
import {
  type CustomerTruth,
  DEFAULT_SIMULATION_END,
  SIMULATOR_VERSION,
  type SimulationWindow,
  simulateCustomers,
  simulationWindow,
} from '../../model/simulate/index.ts';
import type { DrainResult } from '../local/sqsPoller.ts';
import { dataDirOption, jsonOption, withLocalStack } from '../options.ts';
import { demoTable } from '../report/demoTable.ts';
import { ingestSimulation } from '../report/ingestSimulation.ts';
import { outreachOverTimeStep } from '../report/outreachOverTime.ts';
import { type StackProcess, startStackProcess } from '../report/stackProcess.ts';
import { stepBar } from '../report/stepBar.ts';
import { type ReceivedDelivery, startWebhookReceiver } from '../report/webhookReceiver.ts';
import { type AfterExitDemo, afterExitMessages, feedBackAndFollowUp } from './demoAfterExit.ts';
import { drainLocalOutreach, localWebhookSecret } from './outreach.ts';
import { type WrittenReport, writeReportFile } from './report.ts';

import { runLocalJob } from './run.ts';

export const DemoOptions = z.object({
  customers: z.number().int().positive().default(1000),
  days: z.number().int().min(60, 'days must be at least 60: the job needs a few horizons of history').default(180),
  seed: z.number().int().nonnegative().default(42),
  end: z.string().default(DEFAULT_SIMULATION_END),
  dataDir: z.string().min(1),
  /** Where the HTML report goes (default `<data-dir>/report.html`). */
  reportPath: z.string().optional(),
  /** Outreach budget of the run (messages). */
  budget: z.number().int().nonnegative().optional(),
  /** Show progress bars on stderr (when it is a terminal). */
  progress: z.boolean().default(true),
  /**
   * Scan segments the job reads in parallel (default: the job's, SCAN_SEGMENTS or 4). Customers
   * arrive in whatever order the segments answer; the datasets sort rows by customer, so every
   * segment count trains the same model.
   */
  scanSegments: z.number().int().positive().optional(),
  /** Stop waiting for outreach deliveries after this long. */
  maxDrainMs: z.number().int().positive().default(60_000),
  /** Run the emulators in a child process (faster ingest on two cores); falls back to in-process. */
  stackProcess: z.boolean().default(true),
  /** Weekly outreach runs over the last weeks (0: none), and their control share (large: the demo's business is small). */
  outreachWeeks: z.number().int().nonnegative().default(6),
  controlShare: z.number().min(0).lt(1).default(0.5),
});
export type DemoOptions = z.input<typeof DemoOptions>;

export interface DemoResult {
  window: SimulationWindow;
  ingest: {
    skipped: boolean;
    customers: number;
    events: number;
    accepted: number;
    rejected: number;
    unstored: number;
    elapsedMs: number;
    eventsPerSecond: number | null;
  };
  job: JobResult;
  /** Scored customers at risk (band high or medium), with their playbook. */
  atRisk: ScoreRow[];
  /** How many of them each playbook got. */
  atRiskByPlaybook: Record<string, number>;
  delivery: DrainResult & { verified: number; badSignatures: number; messages: ReceivedDelivery[] };
  report: WrittenReport;
  truth: CustomerTruth[];
  /** Exit surveys and win-back at the window's end, the simulated answers and returns, and the follow-up step. */
  afterExit: AfterExitDemo;
  /** Measured against true effect of the weekly outreach runs, per playbook. */
  outreachEffect?: OutreachEffectReport;
  stepsMs: Record<'ingest' | 'job' | 'delivery' | 'afterExit' | 'outreachOverTime' | 'report', number>;
}

const SimulationMarker = z.object({
  simulatorVersion: z.literal(SIMULATOR_VERSION),
  customers: z.number(),
  days: z.number(),
  seed: z.number(),
  end: z.string(),
  events: z.number(),
  accepted: z.number(),
});

const say = (message: string) => console.error(`churnguard demo: ${message}`);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

/**
 * The whole pipeline on the embedded stack: simulate a business → ingest its events through the
 * ingest path → train, score and select (the job) → deliver outreach through the consumer to a
 * local webhook that verifies signatures → write the HTML report. Running it again on the same
 * data dir continues from the stored state: events already ingested are not re-sent, the run
 * (same run id) reuses its model decision, and no customer gets a second message.
 */
export async function runDemo(input: DemoOptions): Promise<DemoResult> {
  const options = DemoOptions.parse(input);
  const dataDir = path.resolve(options.dataDir);
  const simulation = { customers: options.customers, days: options.days, seed: options.seed, end: options.end };
  const window = simulationWindow(simulation);
  const demoDir = path.join(dataDir, 'demo');
  await mkdir(demoDir, { recursive: true });
  let child: StackProcess | undefined;
  if (options.stackProcess) {
    child = await startStackProcess(dataDir).catch((error: unknown) => {
      say(`${(error as Error).message.split('\n')[0]}; running the stack in this process instead`);
      return undefined;
    });
  }
  try {
    return await runOnStack(options, dataDir, demoDir, simulation, window);
  } finally {
    await child?.stop();
  }
}

async function runOnStack(
  options: z.output<typeof DemoOptions>,
  dataDir: string,
  demoDir: string,
  simulation: { customers: number; days: number; seed: number; end: string },
  window: SimulationWindow,
): Promise<DemoResult> {
  return withLocalStack(dataDir, async () => {
    const [ingest, ingestMs] = await timed(() => ingestStep(simulation, demoDir, options.progress));
    // The job also runs the after-exit step (exit surveys, win-back) after the at-risk selection.
    const [job, jobMs] = await timed(() => jobStep(dataDir, window, options.budget, options.scanSegments, options.progress));
    const first = job.summary.afterExit as NonNullable<typeof job.summary.afterExit>;
    const deliver = (expected: number) => deliveryStep(dataDir, expected, options.maxDrainMs, options.progress);
    const [delivery, deliveryMs] = await timed(() => deliver(job.summary.outreach.sent + first.exitSurveys.sent + first.winBack.sent));
    const [afterExit, afterExitMs] = await timed(() =>
      feedBackAndFollowUp({
        dataDir,
        seed: options.seed,
        sentAt: window.end,
        truth: ingest.truth,
        delivered: afterExitMessages(delivery.messages),
        first,
        budget: options.budget,
        deliver,
      }),
    );
    const weeks = options.outreachWeeks;
    const [overTime, overTimeMs] = await timed(async () =>
      weeks ? outreachOverTimeStep(dataDir, simulation, { ...options, weeks }) : undefined,
    );
    const reported = {
      ...job.summary,
      afterExit: afterExit.demo.followUp,
      ...(overTime ? { outreachEffect: overTime.effect } : {}),
    };
    const [report, reportMs] = await timed(() => writeReportFile(reported, options.reportPath ?? path.join(dataDir, 'report.html')));
    const atRiskRows = await atRisk(job);
    const atRiskByPlaybook: Record<string, number> = {};
    for (const row of atRiskRows) atRiskByPlaybook[row.playbook] = (atRiskByPlaybook[row.playbook] ?? 0) + 1;
    return {
      window,
      ingest: ingest.summary,
      job,
      atRisk: atRiskRows,
      atRiskByPlaybook,
      delivery,
      report,
      truth: ingest.truth,
      afterExit: afterExit.demo,
      ...(overTime ? { outreachEffect: overTime.effect } : {}),
      stepsMs: {
        ingest: ingestMs,
        job: jobMs,
        delivery: deliveryMs,
        afterExit: afterExitMs,
        outreachOverTime: overTimeMs,
        report: reportMs,
      },
    };
  });
}

async function ingestStep(simulation: { customers: number; days: number; seed: number; end: string }, demoDir: string, progress: boolean) {
  const markerFile = path.join(demoDir, 'simulation.json');
  const truthFile = path.join(demoDir, 'truth.json');
  const previous = SimulationMarker.safeParse(JSON.parse(await readFile(markerFile, 'utf8').catch(() => 'null')));
  if (
    previous.success &&
    previous.data.customers === simulation.customers &&
    previous.data.days === simulation.days &&
    previous.data.seed === simulation.seed &&
    previous.data.end === simulation.end
  ) {
    say(`the same simulated business is already stored (${previous.data.events.toLocaleString('en-US')} events): continuing from it`);
    const truth = JSON.parse(await readFile(truthFile, 'utf8')) as CustomerTruth[];
    return {
      truth,
      summary: {
        skipped: true,
        customers: simulation.customers,
        events: previous.data.events,
        accepted: previous.data.accepted,
        rejected: 0,
        unstored: 0,
        elapsedMs: 0,
        eventsPerSecond: null,
      },
    };
  }
  say(`simulating ${simulation.customers.toLocaleString('en-US')} customers over ${simulation.days} days and ingesting their events`);
  const bar = stepBar(progress, 'ingest   [{bar}] {percentage}% | {value}/{total} customers | {events} events', simulation.customers, {
    events: 0,
  });
  const result = await ingestSimulation(simulateCustomers(simulation), eventStoreFromEnv(), {
    onProgress: (p) => bar.update(p.customers, { events: p.accepted.toLocaleString('en-US') }),
  });
  bar.update(simulation.customers, { events: result.accepted.toLocaleString('en-US') });
  bar.stop();
  if (result.rejected > 0 || result.unstored > 0) {
    throw new Error(
      `ingest rejected ${result.rejected} and could not store ${result.unstored} of ${result.events} simulated events; nothing was trained`,
    );
  }
  await writeFile(truthFile, JSON.stringify(result.truth));
  await writeFile(
    markerFile,
    JSON.stringify({ simulatorVersion: SIMULATOR_VERSION, ...simulation, events: result.events, accepted: result.accepted }),
  );
  const eventsPerSecond = result.accepted / (result.elapsedMs / 1000);
  say(
    `ingested ${result.accepted.toLocaleString('en-US')} events in ${(result.elapsedMs / 1000).toFixed(1)} s (${Math.round(eventsPerSecond).toLocaleString('en-US')} events/s)`,
  );
  const { truth, ...summary } = result;
  return { truth, summary: { skipped: false, ...summary, eventsPerSecond } };
}

async function jobStep(
  dataDir: string,
  window: SimulationWindow,
  budget: number | undefined,
  scanSegments: number | undefined,
  progress: boolean,
): Promise<JobResult> {
  say(`training and scoring as of ${window.end.slice(0, 10)}`);
  const bar = stepBar(progress, 'job      [{bar}] {duration_formatted} | {status}', 1, { status: 'starting' });
  try {
    return await runLocalJob(
      dataDir,
      { mode: 'train-and-score', asOf: window.end, ...(scanSegments === undefined ? {} : { totalSegments: scanSegments }) },
      { maxMessages: budget },
      (message) => bar.update(0, { status: message.slice(0, 70) }),
    );
  } finally {
    bar.update(1, { status: 'done' });
    bar.stop();
  }
}

async function deliveryStep(dataDir: string, expected: number, maxWaitMs: number, progress: boolean): Promise<DemoResult['delivery']> {
  const secret = await localWebhookSecret(dataDir);
  const bar = stepBar(progress, 'outreach [{bar}] {value}/{total} messages delivered', expected);
  const receiver = await startWebhookReceiver(secret, () => bar.update(receiver.delivered.length));
  say(`delivering outreach to a local webhook at ${receiver.url} (signatures verified)`);
  try {
    const drained = await drainLocalOutreach({ dataDir, webhookUrl: receiver.url, maxWaitMs, log: (message) => say(message) });
    const dedupIds = new Set(receiver.delivered.map((d) => d.dedupId));
    return { ...drained, verified: dedupIds.size, badSignatures: receiver.badSignatures, messages: receiver.delivered };
  } finally {
    bar.stop();
    await receiver.close();
  }
}

/** The scored customers at risk (band high or medium), from the run's scores snapshot. */
async function atRisk(job: JobResult): Promise<ScoreRow[]> {
  if (!job.scoresKey) return [];
  const { s3 } = createAwsClients();
  const rows = await new S3RunStore(s3, z.string().parse(process.env.BUCKET_NAME)).getScores(job.scoresKey);
  return rows.filter((row) => row.band !== 'low');
}

const count = (what: string, min: number) => (value: string) => {
  const parsed = z.coerce.number().int().min(min).safeParse(value);
  if (!parsed.success) throw new Error(`${what} must be a whole number ≥ ${min}, got "${value}"`);
  return parsed.data;
};

export function register(program: Command): void {
  program
    .command('demo')
    .description('the whole pipeline on the embedded stack: simulate → ingest → train → score → outreach → report')
    .addOption(new Option('--customers <n>', 'simulated customers').argParser(count('--customers', 1)).default(1000))
    .addOption(new Option('--days <n>', 'days of history').argParser(count('--days', 60)).default(180))
    .addOption(new Option('--seed <n>', 'random seed of the simulation').argParser(count('--seed', 0)).default(42))
    .addOption(new Option('--budget <n>', 'outreach budget of the run (messages)').argParser(count('--budget', 0)))
    .option('--report <file>', 'where to write the HTML report (default <data-dir>/report.html)')
    .option('--in-process', 'run the emulators in this process (default: a child process, faster ingest)')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(
      async (opts: {
        customers: number;
        days: number;
        seed: number;
        budget?: number;
        report?: string;
        inProcess?: boolean;
        dataDir: string;
        json?: boolean;
      }) => {
        const result = await runDemo({
          stackProcess: !opts.inProcess,
          customers: opts.customers,
          days: opts.days,
          seed: opts.seed,
          dataDir: opts.dataDir,
          ...(opts.budget === undefined ? {} : { budget: opts.budget }),
          ...(opts.report ? { reportPath: opts.report } : {}),
        });
        if (opts.json) {
          const { truth: _truth, atRisk: _atRisk, delivery, job, ...rest } = result;
          const { messages: _messages, ...deliveryCounts } = delivery;
          console.log(JSON.stringify({ ...rest, delivery: deliveryCounts, summary: job.summary }, null, 2));
        } else {
          console.log(demoTable(result));
        }
      },
    );
}
