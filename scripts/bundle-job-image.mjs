// Builds the container job's task root (lambdas/train-score/Dockerfile runs it): the handler as one ESM
// file, and beside it a node_modules holding only the TF.js packages and what they need at run time.
// TF.js stays outside the bundle because @tensorflow/tfjs-node is a native addon that registers its
// backend on the @tensorflow/tfjs it requires itself: the handler must import that same copy. The
// emulators, tsx and the CLI libraries are never copied, whatever package.json lists.
//   node scripts/bundle-job-image.mjs <out-dir>
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const out = path.resolve(process.argv[2] ?? 'dist');
const root = process.cwd();
/** Packages the handler loads from node_modules; tfjs-node is absent where its native download failed. */
const RUNTIME_PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node'];

await build({
  entryPoints: [path.join(root, 'lambdas/train-score/handler.ts')],
  outfile: path.join(out, 'handler.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  mainFields: ['module', 'main'],
  sourcemap: true,
  external: ['@tensorflow/*'],
  banner: {
    js: [
      "import { createRequire as __cgCreateRequire } from 'node:module';",
      "import { fileURLToPath as __cgFileURLToPath } from 'node:url';",
      'const require = __cgCreateRequire(import.meta.url);',
      'const __filename = __cgFileURLToPath(import.meta.url);',
      "const __dirname = __cgFileURLToPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
  logLevel: 'warning',
});

/** Where Node would find `name` when required from `fromDir`: the nearest node_modules up to the root. */
function locate(name, fromDir) {
  for (let dir = fromDir; dir.startsWith(root); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root) break;
  }
  return undefined;
}

const copied = new Set();
function copyWithDependencies(packageDir) {
  if (copied.has(packageDir)) return;
  copied.add(packageDir);
  cpSync(packageDir, path.join(out, path.relative(root, packageDir)), { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
  const names = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies, ...manifest.peerDependencies });
  for (const name of names) {
    const found = locate(name, packageDir);
    if (found) copyWithDependencies(found);
  }
}

mkdirSync(out, { recursive: true });
for (const name of RUNTIME_PACKAGES) {
  const found = locate(name, root);
  if (found) copyWithDependencies(found);
  else console.error(`bundle-job-image: ${name} is not installed; the job runs without it`);
}
console.error(`bundle-job-image: ${path.relative(root, out)}/handler.mjs and ${copied.size} packages`);
