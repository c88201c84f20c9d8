import type { CfnElement } from 'aws-cdk-lib';
import { Stack, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag 3 acknowledgments go through CDK's own `Validations.of(scope).acknowledge()`, one per
 * finding: `AwsSolutions-IAM5[Resource::<LogicalId.Arn>/models/*]` rather than v2's appliesTo
 * patterns. These helpers keep each acknowledgment next to the resource it concerns, with its reason.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** How cdk-nag writes `Fn::GetAtt [<resource>, Arn]` in a finding id: `<LogicalId.Arn>`. */
export function arnInFinding(resource: IConstruct): string {
  const element = (resource.node.defaultChild ?? resource) as CfnElement;
  return `<${Stack.of(resource).getLogicalId(element)}.Arn>`;
}

/** The logical id of a resource (its default child), as CloudFormation and cdk-nag see it. */
export function logicalIdOf(resource: IConstruct): string {
  const element = (resource.node.defaultChild ?? resource) as CfnElement;
  return Stack.of(resource).getLogicalId(element);
}

/** How cdk-nag writes the stack's region and account in a finding: literal when known, else the pseudo parameter. */
export function regionAndAccountInFinding(scope: IConstruct): string {
  const stack = Stack.of(scope);
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return `${region}:${account}`;
}

/** One acknowledged rule as recorded on the construct tree, for reports and tests. */
export interface AcknowledgedRule {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every acknowledgment under `root`, in tree order. */
export function listAcknowledgedRules(root: IConstruct): AcknowledgedRule[] {
  const found: AcknowledgedRule[] = [];
  for (const node of root.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || entry.data === undefined) continue;
      for (const [key, value] of Object.entries(entry.data as Record<string, unknown>)) {
        found.push({ path: node.node.path, id: key.replace(/^annotation::/i, ''), reason: reasonOf(value) });
      }
    }
  }
  return found;
}

function reasonOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && 'reason' in value) return String((value as { reason: unknown }).reason);
  return JSON.stringify(value);
}
