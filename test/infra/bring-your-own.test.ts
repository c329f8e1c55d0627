/**
 * Props that take an existing resource or create one (the table, the artifact bucket, the bus),
 * and per-function size and concurrency: one fresh stack per behaviour (bundling skipped).
 */
import {
  aws_dynamodb as dynamodb,
  aws_events as events,
  aws_kms as kms,
  Stack,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TABLE_PARTITION_KEY } from '../../functions/deployment/table';
import { ModelRegistry, type ModelRegistryProps } from '../../lib/model-registry';
import { list, logicalId, render, templateApp } from '../support/template';

const env = { account: '123456789012', region: 'eu-west-1' };
const newApp = () => templateApp();

/** A registry in a fresh stack of its own app; `extra` adds what the props need to that stack. */
function registryStack(props: (stack: Stack) => ModelRegistryProps = () => ({})) {
  const stack = new Stack(newApp(), 'Registry', { env });
  const registry = new ModelRegistry(stack, 'Registry', props(stack));
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, any>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const statementsOf = (fn: keyof typeof registry.functions) => {
    const roleId = logicalId(registry.functions[fn].role!);
    return ofType('AWS::IAM::Policy')
      .filter(([, p]) => list(p.Properties.Roles).some((r: any) => r.Ref === roleId))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as any[]);
  };
  const envOf = (fn: keyof typeof registry.functions) =>
    resources[logicalId(registry.functions[fn])].Properties.Environment.Variables;
  return { stack, registry, resources, ofType, statementsOf, envOf };
}

