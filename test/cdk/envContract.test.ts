import type { SQSEvent } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import { METRICS_NAMESPACE } from '../../cdk/churnguardStack.ts';
import { IngestEnv } from '../../lambdas/ingest/config.ts';
import { OutreachConsumerEnv } from '../../lambdas/outreach/config.ts';
import { StripeEnv } from '../../lambdas/stripe/config.ts';
import { JobEnv } from '../../lambdas/train-score/config.ts';
import { logicalId, type SynthesisedStack, synthStack } from './synthStack.ts';

/**
 * The contract between the stack and the functions: every variable the stack sets is one the
 * function reads and parses, and the functions log and count where the stack says
 * (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE), never where their code would default.
 */

/** Variables the runtime or Powertools read, not the function's own schema. */
const RUNTIME_VARIABLES = new Set(['NODE_OPTIONS', 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE']);

/** A deployed value for a CloudFormation reference: a URL for *_URL, an ARN for *_ARN, a name otherwise. */
function materialise(variable: string, value: unknown): string {
  if (typeof value === 'string') return value;
  const ref = JSON.stringify(value)
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 60);
  if (variable.endsWith('_URL')) return `https://sqs.us-east-1.amazonaws.com/123456789012/${ref}`;
  if (variable.endsWith('_ARN')) return `arn:aws:secretsmanager:us-east-1:123456789012:secret:${ref}`;
  return ref;
}

let synth: SynthesisedStack;
/** The Stripe endpoint and the EventBridge sink turned on: the Stripe function, and the consumer with a bus. */
let integrations: SynthesisedStack;
const environmentOf = (fn: { node: { defaultChild?: unknown } }, from: SynthesisedStack = synth): Record<string, string> => {
  const variables =
    (from.resources[logicalId(from, fn)]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, materialise(name, value)]));
};

beforeAll(() => {
  synth = synthStack({ webhookUrl: 'https://crm.example.com/hooks/churn' });
  integrations = synthStack({ outreachSink: 'eventbridge', stripeIntegration: true, stripeCustomerMetadataKey: 'churnguard_id' });
});

const functions = () =>
  [
    { name: 'ingest', fn: synth.stack.ingest.handler, schema: IngestEnv as z.ZodObject },
    { name: 'outreach', fn: synth.stack.outreach.consumer, schema: OutreachConsumerEnv as z.ZodObject },
    { name: 'train-score', fn: synth.stack.job.function, schema: JobEnv as z.ZodObject },
    { name: 'stripe', fn: integrations.stack.stripe!.handler, schema: StripeEnv as z.ZodObject, from: integrations },
    {
      name: 'outreach (EventBridge sink)',
      fn: integrations.stack.outreach.consumer,
      schema: OutreachConsumerEnv as z.ZodObject,
      from: integrations,
    },
  ] as const;

describe('the environment the stack gives each function', () => {
  it.each(['ingest', 'outreach', 'train-score', 'stripe', 'outreach (EventBridge sink)'])(
    '%s: parses with the function’s own schema, and every variable is one it reads',
    (name) => {
      const entry = functions().find((f) => f.name === name)!;
      const env = environmentOf(entry.fn, 'from' in entry ? entry.from : synth);
      const { schema } = entry;
      // Act
      const parsed = schema.safeParse(env);
      // Assess
      expect(parsed.error?.issues ?? []).toEqual([]);
      const read = new Set(Object.keys(schema.shape));
      expect(Object.keys(env).filter((variable) => !read.has(variable) && !RUNTIME_VARIABLES.has(variable))).toEqual([]);
    },
  );

  it('names each function’s service and one metrics namespace for all of them', () => {
    const envs = functions().map((entry) => ({ name: entry.name, env: environmentOf(entry.fn, 'from' in entry ? entry.from : synth) }));
    for (const { name, env } of envs) expect(env.POWERTOOLS_SERVICE_NAME, name).toMatch(/^churnguard-/);
    expect(new Set(envs.map(({ env }) => env.POWERTOOLS_SERVICE_NAME)).size).toBe(4);
    expect(new Set(envs.map(({ env }) => env.POWERTOOLS_METRICS_NAMESPACE))).toEqual(new Set([METRICS_NAMESPACE]));
  });
});

describe('each deployed handler counts and logs where the stack says', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    vi.restoreAllMocks();
    vi.resetModules();
  });

  /** Runs `invoke` with the function's deployed environment and returns the CloudWatch EMF documents it printed. */
  async function metricsPrinted(
    fn: { node: { defaultChild?: unknown } },
    invoke: () => Promise<unknown>,
    from: SynthesisedStack = synth,
  ): Promise<Array<Record<string, unknown>>> {
    process.env = {
      ...saved,
      ...environmentOf(fn, from),
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_DEV: 'false',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    };
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    await invoke().catch(() => undefined);
    vi.restoreAllMocks();
    return lines
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  const namespaces = (documents: Array<Record<string, unknown>>) =>
    documents.flatMap((d) => (d._aws as { CloudWatchMetrics: Array<{ Namespace: string }> }).CloudWatchMetrics.map((m) => m.Namespace));

  it('ingest: a refused request is counted in the stack’s namespace under its service', async () => {
    const documents = await metricsPrinted(synth.stack.ingest.handler, async () => {
      const { handler } = await import('../../lambdas/ingest/handler.ts');
      return handler({ requestContext: { http: { method: 'GET' } } } as never);
    });
    expect(documents.some((d) => 'RequestsRefused' in d)).toBe(true);
    expect(new Set(namespaces(documents))).toEqual(new Set([METRICS_NAMESPACE]));
    expect(documents.find((d) => 'RequestsRefused' in d)?.service).toBe(environmentOf(synth.stack.ingest.handler).POWERTOOLS_SERVICE_NAME);
  });

  it('outreach: a malformed message is counted as a failed delivery in the stack’s namespace', async () => {
    const event = { Records: [{ messageId: 'm1', body: 'not json', attributes: { ApproximateReceiveCount: '1' } }] } as unknown as SQSEvent;
    const documents = await metricsPrinted(synth.stack.outreach.consumer, async () => {
      const { handler } = await import('../../lambdas/outreach/handler.ts');
      return handler(event);
    });
    expect(documents.find((d) => 'OutreachDeliveryFailed' in d)?.OutreachDeliveryFailed).toBe(1);
    expect(new Set(namespaces(documents))).toEqual(new Set([METRICS_NAMESPACE]));
  });

  it('stripe: an unsigned delivery is refused and counted in the stack’s namespace under its service', async () => {
    const fn = integrations.stack.stripe!.handler;
    const documents = await metricsPrinted(
      fn,
      async () => {
        const { handler } = await import('../../lambdas/stripe/handler.ts');
        return handler({ headers: {}, body: '{}', requestContext: { http: { method: 'POST' } } } as never);
      },
      integrations,
    );
    expect(documents.find((d) => 'StripeDeliveriesRefused' in d)?.service).toBe('churnguard-stripe');
    expect(new Set(namespaces(documents))).toEqual(new Set([METRICS_NAMESPACE]));
  });

  it('train-score: a bad input fails the run and is counted in the stack’s namespace', async () => {
    const documents = await metricsPrinted(synth.stack.job.function, async () => {
      const { handler } = await import('../../lambdas/train-score/handler.ts');
      return handler({ mode: 'sometimes' } as never);
    });
    expect(documents.some((d) => 'UnhandledErrors' in d)).toBe(true);
    expect(new Set(namespaces(documents))).toEqual(new Set([METRICS_NAMESPACE]));
  });
});
