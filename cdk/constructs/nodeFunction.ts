import type { Duration, Size } from 'aws-cdk-lib';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type ICommandHooks, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';
import { fromRepoRoot } from '../paths.ts';

/** `require`, `__filename` and `__dirname` for the CommonJS code an ESM bundle contains. */
export const ESM_COMMONJS_SHIM = [
  "import { createRequire as __cgCreateRequire } from 'node:module';",
  "import { fileURLToPath as __cgFileURLToPath } from 'node:url';",
  'const require = __cgCreateRequire(import.meta.url);',
  'const __filename = __cgFileURLToPath(import.meta.url);',
  "const __dirname = __cgFileURLToPath(new URL('.', import.meta.url));",
].join(' ');

/** Every zip function: Node.js 22 on Graviton. Tests assert both. */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_22_X;
export const NODE_ARCHITECTURE = lambda.Architecture.ARM_64;

export interface ChurnguardFunctionProps {
  /** Handler file relative to the repository root, e.g. `lambdas/ingest/handler.ts`. */
  readonly entry: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetentionDays: number;
  /** Shell commands run around bundling, e.g. to copy files the bundle loads at run time into the asset. */
  readonly commandHooks?: ICommandHooks;
  /** Local disk for /tmp, when the default 512 MB is not enough. */
  readonly ephemeralStorageSize?: Size;
}

/**
 * A NodejsFunction with the project's defaults: nodejs22.x, arm64, one self-contained ESM bundle built
 * by the local esbuild (no Docker, nothing downloaded), JSON logs into a log group with bounded retention.
 */
export function createNodeFunction(scope: Construct, id: string, props: ChurnguardFunctionProps): NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: retentionFor(props.logRetentionDays),
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const fn = new NodejsFunction(scope, id, {
    entry: fromRepoRoot(props.entry),
    handler: 'handler',
    description: props.description,
    runtime: NODE_RUNTIME,
    architecture: NODE_ARCHITECTURE,
    memorySize: props.memorySize,
    timeout: props.timeout,
    ...(props.ephemeralStorageSize ? { ephemeralStorageSize: props.ephemeralStorageSize } : {}),
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
    depsLockFilePath: fromRepoRoot('package-lock.json'),
    bundling: {
      format: OutputFormat.ESM,
      target: 'node22',
      mainFields: ['module', 'main'],
      sourceMap: true,
      minify: true,
      tsconfig: fromRepoRoot('tsconfig.json'),
      // Bundle the AWS SDK too (NodejsFunction leaves @aws-sdk/* to the runtime's copy by default): the
      // asset is then self-contained, and the SDK that runs in AWS is the lockfile's, the one the tests ran.
      externalModules: [],
      // CommonJS code inside an ESM bundle still calls require() and reads __dirname (the wasm backend's
      // Emscripten loader does, and falls back to the slow CPU backend without it): give it both.
      banner: ESM_COMMONJS_SHIM,
      ...(props.commandHooks ? { commandHooks: props.commandHooks } : {}),
    },
  });
  suppressBasicExecutionRole(fn);
  acknowledge(
    fn,
    'AwsSolutions-L1',
    'Pinned to nodejs22.x on purpose: the project targets Node 22 everywhere (the container job uses the public.ecr.aws/lambda/nodejs:22 base image) so all functions run and are tested on the same runtime; nodejs22.x is a supported AWS runtime.',
  );
  return fn;
}

/** CloudWatch Logs only accepts certain retention periods: round up to the next allowed one, at most ten years. */
export function retentionFor(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays)
    .filter((value): value is logs.RetentionDays => typeof value === 'number' && value > 0 && value !== logs.RetentionDays.INFINITE)
    .sort((a, b) => a - b);
  return allowed.find((value) => value >= days) ?? logs.RetentionDays.TEN_YEARS;
}

/**
 * Lambda's own service-role policy only allows writing the function's logs; the alternative is an
 * inline copy of the same statements. The acknowledgment names the policy exactly.
 */
export function suppressBasicExecutionRole(fn: lambda.Function): void {
  if (fn.role === undefined) return;
  acknowledge(
    fn.role,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'AWSLambdaBasicExecutionRole is the AWS-maintained minimum for a Lambda function: it only grants logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents. All data access is granted separately with scoped statements.',
  );
}
