/**
 * Prints, for one configuration, the cdk-nag AwsSolutions findings left unacknowledged, every
 * acknowledgment with its reason, and the resource count per type. Bundling is skipped.
 *
 *   npx tsx cdk/nagReport.ts                                  # defaults
 *   npx tsx cdk/nagReport.ts '{"scaleOutSegments":8,"encryption":"customer-managed"}'
 */
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChurnguardStack } from './churnguardStack.ts';
import { parseConfig } from './config.ts';
import { listAcknowledgedRules } from './nag.ts';

const context = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new ChurnguardStack(app, 'Churnguard', {
  config: parseConfig(context),
  env: { account: '123456789012', region: 'us-east-1' },
});
const assembly = app.synth();
const report = new AwsSolutionsChecks(app).validateScope(app);

console.log(`Unacknowledged findings: ${report.violations.length}`);
for (const violation of report.violations) {
  console.log(`  ${violation.severity} ${violation.ruleName}: ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`);
}
console.log('\nAcknowledged findings:');
for (const rule of listAcknowledgedRules(app)) console.log(`  ${rule.id}\n    at ${rule.path}\n    ${rule.reason}`);

const resources = Object.values(assembly.getStackByName(stack.stackName).template.Resources as Record<string, { Type: string }>);
const counts = new Map<string, number>();
for (const resource of resources) counts.set(resource.Type, (counts.get(resource.Type) ?? 0) + 1);
console.log(`\nResources: ${resources.length}`);
for (const [type, count] of [...counts].sort(([a], [b]) => a.localeCompare(b))) console.log(`  ${count} ${type}`);
process.exitCode = report.violations.length === 0 ? 0 : 1;
