/**
 * Mutation testing of the modules where a silent bug costs users most: `npm run test:mutation`
 * (all groups) or `npm run test:mutation -- --group features`. Each group mutates its modules and
 * runs only the test files that specify them. Prints the mutation score per file, the surviving
 * mutants, the ones marked equivalent (`// Stryker disable next-line …: reason`) and the wall time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { PartialStrykerOptions } from '@stryker-mutator/api/core';
import { Stryker } from '@stryker-mutator/core';
import { z } from 'zod';

interface MutationGroup {
  /** Modules whose mutants must be killed. */
  mutate: string[];
  /** Test files run against each mutant. */
  tests: string[];
}

const GROUPS: Record<string, MutationGroup> = {
  features: {
    mutate: ['model/features/snapshot.ts', 'model/features/labels.ts', 'model/features/churnDefinition.ts'],
    tests: [
      'test/unit/featuresFamilies.test.ts',
      'test/unit/featuresWindows.test.ts',
      'test/unit/featuresSnapshot.test.ts',
      'test/unit/featuresChurnDefinition.test.ts',
      'test/unit/featuresLabels.test.ts',
      'test/unit/featuresLeakage.test.ts',
      'test/unit/featuresDatasets.test.ts',
      'test/unit/modelDefinition.test.ts',
    ],
  },
  nn: {
    mutate: ['model/nn/preprocessing.ts', 'model/nn/calibration.ts'],
    tests: ['test/unit/nnPreprocessing.test.ts', 'test/unit/nnPreprocessingSpec.test.ts', 'test/unit/nnCalibration.test.ts'],
  },
  outreach: {
    mutate: ['model/outreach/selection.ts', 'adapters/aws/outreachStore.ts', 'adapters/aws/outreachLedger.ts', 'app/deliverOutreach.ts'],
    tests: [
      'test/unit/outreach-selection.test.ts',
      'test/unit/outreach-delivery.test.ts',
      'test/unit/outreach-idempotency.test.ts',
      'test/integration/outreachStore.test.ts',
    ],
  },
  localStack: {
    mutate: ['cli/local/stackLock.ts', 'cli/local/stateFiles.ts'],
    tests: ['test/unit/localStackRecovery.test.ts'],
  },
};

const Options = z.object({
  group: z
    .array(z.enum(Object.keys(GROUPS) as [string, ...string[]], { message: `--group must be one of ${Object.keys(GROUPS).join(', ')}` }))
    .default(Object.keys(GROUPS)),
  concurrency: z.coerce.number().int().min(1).default(2),
});

const { values } = parseArgs({
  options: { group: { type: 'string', multiple: true }, concurrency: { type: 'string' } },
});
const parsed = Options.safeParse(values);
if (!parsed.success) {
  console.error(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`).join('\n'));
  process.exit(2);
}
const options = parsed.data;

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

interface FileScore {
  file: string;
  detected: number;
  undetected: number;
  equivalent: number;
  invalid: number;
}

const scores: FileScore[] = [];
const survivors: string[] = [];
const equivalents: string[] = [];
const started = performance.now();

for (const name of options.group) {
  const group = GROUPS[name];
  if (!group) continue;
  const groupStarted = performance.now();
  // The vitest workers Stryker starts inherit this: see vitest.mutation.config.ts.
  process.env.CHURNGUARD_MUTATION_TESTS = group.tests.join(',');
  const stryker = new Stryker({
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner'],
    vitest: { configFile: 'vitest.mutation.config.ts', related: false },
    coverageAnalysis: 'perTest',
    mutate: group.mutate,
    concurrency: options.concurrency,
    timeoutMS: 20_000,
    reporters: ['progress-append-only', 'json'],
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
    tempDirName: '.stryker-tmp',
    cleanTempDir: 'always',
    logLevel: 'warn' as PartialStrykerOptions['logLevel'],
  });
  const results = await stryker.runMutationTest();
  for (const file of group.mutate) {
    const mine = results.filter((mutant) => mutant.fileName.endsWith(file));
    const score: FileScore = { file, detected: 0, undetected: 0, equivalent: 0, invalid: 0 };
    for (const mutant of mine) {
      const where = `${file}:${mutant.location.start.line}:${mutant.location.start.column + 1}`;
      if (DETECTED.has(mutant.status)) score.detected++;
      else if (UNDETECTED.has(mutant.status)) {
        score.undetected++;
        survivors.push(`${where} ${mutant.status} ${mutant.mutatorName}: ${oneLine(mutant.replacement)}`);
      } else if (mutant.status === 'Ignored') {
        score.equivalent++;
        equivalents.push(`${where} ${mutant.mutatorName}: ${mutant.statusReason ?? ''}`);
      } else score.invalid++;
    }
    scores.push(score);
  }
  console.log(`group ${name}: ${((performance.now() - groupStarted) / 1000).toFixed(0)} s`);
}

function oneLine(text: string | undefined): string {
  const flat = (text ?? '').replace(/\s+/g, ' ');
  return flat.length > 100 ? `${flat.slice(0, 97)}...` : flat;
}

const TARGET = 80;
const percent = (score: FileScore) => {
  const valid = score.detected + score.undetected;
  return valid === 0 ? 100 : (100 * score.detected) / valid;
};
const rows = scores.map((score) => [
  score.file,
  `${percent(score).toFixed(1)}%`,
  String(score.detected),
  String(score.undetected),
  String(score.equivalent),
  String(score.invalid),
  percent(score) >= TARGET ? 'ok' : 'BELOW',
]);
const header = ['file', 'score', 'killed', 'survived', 'equivalent', 'invalid', `≥ ${TARGET}%`];
const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]?.length ?? 0)));
const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
const table = [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');

const wall = (performance.now() - started) / 1000;
const summary = [
  table,
  '',
  `wall time: ${wall.toFixed(0)} s (${options.group.join(', ')}; concurrency ${options.concurrency})`,
  '',
  `surviving mutants (${survivors.length}):`,
  ...survivors.map((text) => `  ${text}`),
  '',
  `equivalent mutants (${equivalents.length}), with the reason:`,
  ...equivalents.map((text) => `  ${text}`),
].join('\n');
console.log(`\n${summary}`);
mkdirSync('reports/mutation', { recursive: true });
writeFileSync('reports/mutation/summary.txt', `${summary}\n`);
process.exit(scores.every((score) => percent(score) >= TARGET) ? 0 : 1);
