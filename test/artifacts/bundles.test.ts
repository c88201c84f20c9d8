import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { readCloudAssembly } from './harness/cloudAssembly.ts';

/**
 * What each deployment package holds: within Lambda's size limit, the job's WebAssembly binaries
 * beside its bundle, and code only from packages a production install has (`dependencies`): a
 * bundle that needed a devDependency would build here and break the next time someone trims them.
 */

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const CDK_OUT = path.resolve(process.env.CHURNGUARD_CDK_OUT ?? path.join(REPO_ROOT, 'cdk.out'));
/** Lambda's limit on a function's unzipped code. */
const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

const assembly = readCloudAssembly(CDK_OUT);

const folderBytes = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce(
    (sum, entry) => sum + (entry.isDirectory() ? folderBytes(path.join(dir, entry.name)) : statSync(path.join(dir, entry.name)).size),
    0,
  );

/** Package names of the node_modules files a bundle was built from (its source map lists them). */
function bundledPackages(assetDir: string): Set<string> {
  const map = z.object({ sources: z.array(z.string()) }).parse(JSON.parse(readFileSync(path.join(assetDir, 'index.mjs.map'), 'utf8')));
  const packages = new Set<string>();
  for (const source of map.sources) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(source.slice(source.lastIndexOf('node_modules/')));
    if (match?.[1]) packages.add(match[1]);
  }
  return packages;
}

/** Packages `npm ci --omit=dev` installs: the lockfile's entries not marked dev. */
function productionPackages(): Set<string> {
  const lock = z
    .object({ packages: z.record(z.string(), z.object({ dev: z.boolean().optional() })) })
    .parse(JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')));
  return new Set(
    Object.entries(lock.packages)
      .filter(([key, entry]) => key.startsWith('node_modules/') && entry.dev !== true)
      .map(([key]) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)),
  );
}

describe('the deployment packages', () => {
  it('are four zip functions (ingest, Stripe, consumer, job), each under Lambda’s 250 MB unzipped', () => {
    assert.equal(assembly.functions.length, 4);
    for (const fn of assembly.functions) {
      const bytes = folderBytes(fn.assetDir);
      console.error(`${fn.constructPath}: ${(bytes / 1024 / 1024).toFixed(1)} MB unzipped`);
      assert.ok(bytes < LAMBDA_UNZIPPED_LIMIT_BYTES, `${fn.constructPath}: ${bytes} bytes`);
    }
  });

  it('the job carries the WebAssembly backend’s binaries beside its bundle', () => {
    const job = assembly.functions.find((fn) => fn.constructPath.startsWith('Churnguard/TrainScoreJob/'));
    assert.ok(job);
    const files = readdirSync(job.assetDir);
    for (const file of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
      assert.ok(files.includes(file), `${file} in ${files}`);
    }
  });

  it('bundle code only from packages a production install has', () => {
    const production = productionPackages();
    for (const fn of assembly.functions) {
      const bundled = bundledPackages(fn.assetDir);
      assert.ok(bundled.size > 0, `${fn.constructPath} lists its packages in its source map`);
      const devOnly = [...bundled].filter((name) => !production.has(name));
      assert.deepEqual(devOnly, [], `${fn.constructPath} bundles devDependencies: ${devOnly.join(', ')}`);
    }
  });
});
