import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Command } from 'commander';
import { z } from 'zod';
import { createAwsClients } from '../../adapters/aws/clients.ts';
import { parseEnv } from '../../adapters/aws/env.ts';
import { newWebhookSecret, parseWebhookSecrets } from '../../adapters/webhook/webhookSignature.ts';
import { consumerFromEnv, OutreachConsumerEnv } from '../../lambdas/outreach/config.ts';
import { VISIBILITY_TIMEOUT_FACTOR } from '../local/localResources.ts';
import { type DrainResult, drainOutreach, type PeekedMessage, peekQueue } from '../local/sqsPoller.ts';
import { dataDirOption, jsonOption, withLocalStack } from '../options.ts';
import { registerEffectCommand } from './outreachEffect.ts';
import { registerLedgerCommands } from './outreachLedger.ts';

const SECRET_FILE = 'webhook-secret';

/** `60s`, `2m`, `500ms` or a number of seconds → milliseconds. */
export function parseWait(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new Error(`--max-wait must look like 60s, 2m or 500ms, got "${text}"`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return Math.round(value * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000));
}

/**
 * The local webhook signing secrets: OUTREACH_WEBHOOK_SECRET (whitespace-separated, the signing
 * one first), else `<data-dir>/webhook-secret` (mode 0600, one secret a line), generated once as a
 * Standard Webhooks secret (`whsec_…`), so a receiver can verify signatures across runs. Add the new
 * secret as the first line to rotate: both sign until the old line is removed.
 */
export async function localWebhookSecrets(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  if (env.OUTREACH_WEBHOOK_SECRET) return parseWebhookSecrets(env.OUTREACH_WEBHOOK_SECRET, 'OUTREACH_WEBHOOK_SECRET');
  const file = path.join(path.resolve(dataDir), SECRET_FILE);
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing) return parseWebhookSecrets(existing, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await writeFile(file, `${newWebhookSecret()}\n`, { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  await chmod(file, 0o600);
  return parseWebhookSecrets(await readFile(file, 'utf8'), file);
}

/** The secret a local receiver verifies with: the signing (first) one. */
export async function localWebhookSecret(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return (await localWebhookSecrets(dataDir, env))[0] as string;
}

export interface LocalDrainOptions {
  dataDir: string;
  webhookUrl?: string;
  maxWaitMs?: number;
  log?: (message: string) => void;
}

/**
 * Drains the local outreach queue through the consumer Lambda handler (webhook when given, else
 * a dry run). Reusable by the demo.
 */
export async function drainLocalOutreach(options: LocalDrainOptions): Promise<DrainResult & { sink: 'webhook' | 'dry-run' }> {
  return withLocalStack(options.dataDir, async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (options.webhookUrl) {
      env.OUTREACH_WEBHOOK_URL = options.webhookUrl;
      env.OUTREACH_WEBHOOK_SECRET = (await localWebhookSecrets(options.dataDir)).join(' ');
      delete env.OUTREACH_WEBHOOK_SECRET_ARN;
    }
    const queueUrl = z.string().min(1).parse(env.OUTREACH_QUEUE_URL);
    const logger = new Logger({
      serviceName: 'churnguard-outreach',
      logLevel: process.env.POWERTOOLS_LOG_LEVEL === 'SILENT' ? 'SILENT' : 'WARN',
    });
    const consumer = consumerFromEnv(env, logger, (entry) =>
      options.log?.(`dry run: would deliver ${String(entry.dedupId)} (${String(entry.playbook)}, risk ${Number(entry.risk).toFixed(3)})`),
    );
    const { OUTREACH_WEBHOOK_TIMEOUT_MS } = parseEnv(OutreachConsumerEnv, env);
    const result = await drainOutreach({
      sqs: createAwsClients().sqs,
      queueUrl,
      consumer,
      visibilityTimeoutSeconds: Math.ceil((VISIBILITY_TIMEOUT_FACTOR * OUTREACH_WEBHOOK_TIMEOUT_MS) / 1000),
      ...(options.maxWaitMs === undefined ? {} : { maxWaitMs: options.maxWaitMs }),
      ...(options.log ? { log: options.log } : {}),
    });
    return { ...result, sink: env.OUTREACH_WEBHOOK_URL ? 'webhook' : 'dry-run' };
  });
}

/** Lists the waiting messages of the local queue (each peek counts as one receive). */
export async function peekLocalOutreach(dataDir: string): Promise<PeekedMessage[]> {
  return withLocalStack(dataDir, async () => peekQueue(createAwsClients().sqs, z.string().min(1).parse(process.env.OUTREACH_QUEUE_URL)));
}

const ConsumeOptions = z.object({ webhook: z.url().optional(), json: z.boolean().optional(), maxWait: z.string(), dataDir: z.string() });
const PeekOptions = z.object({ json: z.boolean().optional(), dataDir: z.string() });

export function register(program: Command): void {
  const outreach = program
    .command('outreach')
    .description('outreach delivery: deliver the queue, see the ledger, reconcile, and handle the dead-letter queue');
  outreach
    .command('consume')
    .description('drain the outreach queue through the consumer (signed webhook, or a log-only dry run)')
    .option('--webhook <url>', 'deliver to this HTTPS/HTTP webhook (env OUTREACH_WEBHOOK_URL)')
    .option('--max-wait <duration>', 'stop after this long even if messages are still being retried', '60s')
    .addOption(jsonOption())
    .addOption(dataDirOption())
    .action(async (raw: unknown) => {
      const options = ConsumeOptions.parse(raw);
      const webhookUrl = options.webhook ?? process.env.OUTREACH_WEBHOOK_URL;
      const result = await drainLocalOutreach({
        dataDir: options.dataDir,
        ...(webhookUrl ? { webhookUrl } : {}),
        maxWaitMs: parseWait(options.maxWait),
        log: (message) => console.error(`churnguard: ${message}`),
      });
      if (options.json) console.log(JSON.stringify(result, null, 2));
      else {
        console.log(
          `${result.sink === 'webhook' ? 'delivered' : 'dry run (no webhook), logged'} ${result.delivered} messages; ${result.failedAttempts} failed attempts retried` +
            (result.timedOut
              ? `; stopped after ${Math.round(result.elapsedMs / 1000)} s with ${result.remaining} still queued`
              : '; queue empty'),
        );
        if (result.sink === 'webhook')
          console.log(`signature secret: ${path.join(path.resolve(options.dataDir), SECRET_FILE)} (or OUTREACH_WEBHOOK_SECRET)`);
      }
    });
  outreach
    .command('peek')
    .description('show messages waiting in the outreach queue without consuming them (counts as one receive each)')
    .addOption(jsonOption())
    .addOption(dataDirOption())
    .action(async (raw: unknown) => {
      const options = PeekOptions.parse(raw);
      const messages = await peekLocalOutreach(options.dataDir);
      if (options.json) {
        console.log(JSON.stringify(messages, null, 2));
        return;
      }
      if (messages.length === 0) console.log('the outreach queue is empty');
      for (const m of messages) {
        const body = m.body as { customerId?: string; risk?: number; playbook?: string; dedupId?: string };
        console.log(
          typeof body === 'object' && body !== null
            ? `${body.dedupId ?? m.messageId}  risk ${body.risk?.toFixed(3) ?? '?'}  ${body.playbook ?? '?'}  (received ${m.receiveCount}×)`
            : `${m.messageId}  ${String(m.body).slice(0, 80)}  (received ${m.receiveCount}×)`,
        );
      }
    });
  registerLedgerCommands(outreach);
  registerEffectCommand(outreach);
}
