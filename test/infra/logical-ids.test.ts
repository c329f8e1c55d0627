/**
 * Logical IDs are the identity of deployed resources: CloudFormation replaces a resource whose
 * logical ID changes, and for the table, the buckets or the bus that means losing every model.
 * fixtures/logical-ids.json records the IDs (and types) of the default stack; a refactoring of
 * lib/ must keep every one of them. A resource may be added freely; removing one is a deliberate
 * change of the fixture, in the commit that explains it.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ModelRegistryStack } from '../../lib/model-registry-stack';
import { templateApp } from '../support/template';
import pinned from './fixtures/logical-ids.json';

const app = templateApp();
const stack = new ModelRegistryStack(app, 'Default', {
  env: { account: '123456789012', region: 'eu-west-1' },
});
const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string }>;

/** Resources that hold data or history: a new logical ID would delete (or orphan) them. */
const STATEFUL_TYPES = new Set([
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::Events::EventBus',
  'AWS::Events::Archive',
  'AWS::Logs::LogGroup',
  'AWS::SQS::Queue',
]);

describe('logical IDs', () => {
  it('keeps every stateful resource under its pinned logical ID', () => {
    const stateful = Object.entries(pinned as Record<string, string>).filter(([, type]) =>
      STATEFUL_TYPES.has(type),
    );
    expect(stateful.length).toBeGreaterThan(10);
    for (const [id, type] of stateful) expect(resources[id]?.Type, id).toBe(type);
  });

  it('keeps every other pinned resource (API methods, roles, functions, rules, alarms)', () => {
    const missing = Object.entries(pinned as Record<string, string>)
      .filter(([id, type]) => resources[id]?.Type !== type)
      .map(([id, type]) => `${id} (${type})`);
    expect(missing).toEqual([]);
  });
});
