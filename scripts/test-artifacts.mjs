// `npm run test:artifacts`: the artifact tier. What ships is what is tested:
//   1. `cdk synth` writes the deployment packages (test-artifacts/cdk.out), with the local esbuild, offline;
//   2. a production install of this tree is made in a copy outside it (`npm ci --omit=dev --offline`, under
//      the system temp folder): only `dependencies`, as a user's `npm ci --omit=dev` gets them;
//   3. the artifact tests (test/artifacts/*.test.ts) run from that copy, on Node's own test runner with
//      tsx (both available without devDependencies), against the synthesized packages.
// A runtime import left in devDependencies therefore fails step 3: the copy cannot load it.
// Needs no network once `npm ci` has filled the npm cache (`unshare -n npm run test:artifacts`).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outputs = path.join(root, 'test-artifacts');
const cdkOut = path.join(outputs, 'cdk.out');
const cdkOutContainer = path.join(outputs, 'cdk.out-container');
// Outside the repository: inside it, Node would find the devDependencies in ../node_modules and hide the fault.
const copy = path.join(os.tmpdir(), 'churnguard-production-install', createHash('sha256').update(root).digest('hex').slice(0, 12));
const tap = path.join(outputs, 'artifacts.tap');
/** The address the synthesized consumer is configured with; the harness maps it to a local receiver. */
const WEBHOOK_URL = 'https://crm.example.com/hooks/churn';

const run = (command, args, options = {}) => {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`test:artifacts: ${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
    process.exit(1);
  }
};

// Under `unshare -n`, the new network namespace's loopback is down, and nothing reaches the emulators on
// 127.0.0.1. Bring it up there; the ordinary namespace has it up already, so nothing changes elsewhere.
const loopback = spawnSync('ip', ['-o', 'link', 'show', 'lo'], { encoding: 'utf8' });
if (loopback.status === 0 && !/[<,]UP[,>]/.test(loopback.stdout)) {
  console.error('test:artifacts: the loopback interface is down (a fresh network namespace): ip link set lo up');
  if (spawnSync('ip', ['link', 'set', 'lo', 'up']).status !== 0) {
    console.error("test:artifacts: could not bring lo up; run: unshare -n sh -c 'ip link set lo up && npm run test:artifacts'");
    process.exit(1);
  }
}

// 1. Synthesize, as `npm run synth` does, with a webhook so the consumer's delivery path is the one tested,
//    and the Stripe endpoint so its function is packaged and tested too.
mkdirSync(outputs, { recursive: true });
rmSync(cdkOut, { recursive: true, force: true });
console.error('test:artifacts: cdk synth →', path.relative(root, cdkOut));
const synth = (outdir, ...context) =>
  run(path.join(root, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--output', outdir, ...context.flatMap((c) => ['-c', c])], {
    cwd: root,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
  });
synth(cdkOut, `webhookUrl=${WEBHOOK_URL}`, 'stripeIntegration=true');
// The opt-in container job: CDK stages its Docker build context (the repository narrowed by .dockerignore).
rmSync(cdkOutContainer, { recursive: true, force: true });
console.error('test:artifacts: cdk synth -c jobPackaging=container →', path.relative(root, cdkOutContainer));
synth(cdkOutContainer, `webhookUrl=${WEBHOOK_URL}`, 'jobPackaging=container');

// 2. The production install: this tree's files (tracked or not, minus what git ignores) and `npm ci --omit=dev`.
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((file) => file.length > 0 && existsSync(path.join(root, file)));
for (const entry of existsSync(copy) ? readdirSync(copy) : []) {
  if (entry !== 'node_modules') rmSync(path.join(copy, entry), { recursive: true, force: true });
}
for (const file of files) cpSync(path.join(root, file), path.join(copy, file), { recursive: true });
const manifestHash = createHash('sha256')
  .update(readFileSync(path.join(root, 'package.json')))
  .update(readFileSync(path.join(root, 'package-lock.json')))
  .digest('hex');
const stamp = path.join(copy, 'node_modules', '.churnguard-install');
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== manifestHash) {
  console.error('test:artifacts: npm ci --omit=dev --offline in', copy);
  rmSync(path.join(copy, 'node_modules'), { recursive: true, force: true });
  run('npm', ['ci', '--omit=dev', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: copy });
  writeFileSync(stamp, manifestHash);
} else {
  console.error('test:artifacts: production install is current (package.json and lockfile unchanged)');
}

// 3. The artifact tests, from the production install.
const tests = readdirSync(path.join(copy, 'test/artifacts'))
  .filter((name) => name.endsWith('.test.ts'))
  .map((name) => path.join('test/artifacts', name));
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...tests,
  ],
  {
    cwd: copy,
    stdio: 'inherit',
    env: {
      ...process.env,
      CHURNGUARD_CDK_OUT: cdkOut,
      CHURNGUARD_CDK_OUT_CONTAINER: cdkOutContainer,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
);
process.exit(result.status ?? 1);
