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

/**
 * A resource as cdk-nag names it in a finding id: `<LogicalId.Attr>` for Fn::GetAtt, `<Ref>` for
 * Ref (pseudo parameters included), joins concatenated.
 */
export function nagResource(scope: Construct, value: string): string {
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as Record<string, unknown>;
    if (o.Ref) return `<${o.Ref as string}>`;
    if (o['Fn::GetAtt']) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    if (o['Fn::Join']) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(sep);
    }
    throw new Error(`Cannot name ${JSON.stringify(v)} as cdk-nag does`);
  };
  return render(Stack.of(scope).resolve(value));
}
