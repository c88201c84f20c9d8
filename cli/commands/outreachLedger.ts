import type { Command } from 'commander';
import { z } from 'zod';
import { createAwsClients } from '../../adapters/aws/clients.ts';
import { SqsDeadLetterQueue } from '../../adapters/aws/deadLetterQueue.ts';
import { parseEnv } from '../../adapters/aws/env.ts';
import { DynamoOutreachLedger } from '../../adapters/aws/outreachLedger.ts';
import { SqsOutreachQueue } from '../../adapters/aws/outreachQueue.ts';
import { outreachStatus, type StateCounts } from '../../app/outreachStatus.ts';
import type { DeadLetter } from '../../app/ports.ts';
import { type ReconcileResult, reconcileOutreach } from '../../app/reconcile.ts';
import { JobEnv } from '../../lambdas/train-score/config.ts';
import { parseOptions } from '../../model/validation.ts';
import { say } from '../localJob.ts';
import { dataDirOption, jsonOption, withLocalStack } from '../options.ts';
import { parseWait } from './outreach.ts';

/** The ledger, the queue and the DLQ of the stack this process points at. */
function outreachParts() {
  const env = parseEnv(JobEnv, process.env);
  const { documents, sqs } = createAwsClients();
  return {
    env,
    ledger: new DynamoOutreachLedger(documents, env.TABLE_NAME),
    queue: new SqsOutreachQueue(sqs, env.OUTREACH_QUEUE_URL),
    deadLetters: new SqsDeadLetterQueue(sqs, env.OUTREACH_QUEUE_URL),
  };
}

const counts = (c: StateCounts) =>
  `${c.delivered} delivered, ${c.queued} queued, ${c.claimed} claimed, ${c.failed} failed${c.control ? `, ${c.control} held out (control)` : ''}`;

const StatusOptions = z.object({ run: z.string().min(1).optional(), json: z.boolean().optional(), dataDir: z.string() });
const ReconcileOptions = z.object({
  olderThan: z.string().optional(),
  maxSends: z.coerce.number({ error: '--max-sends must be a number' }).int().positive().optional(),
  redrive: z.boolean().optional(),
  json: z.boolean().optional(),
  dataDir: z.string(),
});
const DlqOptions = z.object({ json: z.boolean().optional(), dataDir: z.string() });
const RedriveOptions = z.object({ maxWait: z.string(), json: z.boolean().optional(), dataDir: z.string() });

