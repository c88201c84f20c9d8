#!/usr/bin/env node
// The structure rules a linter does not check (run by `npm run lint`):
// - no source file over 400 lines, no Lambda handler over 80 (a file holds one idea; handlers are glue);
// - model/ imports nothing of AWS, app/ no AWS SDK or CDK (Biome's noRestrictedImports checks the
//   static imports; this catches a dynamic import() too). app/ may use Powertools' idempotency
//   and batch utilities: they are libraries over ports, their persistence is injected.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SOURCE_FOLDERS = ['model', 'app', 'adapters', 'lambdas', 'cli', 'cdk', 'bench', 'scripts', 'bin'];
const MAX_LINES = 400;
const MAX_HANDLER_LINES = 80;
const AWS_IMPORT = {
  model: /(?:from\s+|import\s*\(\s*)['"](@aws-sdk\/|@aws-lambda-powertools\/|aws-cdk-lib|aws-lambda['"])/,
  app: /(?:from\s+|import\s*\(\s*)['"](@aws-sdk\/|aws-cdk-lib)/,
};

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(full);
    else if (/\.(ts|mts|mjs|js)$/.test(entry.name) && !entry.name.endsWith('.test.ts')) yield full;
  }
}

const problems = [];
for (const folder of SOURCE_FOLDERS) {
  for (const file of sourceFiles(folder)) {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    const isHandler = /^lambdas\/[^/]+\/handler\.ts$/.test(file.split(path.sep).join('/'));
    const limit = isHandler ? MAX_HANDLER_LINES : MAX_LINES;
    if (lines > limit)
      problems.push(`${file}: ${lines} lines, over the ${limit} a ${isHandler ? 'handler' : 'source file'} may have: split it by idea`);
    if (AWS_IMPORT[folder]?.test(text)) problems.push(`${file}: imports an AWS package; ${folder}/ reaches AWS only through app/ports.ts`);
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(
  `structure: every source file ≤ ${MAX_LINES} lines, every handler ≤ ${MAX_HANDLER_LINES}, no AWS import under model/, no AWS SDK under app/`,
);
