import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'model/**/*.test.ts', 'lambdas/**/*.test.ts', 'cli/**/*.test.ts', 'cdk/**/*.test.ts'],
    // The artifact tier runs on Node's own test runner from a production install: `npm run test:artifacts`.
    exclude: ['test/artifacts/**', '**/node_modules/**'],
    // Emulators and TF.js training share two cores: run files in parallel, but only two at a time.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_DEV: 'false',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
  },
});
