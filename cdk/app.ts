import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChurnguardStack } from './churnguardStack.ts';
import { CONFIG_KEYS, parseConfig, requireOutreachDelivery, unknownContextKeys } from './config.ts';

/**
 * CDK entry point (`cdk.json`: `npx tsx cdk/app.ts`). Settings come from context: the `context` of
 * cdk.json (kept, so every redeploy gets them), or `-c key=value` for one run.
 */
const app = new App();
const raw = Object.fromEntries(CONFIG_KEYS.map((key) => [key, app.node.tryGetContext(key)]).filter(([, value]) => value !== undefined));
const config = parseConfig(raw);
requireOutreachDelivery(config);
const contextKeys = Object.keys(JSON.parse(process.env.CDK_CONTEXT_JSON ?? '{}') as Record<string, unknown>);
for (const key of unknownContextKeys(contextKeys)) {
  console.error(`churnguard: unknown context key "${key}" is ignored; known keys: ${CONFIG_KEYS.join(', ')}, stackName`);
}

new ChurnguardStack(app, String(app.node.tryGetContext('stackName') ?? 'Churnguard'), {
  config,
  description: 'churnguard: churn prediction pipeline (ingest API, train/score job, outreach queue)',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  // Stack name via `-c stackName=...` (default Churnguard) to run several copies in one account.
});
// cdk-nag 3 runs as a CDK policy-validation plugin: any unacknowledged finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
