import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity } from '@smithy/types';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { verifySignedRequest } from '../../adapters/http/sigv4.ts';
import { type ApiHandler, type Authorizer, startHttpApi } from '../local/httpApi.ts';
import { dataDirOption, withLocalStack } from '../options.ts';

const ServeOptions = z.object({
  port: z.coerce
    .number({ error: '--port must be a number' })
    .int('--port must be a whole number')
    .min(0, '--port must be 0 to 65535')
    .max(65_535, '--port must be 0 to 65535'),
  dataDir: z.string().min(1),
  auth: z.enum(['none', 'iam']).default('none'),
  region: z.string().min(1).optional(),
});

/**
 * The identity `--auth iam` accepts: this process's own credentials from the default AWS chain,
 * read before the local stack points the SDK at the emulators (whose fixed keys they replace).
 */
async function servingIdentity(): Promise<AwsCredentialIdentity> {
  try {
    return await fromNodeProviderChain()();
  } catch (error) {
    throw new Error(
      `--auth iam needs AWS credentials to verify signatures against, and the default chain has none (${(error as Error).message}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE`,
    );
  }
}

/** Verifies SigV4 signatures like API Gateway's IAM authorization, logging each refusal on stderr. */
const iamAuthorizer =
  (identity: AwsCredentialIdentity, region: string): Authorizer =>
  async (request) => {
    const verdict = await verifySignedRequest(request, { region, identities: [identity] });
    if (!verdict.ok) console.error(`${request.method} ${request.url.pathname} 403 (${verdict.message})`);
    return verdict;
  };

/** Resolves on the first SIGINT or SIGTERM. */
const untilSignal = (): Promise<NodeJS.Signals> =>
  new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

/** Wraps the handler with a one-line access log on stderr. */
const withAccessLog =
  (handler: ApiHandler): ApiHandler =>
  async (event) => {
    const started = performance.now();
    const result = await handler(event);
    let counts = '';
    try {
      const body = JSON.parse(result.body ?? '{}') as {
        accepted?: number;
        received?: boolean;
        stored?: unknown[];
        rejected?: unknown[];
        ignored?: string;
        message?: string;
      };
      // The Stripe route answers { received, stored }, the ingest route { accepted, rejected }.
      const stored = body.received === undefined ? `accepted=${body.accepted ?? 0}` : `stored=${body.stored?.length ?? 0}`;
      const why = body.message ?? body.ignored;
      counts = ` ${stored} rejected=${body.rejected?.length ?? 0}${why ? ` (${why})` : ''}`;
    } catch {
      // Not a JSON answer: the status says enough.
    }
    console.error(
      `${event.requestContext.http.method} ${event.rawPath} ${result.statusCode ?? 200}${counts} ${(performance.now() - started).toFixed(0)} ms`,
    );
    return result;
  };

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the ingest API (POST /events, GET /health, and POST /integrations/stripe when STRIPE_WEBHOOK_SECRET is set) on the local stack, through the Lambda handlers',
    )
    .addOption(new Option('--port <port>', 'TCP port on 127.0.0.1 (0 picks a free one)').default('8787'))
    .addOption(
      new Option('--auth <mode>', 'iam: accept only requests SigV4-signed with the credentials of this process (as API Gateway IAM auth)')
        .choices(['none', 'iam'])
        .default('none'),
    )
    .addOption(new Option('--region <region>', 'the region signatures are scoped to with --auth iam (default AWS_REGION, else us-east-1)'))
    .addOption(dataDirOption())
    .action(async (raw: unknown) => {
      const options = ServeOptions.parse(raw);
      const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
      const authorize = options.auth === 'iam' ? iamAuthorizer(await servingIdentity(), region) : undefined;
      // Locally, EMF metric lines would flood stdout, and info logs belong to the access log.
      process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
      process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
      await withLocalStack(options.dataDir, async (stack) => {
        // Imported after the stack set the environment: the handler reads it when it loads.
        const { handler } = await import('../../lambdas/ingest/handler.ts');
        const routes: Record<string, ApiHandler> = {};
        // Stripe signs with a secret it issues (`stripe listen` prints one): without it the route cannot verify anything.
        if (process.env.STRIPE_WEBHOOK_SECRET) {
          const stripe = await import('../../lambdas/stripe/handler.ts');
          routes['/integrations/stripe'] = withAccessLog((event) => stripe.handler(event));
        }
        const api = await startHttpApi({
          port: options.port,
          handler: withAccessLog((event) => handler(event)),
          routes,
          ...(authorize ? { authorize } : {}),
        });
        const stripeRoute = routes['/integrations/stripe'] !== undefined;
        console.log(`churnguard API listening on ${api.url}`);
        console.error(
          `${stack.external ? 'data in the services the environment names' : `data in ${stack.dataDir}`}${stack.owner || stack.external ? '' : ' (joined the stack of another running process)'}${authorize ? `; IAM auth: SigV4 for execute-api in ${region}` : ''}; POST ${api.url}/events, ${
            stripeRoute ? `POST ${api.url}/integrations/stripe, ` : ''
          }GET ${api.url}/health; Ctrl-C stops${stripeRoute ? '' : ' (set STRIPE_WEBHOOK_SECRET to enable /integrations/stripe)'}`,
        );
        const signal = await untilSignal();
        console.error(`churnguard: ${signal}, shutting down`);
        await api.close();
      });
    });
}