describe('table', () => {
  it('creates the registry table when none is given', () => {
    const { ofType } = registryStack();
    expect(ofType('AWS::DynamoDB::Table')).toHaveLength(1);
  });

  it('uses a table created with ModelRegistry.createTable in another (stateful) stack, and creates none', () => {
    const app = newApp();
    const stateful = new Stack(app, 'Stateful', { env });
    const table = ModelRegistry.createTable(stateful, 'RegistryTable');
    const stack = new Stack(app, 'Registry', { env });
    const registry = new ModelRegistry(stack, 'Registry', { table });
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, any>;
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::DynamoDB::Table')).toEqual([]);
    expect(registry.table).toBe(table);
    const vars = resources[logicalId(registry.functions.read)].Properties.Environment.Variables;
    expect(JSON.stringify(vars.TABLE_NAME)).toContain('Fn::ImportValue');
    const [mapping] = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(JSON.stringify(mapping.Properties.EventSourceArn)).toContain('Fn::ImportValue');
    // The stateful stack's table is the registry's: keys, indexes, stream, TTL.
    Template.fromStack(stateful).hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('refuses a table of the app that is not the registry table', () => {
    expect(() =>
      registryStack((stack) => ({
        table: new dynamodb.Table(stack, 'Other', {
          partitionKey: { name: TABLE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
          stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        }),
      })),
    ).toThrow(/table: keySchema differs from the registry table's.*ModelRegistry\.createTable/);
  });

  it('refuses an imported table without its stream, which the outbox relay reads', () => {
    expect(() =>
      registryStack((stack) => ({ table: dynamodb.Table.fromTableName(stack, 'Imported', 'registry') })),
    ).toThrow(/tableStreamArn/);
  });

  it('takes an imported table with its stream, and grants on its key', () => {
    const streamArn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/registry/stream/2026-01-01T00:00:00.000';
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const { ofType, statementsOf, envOf, registry } = registryStack((stack) => ({
      table: dynamodb.Table.fromTableAttributes(stack, 'Imported', {
        tableName: 'registry',
        tableStreamArn: streamArn,
        encryptionKey: kms.Key.fromKeyArn(stack, 'TableKey', keyArn),
      }),
    }));
    expect(ofType('AWS::DynamoDB::Table')).toEqual([]);
    expect(envOf('write').TABLE_NAME).toBe('registry');
    expect(ofType('AWS::Lambda::EventSourceMapping')[0]![1].Properties.EventSourceArn).toBe(streamArn);
    const kmsOf = (fn: 'read' | 'write') =>
      statementsOf(fn).filter((s) => list(s.Action).some((a: string) => a.startsWith('kms:')));
    expect(kmsOf('read')).toEqual([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn }]);
    expect(kmsOf('write')).toEqual([
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn },
      // And the webhook key, which seals webhook secrets.
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:Encrypt'],
        Resource: { 'Fn::GetAtt': [logicalId(registry.webhooks.key), 'Arn'] },
      },
    ]);
  });
});

describe('artifact bucket', () => {
  it('creates the artifact and access-log buckets when none is given', () => {
    const { ofType, registry } = registryStack();
    expect(ofType('AWS::S3::Bucket')).toHaveLength(2);
    expect(registry.accessLogsBucket).toBeDefined();
  });

  it('adds the registry rules to a bucket of the app, and creates no bucket of its own', () => {
    const { ofType, resources, registry, envOf } = registryStack((stack) => ({
      artifactBucket: new s3.Bucket(stack, 'Mine', { versioned: true, enforceSSL: true }),
      consoleOrigins: ['https://console.example.com'],
    }));
    expect(ofType('AWS::S3::Bucket')).toHaveLength(1);
    expect(registry.accessLogsBucket).toBeUndefined();
    const bucketId = logicalId(registry.artifactBucket);
    expect(envOf('upload').ARTIFACT_BUCKET).toEqual({ Ref: bucketId });
    const bucket = resources[bucketId].Properties;
    expect(bucket.LifecycleConfiguration.Rules.map((r: any) => r.Id)).toEqual([
      'abort-incomplete-multipart-uploads',
      'expire-noncurrent-versions',
      'expire-deleted-artifacts',
    ]);
    expect(bucket.CorsConfiguration.CorsRules[0].AllowedOrigins).toEqual(['https://console.example.com']);
    const [[, policy]] = ofType('AWS::S3::BucketPolicy');
    expect(policy.Properties.PolicyDocument.Statement.map((s: any) => s.Sid ?? s.Effect)).toContain(
      'DenyReadingDeletedArtifacts',
    );
  });

  it('refuses an imported bucket unless its owner takes on the rules the stack cannot add', () => {
    expect(() =>
      registryStack((stack) => ({
        artifactBucket: s3.Bucket.fromBucketName(stack, 'Theirs', 'their-models'),
      })),
    ).toThrow(/acceptResponsibilityForImportedBucket/);
  });

  it('uses an imported bucket with acceptResponsibilityForImportedBucket, granting on it', () => {
    const { ofType, statementsOf, envOf } = registryStack((stack) => ({
      artifactBucket: s3.Bucket.fromBucketName(stack, 'Theirs', 'their-models'),
      acceptResponsibilityForImportedBucket: true,
    }));
    expect(ofType('AWS::S3::Bucket')).toEqual([]);
    expect(ofType('AWS::S3::BucketPolicy')).toEqual([]);
    expect(envOf('download').ARTIFACT_BUCKET).toBe('their-models');
    const get = statementsOf('download').find((s) => list(s.Action).includes('s3:GetObject'));
    expect(render(get.Resource)).toBe('arn:<AWS::Partition>:s3:::their-models/models/*');
  });
});

describe('event bus', () => {
  it('creates a bus with an archive when none is given', () => {
    const { ofType } = registryStack();
    expect(ofType('AWS::Events::EventBus')).toHaveLength(1);
    expect(ofType('AWS::Events::Archive')).toHaveLength(1);
  });

  it('publishes to, and adds its rules to, a given bus, creating no bus or archive', () => {
    const { ofType, statementsOf, envOf, registry } = registryStack((stack) => ({
      eventBus: events.EventBus.fromEventBusName(stack, 'Shared', 'platform-events'),
    }));
    expect(ofType('AWS::Events::EventBus')).toEqual([]);
    expect(ofType('AWS::Events::Archive')).toEqual([]);
    expect(envOf('relay').EVENT_BUS_NAME).toBe('platform-events');
    const put = statementsOf('relay').find((s) => list(s.Action).includes('events:PutEvents'));
    expect(render(put.Resource)).toBe(
      'arn:<AWS::Partition>:events:eu-west-1:123456789012:event-bus/platform-events',
    );
    for (const rule of [registry.startApprovalRule, registry.retireArtifactsRule]) {
      expect(
        ofType('AWS::Events::Rule').find(([id]) => id === logicalId(rule))![1].Properties.EventBusName,
      ).toBe('platform-events');
    }
  });
});

describe('function options', () => {
  it('sets memory and reserved concurrency of the named functions only', () => {
    const { resources, registry } = registryStack(() => ({
      functionOptions: { verify: { memorySize: 3008 }, read: { reservedConcurrentExecutions: 50 } },
    }));
    const props = (fn: keyof typeof registry.functions) =>
      resources[logicalId(registry.functions[fn])].Properties;
    expect(props('verify').MemorySize).toBe(3008);
    expect(props('read').ReservedConcurrentExecutions).toBe(50);
    expect(props('read').MemorySize).toBe(512);
    expect(props('write').ReservedConcurrentExecutions).toBeUndefined();
  });

  it('refuses sizes Lambda refuses, and a reservation of 0 (which stops the function)', () => {
    expect(() => registryStack(() => ({ functionOptions: { read: { memorySize: 64 } } }))).toThrow(
      /memorySize/,
    );
    expect(() =>
      registryStack(() => ({ functionOptions: { relay: { reservedConcurrentExecutions: 0 } } })),
    ).toThrow(/reservedConcurrentExecutions/);
  });
});
