/** cdk-nag acknowledgements: each on one resource, with its reason (test/infra/nag.test.ts checks both). */
import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

export function acknowledge(scope: Construct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** The CloudFormation logical id of a construct's default resource (for cdk-nag finding ids). */
export function logicalIdOf(construct: Construct): string {
  const cfn = construct.node.defaultChild;
  if (!(cfn instanceof CfnResource)) throw new Error(`${construct.node.path} has no CfnResource`);
  return Stack.of(construct).resolve(cfn.logicalId) as string;
}
