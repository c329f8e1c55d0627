/**
 * cdk-nag AwsSolutions and Serverless on the registry: no unacknowledged finding, and every
 * acknowledgement is scoped to one resource (never a stack), has a reason, and suppresses a real
 * finding.
 */
import {
  App,
  aws_dynamodb as dynamodb,
  aws_events as events,
  aws_kms as kms,
  RemovalPolicy,
  Stack,
  aws_s3 as s3,
  Validations,
} from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../lib/model-registry';
import { ModelRegistryStack } from '../../lib/model-registry-stack';
import { expectRealAcknowledgements, nagFindings, recordAcknowledgements } from '../support/nag';
import { templateApp } from '../support/template';

const env = { account: '123456789012', region: 'eu-west-1' };

function buildApp(): App {
  const app = templateApp();
  new ModelRegistryStack(app, 'Default', { env, allowedAccountIds: ['111122223333'] });
  const custom = new Stack(app, 'Custom', { env });
  new ModelRegistry(custom, 'Registry', {
    encryptionKey: new kms.Key(custom, 'Key', { enableKeyRotation: true }),
    removalPolicy: RemovalPolicy.DESTROY,
    organizationId: 'o-abcdefghij',
  });
  // Brought resources: the acknowledgements must name the imported bucket's objects as cdk-nag does.
  const brought = new Stack(app, 'Brought', { env });
  new ModelRegistry(brought, 'Registry', {
    table: dynamodb.Table.fromTableAttributes(brought, 'Table', {
      tableName: 'registry',
      tableStreamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/registry/stream/2026-01-01T00:00:00.000',
    }),
    artifactBucket: s3.Bucket.fromBucketName(brought, 'Bucket', 'their-models'),
    acceptResponsibilityForImportedBucket: true,
    eventBus: events.EventBus.fromEventBusName(brought, 'Bus', 'platform-events'),
  });
  return app;
}

const summarize = (
  violations: { ruleName: string; severity?: string; violatingResources: { constructPath?: string }[] }[],
) =>
  violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.severity} ${v.ruleName} ${r.constructPath}`),
  );

// The acknowledgements lib/ makes, recorded while building an app that does not apply them.
const { recorded, raw } = recordAcknowledgements(() => ({ app: buildApp() }));
const validate = nagFindings;

describe('cdk-nag AwsSolutions and Serverless', () => {
  it('reports no unacknowledged error or warning, and synth with both plugins passes', () => {
    const app = buildApp();
    expect(summarize(validate(app))).toEqual([]);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  it('runs the Serverless pack too: its findings are among those acknowledged', () => {
    expect(raw.some((v) => v.ruleName.startsWith('Serverless-'))).toBe(true);
    expect(raw.some((v) => v.ruleName.startsWith('AwsSolutions-'))).toBe(true);
  });

  it('does find problems: a bare bucket fails the checks and synth', () => {
    const app = new App();
    new s3.Bucket(new Stack(app, 'Bare'), 'Bucket');
    const rules = new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
  });

  it('acknowledges each finding on one resource, with a reason, and only real findings', () => {
    expect(recorded.length).toBeGreaterThan(0);
    expectRealAcknowledgements(recorded, raw, (scope) => scope instanceof ModelRegistry);
  });

  it('every raw finding is one that lib/ acknowledges on that resource', () => {
    for (const line of summarize(raw)) {
      const [, rule, path] = line.split(' ');
      const covered = recorded.some(
        (a) => a.id === rule && (path === a.path || path.startsWith(`${a.path}/`)),
      );
      expect(covered, line).toBe(true);
    }
  });
});
