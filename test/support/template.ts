/** Helpers to read a synthesized CloudFormation template in the infrastructure tests. */
import { App, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

export function logicalId(construct: Construct): string {
  const child = construct.node.defaultChild ?? construct;
  return Stack.of(construct).resolve((child as any).logicalId);
}

/** An intrinsic as a readable string: `<Id.Arn>`, `<Ref>`, joins concatenated. */
export function render(value: any): string {
  if (typeof value === 'string') return value;
  if (value?.Ref) return `<${value.Ref}>`;
  if (value?.['Fn::GetAtt']) return `<${value['Fn::GetAtt'].join('.')}>`;
  if (value?.['Fn::Join']) return value['Fn::Join'][1].map(render).join(value['Fn::Join'][0]);
  throw new Error(`Cannot render ${JSON.stringify(value)}`);
}

export const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/**
 * An app for template assertions: no bundling and no asset staging (each synthesis would copy the
 * prebuilt function bundles into the cloud assembly, seconds per app for nothing a test reads).
 * test/infra/function-assets.test.ts and synth.test.ts stage assets as a deployment does.
 */
export function templateApp(): App {
  return new App({ context: TEMPLATE_CONTEXT });
}

export const TEMPLATE_CONTEXT = { 'aws:cdk:bundling-stacks': [], 'aws:cdk:disable-asset-staging': true };
