import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// The tests StrykerJS runs against each mutant of one group (`npm run test:mutation`): only the
// files that specify that group's modules. The whole-pipeline tiers cover them too, but at tens of
// seconds per mutant.
const include = (process.env.CHURNGUARD_MUTATION_TESTS ?? 'test/unit/**/*.test.ts').split(',');

export default defineConfig({
  test: { ...base.test, include, maxWorkers: 1 },
});