async function status(raw: unknown): Promise<void> {
  const o = parseOptions(StatusOptions, raw, 'options of churnguard outreach status');
  const report = await withLocalStack(o.dataDir, async () => {
    const { ledger, deadLetters } = outreachParts();
    return outreachStatus(ledger, { ...(o.run ? { runId: o.run } : {}), deadLetters: () => deadLetters.depth() });
  });
  if (o.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  if (report.runs.length === 0) console.log(o.run ? `no outreach recorded for run ${o.run}` : 'no outreach recorded yet');
  for (const run of report.runs) {
    console.log(`run ${run.runId}: ${run.total} outreach: ${counts(run.byState)}`);
    for (const [playbook, c] of Object.entries(run.byPlaybook)) console.log(`  ${playbook}: ${counts(c)}`);
  }
  for (const r of report.records.filter((record) => record.status === 'failed'))
    console.log(`failed: ${r.dedupId}: ${r.failureReason ?? r.lastError ?? 'no reason recorded'}`);
  if (report.deadLetters !== undefined)
    console.log(
      `dead-letter queue: ${report.deadLetters} message(s)${report.deadLetters ? ' (churnguard outreach dlq / outreach redrive)' : ''}`,
    );
}

export function formatReconcile(result: ReconcileResult): string {
  const redrive = result.redrive
    ? `; redrive ${result.redrive.status}: ${result.redrive.moved} of ${result.redrive.toMove} moved back`
    : '';
  return (
    `reconciled ${result.open} open outreach: ${result.resent} sent again, ${result.failed} marked failed, ` +
    `${result.released} claims released, ${result.settled} already settled, ${result.waiting} still waiting` +
    `${result.deadLetters === undefined ? '' : `; ${result.deadLetters} in the dead-letter queue`}${redrive}`
  );
}

async function reconcile(raw: unknown): Promise<void> {
  const o = parseOptions(ReconcileOptions, raw, 'options of churnguard outreach reconcile');
  const result = await withLocalStack(o.dataDir, async () => {
    const { env, ledger, queue, deadLetters } = outreachParts();
    return reconcileOutreach(
      { outreach: ledger, queue, deadLetters, now: () => new Date(), log: say },
      {
        resendAfterMs: o.olderThan === undefined ? env.OUTREACH_RESEND_AFTER_SECONDS * 1000 : parseWait(o.olderThan),
        maxSends: o.maxSends ?? env.OUTREACH_MAX_SENDS,
        redrive: o.redrive ?? false,
      },
    );
  });
  console.log(o.json ? JSON.stringify(result, null, 2) : formatReconcile(result));
}

async function dlq(raw: unknown): Promise<void> {
  const o = parseOptions(DlqOptions, raw, 'options of churnguard outreach dlq');
  const letters = await withLocalStack(o.dataDir, async () => {
    const { ledger, deadLetters } = outreachParts();
    const peeked = await deadLetters.peek();
    return Promise.all(
      peeked.map(async (letter: DeadLetter) => {
        const record = letter.customerId && letter.runId ? await ledger.get(letter.customerId, letter.runId) : undefined;
        return { ...letter, ledgerStatus: record?.status ?? null, lastError: record?.lastError ?? null };
      }),
    );
  });
  if (o.json) {
    console.log(JSON.stringify(letters, null, 2));
    return;
  }
  if (letters.length === 0) console.log('the dead-letter queue is empty');
  for (const l of letters)
    console.log(
      `${l.dedupId ?? l.messageId}  ledger: ${l.ledgerStatus ?? 'no record'}  (received ${l.receiveCount}×)${l.lastError ? `  last error: ${l.lastError}` : ''}${l.dedupId ? '' : `  ${l.body.slice(0, 80)}`}`,
    );
  if (letters.length) console.log('send them back with: churnguard outreach redrive');
}

async function redrive(raw: unknown): Promise<void> {
  const o = parseOptions(RedriveOptions, raw, 'options of churnguard outreach redrive');
  const result = await withLocalStack(o.dataDir, async () => {
    const { deadLetters } = outreachParts();
    const waiting = await deadLetters.depth();
    if (waiting === 0) return { status: 'NOTHING_TO_MOVE', moved: 0, toMove: 0 };
    return deadLetters.redrive({ maxWaitMs: parseWait(o.maxWait) });
  });
  if (o.json) console.log(JSON.stringify(result, null, 2));
  else
    console.log(
      result.status === 'NOTHING_TO_MOVE'
        ? 'the dead-letter queue is empty: nothing to redrive'
        : `redrive ${result.status.toLowerCase()}: ${result.moved} of ${result.toMove} message(s) moved back to the outreach queue (deliver them with churnguard outreach consume)`,
    );
}

/** `outreach status`, `reconcile`, `dlq`, `redrive`: the delivery ledger and the dead-letter queue. */
export function registerLedgerCommands(outreach: Command): void {
  outreach
    .command('status')
    .description('every outreach by state (claimed, queued, delivered, failed, control), per run and playbook, and the DLQ depth')
    .option('--run <id>', 'only this run')
    .addOption(jsonOption())
    .addOption(dataDirOption())
    .action(status);
  outreach
    .command('reconcile')
    .description(
      'send again what stayed open too long (same dedupId), mark failed what ran out of sends; also run at the start of every job run',
    )
    .option(
      '--older-than <duration>',
      're-send an outreach open this long after its last send (default env OUTREACH_RESEND_AFTER_SECONDS, 60m)',
    )
    .option('--max-sends <n>', 'sends at most, then mark failed (default env OUTREACH_MAX_SENDS, 3)')
    .option('--redrive', 'also move the dead-letter queue back to the outreach queue first')
    .addOption(jsonOption())
    .addOption(dataDirOption())
    .action(reconcile);
  outreach
    .command('dlq')
    .description('show the messages in the dead-letter queue with their ledger state, without consuming them')
    .addOption(jsonOption())
    .addOption(dataDirOption())
    .action(dlq);
  outreach
    .command('redrive')
    .description("move every dead-letter message back to the outreach queue (SQS's message-move API)")
    .option('--max-wait <duration>', 'wait this long at most for the move task to finish', '60s')
    .addOption(jsonOption())
    .addOption(dataDirOption())
    .action(redrive);
}
