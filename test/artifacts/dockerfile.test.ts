import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DynamoEventStore } from '../../adapters/aws/eventStore.ts';
import { LOCAL_RESOURCES } from '../../cli/local/localResources.ts';
import type { JobAnswer } from '../../lambdas/train-score/handler.ts';
import { RunSummary } from '../../model/runSummary.ts';
import { simulateBusiness } from '../../model/simulate/index.ts';
import { readCloudAssembly } from './harness/cloudAssembly.ts';
import { type LambdaInstance, startFunction } from './harness/lambdaHarness.ts';
import { type LocalCloud, startLocalCloud } from './harness/localCloud.ts';

/**
 * The opt-in container job, checked without Docker: its Dockerfile's COPY and RUN steps are
 * replayed in a staging folder, from the build context CDK staged for the image (the repository as
 * .dockerignore narrows it), and the handler is started from the final stage's task root, as the
 * Lambda base image's CMD names it. Two steps cannot run here and are reported, not hidden: the
 * base image's `dnf` packages (a different OS), and the tfjs-node check, which fails where
 * libtensorflow cannot be downloaded; the job then runs on the WebAssembly backend.
 */

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const CDK_OUT = path.resolve(process.env.CHURNGUARD_CDK_OUT_CONTAINER ?? path.join(REPO_ROOT, 'cdk.out'));

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** The Dockerfile's instructions, with `\` continuations joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') start = index + 1;
    pending += `${line.replace(/\\$/, '').trim()} `;
    if (line.endsWith('\\')) return;
    const [keyword = '', ...rest] = pending.trim().split(/\s+/);
    instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: start });
    pending = '';
  });
  return instructions;
}

interface Stage {
  name: string | undefined;
  root: string;
  workdir: string;
  env: Record<string, string>;
}

interface Replay {
  staging: string;
  taskRoot: string;
  handler: string;
  env: Record<string, string>;
  skipped: string[];
  failedChecks: Array<{ command: string; output: string }>;
}

/**
 * The staging folder: one fixed place, emptied at the start of a run rather than the end. The build
 * stage holds a full `npm ci` (~450 MB of small files); deleting it takes minutes on a busy disk, so
 * the previous run's folder is moved aside and deleted in the background.
 */
function freshStagingFolder(): string {
  const staging = path.join(os.tmpdir(), 'churnguard-image-replay');
  if (existsSync(staging)) {
    const aside = `${staging}-old-${process.pid}-${Date.now()}`;
    renameSync(staging, aside);
    spawn('rm', ['-rf', aside], { detached: true, stdio: 'ignore' }).unref();
  }
  mkdirSync(staging, { recursive: true });
  return staging;
}

/** Replays `dockerfile` with `context` as the build context into a fresh staging folder. */
function replay(context: string, dockerfile: string): Replay {
  const staging = freshStagingFolder();
  const stages: Stage[] = [];
  const skipped: string[] = [];
  const failedChecks: Replay['failedChecks'] = [];
  let handler = '';
  const taskRoot = path.join(staging, 'final', 'var', 'task');
  // The Lambda base image's own variables.
  const baseEnv = { LAMBDA_TASK_ROOT: '/var/task' };
  const expand = (value: string, stage: Stage) =>
    value.replace(/\$\{?([A-Z_]+)\}?/g, (match, name: string) => stage.env[name] ?? baseEnv[name as keyof typeof baseEnv] ?? match);
  const inStage = (stage: Stage, target: string) =>
    path.join(stage.root, path.isAbsolute(target) ? target : path.join(stage.workdir, target));

  for (const { keyword, args, line } of parseDockerfile(readFileSync(path.join(context, dockerfile), 'utf8'))) {
    const stage = stages.at(-1);
    if (keyword === 'FROM') {
      const name = /\bAS\s+(\S+)/i.exec(args)?.[1];
      const root = name ? path.join(staging, name) : path.join(staging, 'final');
      mkdirSync(root, { recursive: true });
      stages.push({ name, root, workdir: '/', env: { ...baseEnv } });
      continue;
    }
    assert.ok(stage, `line ${line}: ${keyword} before FROM`);
    if (keyword === 'WORKDIR') {
      stage.workdir = path.resolve(stage.workdir, expand(args, stage));
      mkdirSync(inStage(stage, '.'), { recursive: true });
    } else if (keyword === 'ENV') {
      for (const [, name, value] of args.matchAll(/(\w+)=(\S+)/g)) stage.env[name as string] = value as string;
    } else if (keyword === 'COPY') {
      const parts = args.split(/\s+/);
      const from = parts.find((part) => part.startsWith('--from='))?.slice('--from='.length);
      const paths = parts.filter((part) => !part.startsWith('--')).map((part) => expand(part, stage));
      const destination = paths.pop() as string;
      const source = from ? stages.find((candidate) => candidate.name === from) : undefined;
      if (from) assert.ok(source, `line ${line}: no stage ${from}`);
      for (const item of paths) {
        const origin = source ? path.join(source.root, item) : path.join(context, item);
        assert.ok(existsSync(origin), `line ${line}: COPY ${item}: not in the ${source ? `stage ${from}` : 'build context'}`);
        const target = inStage(stage, destination);
        const intoFolder = destination.endsWith('/') || paths.length > 1;
        const resolved = intoFolder && !readdirSyncSafe(origin) ? path.join(target, path.basename(item)) : target;
        cpSync(origin, resolved, { recursive: true });
      }
    } else if (keyword === 'RUN') {
      if (/^dnf\s/.test(args)) {
        skipped.push(`line ${line}: ${args} (the base image's OS packages)`);
        continue;
      }
      const started = Date.now();
      const result = spawnSync('sh', ['-c', args], {
        cwd: inStage(stage, '.'),
        env: { ...process.env, ...stage.env, npm_config_offline: 'true', npm_config_loglevel: 'error' },
        encoding: 'utf8',
      });
      const output = `${result.stdout}${result.stderr}`;
      console.error(`replay line ${line}: RUN ${args.slice(0, 60)}: ${Date.now() - started} ms, exit ${result.status}`);
      if (result.status !== 0 && /tfjs-node/.test(args)) failedChecks.push({ command: args, output });
      else assert.equal(result.status, 0, `line ${line}: RUN ${args}\n${output}`);
    } else if (keyword === 'CMD') {
      handler = (JSON.parse(args) as string[])[0] as string;
    }
  }
  const final = stages.at(-1) as Stage;
  return { staging, taskRoot, handler, env: final.env, skipped, failedChecks };
}

