import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChurnguardStack } from '../../cdk/churnguardStack.ts';
import type { ChurnguardConfigInput } from '../../cdk/config.ts';
import { parseConfig } from '../../cdk/config.ts';

/** A synthesised stack with everything the cdk tests look at. Synthesise once per test file. */
export interface SynthesisedStack {
  readonly app: App;
  readonly stack: ChurnguardStack;
  readonly template: Template;
  /** Resources by logical id, straight from the template. */
  readonly resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  /** cdk-nag AwsSolutions findings that were not acknowledged: `RuleId at construct path`. */
  readonly nagFindings: string[];
}

export const TEST_ENV = { account: '123456789012', region: 'us-east-1' } as const;

/** Builds the stack with bundling skipped (the job image asset is still staged, as in a real synth). */
export function synthStack(context: ChurnguardConfigInput = {}): SynthesisedStack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ChurnguardStack(app, 'Churnguard', { config: parseConfig(context as Record<string, unknown>), env: TEST_ENV });
  const template = Template.fromStack(stack);
  const report = new AwsSolutionsChecks(app).validateScope(app);
  const nagFindings = report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`),
  );
  const resources = template.toJSON().Resources as SynthesisedStack['resources'];
  return { app, stack, template, resources, nagFindings };
}

/** Logical ids and properties of every resource of one type. */
export function resourcesOfType(synth: SynthesisedStack, type: string): [string, Record<string, unknown>][] {
  return Object.entries(synth.resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id, resource]) => [id, resource.Properties ?? {}]);
}

export interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every Allow statement attached (through AWS::IAM::Policy) to the role of a construct. */
export function allowStatementsOfRole(synth: SynthesisedStack, roleLogicalId: string): PolicyStatementJson[] {
  return resourcesOfType(synth, 'AWS::IAM::Policy')
    .filter(([, props]) => (props.Roles as { Ref: string }[]).some((role) => role.Ref === roleLogicalId))
    .flatMap(([, props]) => (props.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement)
    .filter((statement) => statement.Effect === 'Allow');
}

export const actionsOf = (statements: PolicyStatementJson[]): string[] =>
  statements.flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));

/** The logical id of a construct's default CloudFormation resource. */
export function logicalId(synth: SynthesisedStack, construct: { node: { defaultChild?: unknown } }): string {
  return synth.stack.getLogicalId(construct.node.defaultChild as Parameters<ChurnguardStack['getLogicalId']>[0]);
}

/**
 * A state machine definition is an Fn::Join of strings and references; write each reference as
 * `${LogicalId}` or `${LogicalId.Attribute}` so the JSON can be parsed and inspected.
 */
export function parseDefinition(definitionString: unknown): Record<string, unknown> {
  const join = (definitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const reference = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    if (reference.Ref !== undefined) return `\${${reference.Ref}}`;
    if (reference['Fn::GetAtt'] !== undefined) return `\${${reference['Fn::GetAtt'].join('.')}}`;
    return `\${${JSON.stringify(part)}}`;
  };
  const text = join[1].map(render).join(join[0]);
  return JSON.parse(text) as Record<string, unknown>;
}