/** A folder's entries, or undefined for a file. */
function readdirSyncSafe(file: string): string[] | undefined {
  try {
    return readdirSync(file);
  } catch {
    return undefined;
  }
}

const assembly = readCloudAssembly(CDK_OUT);
const image = assembly.images.find((candidate) => candidate.constructPath.startsWith('Churnguard/TrainScoreJob/'));
let built: Replay;
let cloud: LocalCloud;
let job: LambdaInstance;

before(() => {
  assert.ok(image, `the assembly in ${CDK_OUT} has the job as a container image (synthesize with -c jobPackaging=container)`);
  built = replay(image.contextDir, image.dockerFile);
});

after(async () => {
  await job?.stop();
  await cloud?.close();
});

describe('the container job’s Dockerfile, replayed without Docker', () => {
  it('builds a task root holding the handler and only the TF.js packages: no emulator, CLI library or tsx rides in', () => {
    assert.equal(built.handler, 'handler.handler');
    assert.ok(existsSync(path.join(built.taskRoot, 'handler.mjs')));
    const packages = readdirSync(path.join(built.taskRoot, 'node_modules'));
    for (const absent of ['dynalite', 's3rver', 'local-aws-sqs', 'tsx', 'commander', 'cli-table3', 'vega', 'aws-cdk-lib', 'vitest']) {
      assert.ok(!packages.includes(absent), `${absent} is in the image`);
    }
    assert.ok(readdirSync(path.join(built.taskRoot, 'node_modules/@tensorflow')).includes('tfjs-backend-wasm'));
    console.error(`skipped: ${built.skipped.join('; ')}`);
  });

  it('reports the tfjs-node check as the only failing step, and only where tfjs-node could not install', () => {
    const installed = existsSync(path.join(built.taskRoot, 'node_modules/@tensorflow/tfjs-node'));
    if (installed) assert.deepEqual(built.failedChecks, []);
    else {
      assert.equal(built.failedChecks.length, 1);
      assert.match(built.failedChecks[0]?.output ?? '', /Cannot find module '@tensorflow\/tfjs-node'/);
    }
  });

  it('starts the handler from the task root and runs a train-and-score job on the backend it has', async () => {
    assert.ok(image);
    cloud = await startLocalCloud(assembly.template);
    const business = simulateBusiness({ customers: 150, days: 90, seed: 11 });
    const { failed } = await new DynamoEventStore(cloud.clients.documents, { tableName: LOCAL_RESOURCES.tableName }).putEvents(
      business.events,
    );
    assert.deepEqual(failed, []);
    job = await startFunction(
      {
        logicalId: image.logicalId,
        constructPath: image.constructPath,
        handler: built.handler,
        runtime: 'nodejs22.x',
        memorySize: image.memorySize,
        timeoutSeconds: image.timeoutSeconds,
        architecture: 'x86_64',
        environment: image.environment,
        assetDir: built.taskRoot,
      },
      { ...cloud.environmentFor(image.environment), ...built.env },
    );
    const { result, error, durationMs } = await job.invoke<JobAnswer>({ mode: 'train-and-score', asOf: business.window.end });
    assert.equal(error, undefined, JSON.stringify(error));
    const backendLine = job.logs.find((line) => line.includes('TF.js backend'));
    console.error(`container job: ${Math.round(durationMs)} ms; ${backendLine ? JSON.parse(backendLine).message : 'no backend line'}`);
    const object = await cloud.clients.s3.send(new GetObjectCommand({ Bucket: LOCAL_RESOURCES.bucketName, Key: result?.summaryKey }));
    const summary = RunSummary.parse(JSON.parse(await (object.Body?.transformToString() ?? Promise.resolve('null'))));
    const expected = existsSync(path.join(built.taskRoot, 'node_modules/@tensorflow/tfjs-node')) ? 'tensorflow' : 'wasm';
    assert.equal(summary.training?.backend, expected);
    assert.ok(summary.scoring.customersScored > 0);
  });
});
