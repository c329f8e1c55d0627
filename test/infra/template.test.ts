/**
 * The synthesized template (bundling skipped): IAM auth on every route, least-privilege roles,
 * encrypted and private storage, and governance wired from the same modules the local runtime
 * runs (state machine definition, event patterns, stream filter). One app, synthesized once, with
 * two stacks: the defaults (as `cdk deploy` builds them) and a customized registry (KMS key,
 * destroy, organization, alarms, governance policy, a promotion subscriber).
 */
import {
  App,
  Duration,
  aws_events_targets as eventsTargets,
  aws_iam as iam,
  aws_kms as kms,
  RemovalPolicy,
  Stack,
  aws_sns as sns,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { audienceOf } from '../../functions/api/contract';
import { ALL_OPERATIONS } from '../../functions/api/routes';
import { approvalWorkflowDefinition } from '../../functions/deployment/approval-workflow';
import {
  OUTBOX_STREAM_FILTER,
  promotionPattern,
  RULES,
  SMOKE_TEST_PATTERN,
} from '../../functions/deployment/event-rules';
import { FUNCTIONS } from '../../functions/deployment/functions';
import {
  INDEXES,
  TABLE_NAME_ENV,
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  TTL_ATTRIBUTE,
} from '../../functions/deployment/table';
import { artifactPrefix } from '../../functions/domain/artifacts';
import { MLFLOW_POLICY, POLICY_PROFILES, parseDeploymentPolicy } from '../../functions/domain/governance';
import { governancePolicyJson, governancePolicyValue } from '../../lib/configuration';
import { FUNCTION_NAMES, type FunctionName } from '../../lib/iam-actions';
import { ARTIFACT_KEY_PREFIX, GovernanceProfile, ModelRegistry } from '../../lib/model-registry';
import { ModelRegistryStack, propsFromContext } from '../../lib/model-registry-stack';
import { list, logicalId, render, templateApp } from '../support/template';

const env = { account: '123456789012', region: 'eu-west-1' };
const app = templateApp();

const defaultStack = new ModelRegistryStack(app, 'Default', { env, allowedAccountIds: ['111122223333'] });
const defaults = defaultStack.registry;

const customStack = new Stack(app, 'Custom', { env });
const key = new kms.Key(customStack, 'Key', { enableKeyRotation: true });
const topic = new sns.Topic(customStack, 'Alarms', { enforceSSL: true });
const custom = new ModelRegistry(customStack, 'Registry', {
  encryptionKey: key,
  removalPolicy: RemovalPolicy.DESTROY,
  organizationId: 'o-abcdefghij',
  alarmTopic: topic,
  throttle: { rateLimit: 10 },
  eventBusName: 'team-models',
  identityTrust: { trustedSessionRoles: ['release-approvers'] },
  deletedArtifactRetention: Duration.days(7),
  tracingSampling: { reservoirSize: 1, fixedRate: 0.5 },
  alarmThresholds: { apiLatencyP99: Duration.millis(1500) },
  consoleOrigins: ['https://console.example.com'],
  uploadUrlTtl: Duration.minutes(30),
  pendingVersionTtl: Duration.hours(48),
  governancePolicy: {
    guardedStages: ['Staging', 'Production'],
    requiredApprovals: 2,
    requestTtl: Duration.hours(72),
    qualityGates: ['accuracy >= 0.9'],
    requiredCardSections: ['limitations', 'intended_use'],
  },
});
const operator = new iam.Role(customStack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
custom.grantInvoke(operator, 'transitionModelVersionStage', 'setRegisteredModelAlias');
const reader = new iam.Role(customStack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
custom.grantRead(reader);
/** Roles granted audiences whose ARNs reach other audiences' routes (IAM's `*` matches `/`). */
const registrant = new iam.Role(customStack, 'Registrant', { assumedBy: new iam.AccountRootPrincipal() });
custom.grant('registrant', registrant);
const policyAdmin = new iam.Role(customStack, 'PolicyAdmin', { assumedBy: new iam.AccountRootPrincipal() });
custom.grant('policy-admin', policyAdmin);
const registrantAndAdmin = new iam.Role(customStack, 'RegistrantAndAdmin', {
  assumedBy: new iam.AccountRootPrincipal(),
});
custom.grant('registrant', registrantAndAdmin);
custom.grant('policy-admin', registrantAndAdmin);
const mlflowClient = new iam.Role(customStack, 'MlflowClient', { assumedBy: new iam.AccountRootPrincipal() });
custom.grantMlflowArtifactRead(mlflowClient);
const deployQueue = new sqs.Queue(customStack, 'DeployQueue', { enforceSSL: true });
const promotionRule = custom.onPromotion(new eventsTargets.SqsQueue(deployQueue), {
  modelName: 'fraud-detector',
});
const stagingRule = custom.onPromotion(new eventsTargets.SqsQueue(deployQueue), { stage: 'Staging' });

const template = Template.fromStack(defaultStack);
const customTemplate = Template.fromStack(customStack);
const resources = template.toJSON().Resources as Record<string, any>;
const customResources = customTemplate.toJSON().Resources as Record<string, any>;

const API_GROUPS = ['read', 'write', 'upload', 'download', 'approve'] as const;

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: any;
  [k: string]: unknown;
}

/** Every statement attached to a role: inline, managed or through AWS::IAM::Policy. */
function roleStatements(res: Record<string, any>, roleId: string): Statement[] {
  const role = res[roleId];
  expect(role?.Type).toBe('AWS::IAM::Role');
  expect(role.Properties.ManagedPolicyArns, `${roleId} managed policies`).toBeUndefined();
  expect(role.Properties.Policies, `${roleId} inline policies`).toBeUndefined();
  const statements: Statement[] = [];
  for (const r of Object.values(res)) {
    if (r.Type === 'AWS::IAM::ManagedPolicy') {
      expect(
        list(r.Properties.Roles).some((x: any) => x.Ref === roleId),
        'managed policy on a function role',
      ).toBe(false);
    }
    if (r.Type === 'AWS::IAM::Policy' && list(r.Properties.Roles).some((x: any) => x.Ref === roleId)) {
      statements.push(...r.Properties.PolicyDocument.Statement);
    }
  }
  return statements;
}

/** action → sorted resources, from Allow statements (fails on anything but plain Allow statements). */
function grants(statements: Statement[]): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const s of statements) {
    expect(Object.keys(s).sort()).toEqual(['Action', 'Effect', 'Resource']);
    expect(s.Effect).toBe('Allow');
    for (const action of list(s.Action)) {
      out[action] ??= new Set();
      for (const resource of list(s.Resource)) out[action].add(render(resource));
    }
  }
  return Object.fromEntries(
    Object.entries(out)
      .map(([a, r]) => [a, [...r].sort()] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

function expectedGrants(
  registry: ModelRegistry,
  res: Record<string, any>,
  name: FunctionName,
  withKey?: string,
): Record<string, string[]> {
  const T = `<${logicalId(registry.table)}.Arn>`;
  const indexes = Object.values(INDEXES).map((i) => `${T}/index/${i.indexName}`);
  const objects = `<${logicalId(registry.artifactBucket)}.Arn>/models/*`;
  const fnResource = res[logicalId(registry.functions[name])];
  const stateMachine = `<${logicalId(registry.approvalWorkflow)}>`;
  const stream = `<${logicalId(registry.table)}.StreamArn>`;
  const executions = `arn:<AWS::Partition>:states:eu-west-1:123456789012:execution:<${logicalId(registry.approvalWorkflow)}.Name>:*`;
  const logs = `<${fnResource.Properties.LoggingConfig.LogGroup.Ref}.Arn>`;
  const read = {
    'dynamodb:BatchGetItem': [T],
    'dynamodb:GetItem': [T],
    'dynamodb:Query': [T, ...indexes],
  };
  const write = {
    'dynamodb:BatchWriteItem': [T],
    'dynamodb:ConditionCheckItem': [T],
    'dynamodb:DeleteItem': [T],
    'dynamodb:GetItem': [T],
    'dynamodb:PutItem': [T],
    'dynamodb:Query': [T, ...indexes],
    'dynamodb:UpdateItem': [T],
  };
  const perFunction: Record<FunctionName, Record<string, string[]>> = {
    read,
    // The write function also replays recorded events: it scans the table and publishes.
    write: {
      ...write,
      'dynamodb:Scan': [T],
      'events:PutEvents': [`<${logicalId(registry.eventBus)}.Arn>`],
    },
    upload: {
      ...write,
      's3:AbortMultipartUpload': [objects],
      's3:GetObject': [objects],
      's3:ListMultipartUploadParts': [objects],
      's3:PutObject': [objects],
      'lambda:InvokeFunction': [`<${logicalId(registry.functions.verify)}.Arn>`],
    },
    download: { ...read, 's3:GetObject': [objects] },
    verify: {
      'dynamodb:GetItem': [T],
      'dynamodb:PutItem': [T],
      'dynamodb:Query': [T],
      'dynamodb:UpdateItem': [T],
      's3:GetObject': [objects],
      'sqs:SendMessage': [`<${logicalId(registry.verifyDeadLetterQueue)}.Arn>`],
    },
    approve: {
      ...write,
      'states:SendTaskFailure': [stateMachine],
      'states:SendTaskSuccess': [stateMachine],
    },
    workflow: write,
    reconcile: {
      ...write,
      'states:SendTaskFailure': [stateMachine],
      'states:SendTaskSuccess': [stateMachine],
      'states:StartExecution': [stateMachine],
      'states:DescribeExecution': [executions],
    },
    cleanup: {
      's3:ListBucket': [`<${logicalId(registry.artifactBucket)}.Arn>`],
      's3:PutObjectTagging': [objects],
      'sqs:SendMessage': [`<${logicalId(registry.cleanupDeadLetterQueue)}.Arn>`],
    },
    webhooks: {
      'dynamodb:GetItem': [T],
      'dynamodb:PutItem': [T],
      'dynamodb:Query': [`${T}/index/${INDEXES.byOpenRequest.indexName}`],
      'dynamodb:UpdateItem': [T],
      'sqs:SendMessage': [`<${logicalId(registry.webhooks.deadLetterQueue)}.Arn>`],
    },
    relay: {
      'dynamodb:DescribeStream': [stream],
      'dynamodb:GetRecords': [stream],
      'dynamodb:GetShardIterator': [stream],
      'dynamodb:ListStreams': [stream],
      'events:PutEvents': [`<${logicalId(registry.eventBus)}.Arn>`],
      'sqs:SendMessage': [`<${logicalId(registry.relayDeadLetterQueue)}.Arn>`],
    },
  };
  const kmsGrants: Record<string, string[]> = withKey
    ? name === 'cleanup'
      ? {}
      : name === 'read' || name === 'download' || name === 'relay'
        ? { 'kms:Decrypt': [withKey] }
        : { 'kms:Decrypt': [withKey], 'kms:GenerateDataKey': [withKey] }
    : {};
  // The write function seals and opens webhook secrets with the webhook key (lib/webhooks.ts); the
  // delivery function opens them.
  const webhookKey = `<${logicalId(registry.webhooks.key)}.Arn>`;
  if (name === 'write') kmsGrants['kms:Encrypt'] = [webhookKey];
  if (name === 'write' || name === 'webhooks')
    kmsGrants['kms:Decrypt'] = [...(kmsGrants['kms:Decrypt'] ?? []), webhookKey];
  const all: Record<string, string[]> = {
    ...perFunction[name],
    ...kmsGrants,
    'logs:CreateLogStream': [logs],
    'logs:PutLogEvents': [logs],
    'xray:PutTelemetryRecords': ['*'],
    'xray:PutTraceSegments': ['*'],
  };
  return Object.fromEntries(
    Object.entries(all)
      .map(([a, r]) => [a, [...r].sort()] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

describe('API Gateway', () => {
  const methods = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::Method');
  const nonOptions = methods.filter((m) => m.Properties.HttpMethod !== 'OPTIONS');

  it('has one method per route of functions/api/routes.ts (MLflow included), each AWS_IAM-authorized', () => {
    expect(methods).toHaveLength(ALL_OPERATIONS.length);
    expect(nonOptions).toHaveLength(ALL_OPERATIONS.length);
    for (const m of nonOptions) {
      expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
      expect(m.Properties.ApiKeyRequired).not.toBe(true);
    }
  });

  it('routes each operation to its path, method and group function (Lambda proxy)', () => {
    for (const op of ALL_OPERATIONS) {
      const method = defaults.methods[op.operationId];
      expect(method, op.operationId).toBeDefined();
      expect(method.resource.path).toBe(op.path);
      expect(method.httpMethod).toBe(op.method);
      const props = resources[logicalId(method)].Properties;
      expect(props.OperationName).toBe(op.operationId);
      expect(props.Integration.Type).toBe('AWS_PROXY');
      expect(JSON.stringify(props.Integration.Uri)).toContain(`"${logicalId(defaults.functions[op.group])}"`);
    }
    // By group, not by HTTP method: MLflow reads with POST and downloads with GET.
    expect(defaults.methods.mlflowGetLatestVersions.httpMethod).toBe('POST');
    expect(JSON.stringify(resources[logicalId(defaults.methods.mlflowGetLatestVersions)])).toContain(
      `"${logicalId(defaults.functions.read)}"`,
    );
    expect(JSON.stringify(resources[logicalId(defaults.methods.mlflowGetModelVersionDownloadUri)])).toContain(
      `"${logicalId(defaults.functions.download)}"`,
    );
    for (const op of ALL_OPERATIONS.filter((o) => o.group === 'approve')) {
      expect(op.path, op.operationId).toContain('/transition-requests');
    }
  });

  it("answers API Gateway's own errors as JSON {error_code, message} with MLflow's codes", () => {
    const responses = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::GatewayResponse');
    const byType = Object.fromEntries(responses.map((r) => [r.Properties.ResponseType, r.Properties]));
    const expected: Record<string, [string | undefined, string]> = {
      ACCESS_DENIED: ['403', 'PERMISSION_DENIED'],
      MISSING_AUTHENTICATION_TOKEN: ['401', 'UNAUTHENTICATED'],
      INVALID_SIGNATURE: ['401', 'UNAUTHENTICATED'],
      EXPIRED_TOKEN: ['401', 'UNAUTHENTICATED'],
      THROTTLED: ['429', 'REQUEST_LIMIT_EXCEEDED'],
      REQUEST_TOO_LARGE: ['413', 'PAYLOAD_TOO_LARGE'],
      DEFAULT_4XX: [undefined, 'BAD_REQUEST'],
      DEFAULT_5XX: [undefined, 'INTERNAL_ERROR'],
    };
    expect(Object.keys(byType).sort()).toEqual(Object.keys(expected).sort());
    for (const [type, [status, code]] of Object.entries(expected)) {
      expect(byType[type].StatusCode, type).toBe(status);
      const template = byType[type].ResponseTemplates['application/json'];
      expect(template).toBe(`{"error_code":"${code}","message":$context.error.messageString}`);
      // As API Gateway renders it ($context.error.messageString is a quoted JSON string).
      const rendered = JSON.parse(template.replace('$context.error.messageString', '"Forbidden"'));
      expect(rendered).toEqual({ error_code: code, message: 'Forbidden' });
    }
  });

  it('lets API Gateway invoke each API function through one permission for the whole API, not one per method', () => {
    const permissions = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Lambda::Permission' && r.Properties.Principal === 'apigateway.amazonaws.com',
    );
    expect(permissions).toHaveLength(API_GROUPS.length);
    const apiId = logicalId(defaults.api);
    for (const group of API_GROUPS) {
      const own = permissions.filter(
        (p) => p.Properties.FunctionName['Fn::GetAtt'][0] === logicalId(defaults.functions[group]),
      );
      expect(own, group).toHaveLength(1);
      expect(render(own[0].Properties.SourceArn)).toBe(
        `arn:<AWS::Partition>:execute-api:eu-west-1:123456789012:<${apiId}>/*/*/*`,
      );
    }
  });

  it('has a resource policy for the own account and the allowed accounts', () => {
    const api = Object.values(resources).find((r) => r.Type === 'AWS::ApiGateway::RestApi');
    const statements = api.Properties.Policy.Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('execute-api:Invoke');
    expect(statements[0].Effect).toBe('Allow');
    expect(list(statements[0].Principal.AWS).map(render)).toEqual([
      'arn:<AWS::Partition>:iam::123456789012:root',
      'arn:<AWS::Partition>:iam::111122223333:root',
    ]);
    expect(api.Properties.EndpointConfiguration.Types).toEqual(['REGIONAL']);
  });

  it('adds an organization statement when organizationId is given', () => {
    const api = Object.values(customResources).find((r) => r.Type === 'AWS::ApiGateway::RestApi');
    expect(api.Properties.Policy.Statement).toContainEqual(
      expect.objectContaining({
        Action: 'execute-api:Invoke',
        Principal: { AWS: '*' },
        // Never the deploying account: "*" would grant its principals without any identity policy.
        Condition: {
          StringEquals: { 'aws:PrincipalOrgID': 'o-abcdefghij' },
          StringNotEquals: { 'aws:PrincipalAccount': ['123456789012'] },
        },
      }),
    );
  });

  it('lets the deploying account in only through its account principal: no "*" statement can match it', () => {
    // In an API's resource policy, Principal "*" grants principals of the API's own account on its
    // own, with no identity policy; the account principal delegates to identity policies. So the
    // deploying account must be named only by its account principal.
    const deploying = env.account;
    const principalOf = (account: string, org: string) => ({
      'aws:PrincipalAccount': account,
      'aws:PrincipalOrgID': org,
      'aws:PrincipalArn': `arn:aws:iam::${account}:role/AnyRoleAtAll`,
    });
    for (const res of [resources, customResources]) {
      const api = Object.values(res).find((r) => r.Type === 'AWS::ApiGateway::RestApi');
      const statements: any[] = api.Properties.Policy.Statement;
      expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
      const everyone = statements.filter((s) => s.Principal === '*' || list(s.Principal?.AWS).includes('*'));
      for (const s of everyone) {
        expect(conditionsHold(s.Condition, principalOf(deploying, 'o-abcdefghij')), JSON.stringify(s)).toBe(
          false,
        );
        expect(conditionsHold(s.Condition, principalOf(deploying, 'o-otherorgxyz1')), JSON.stringify(s)).toBe(
          false,
        );
      }
      const named = statements.flatMap((s) => list(s.Principal?.AWS).map(render));
      expect(named).toContain(`arn:<AWS::Partition>:iam::${deploying}:root`);
      expect(named.filter((p) => p.includes(deploying))).toEqual([
        `arn:<AWS::Partition>:iam::${deploying}:root`,
      ]);
    }
    // The organization statement still admits the organization's other accounts (with their identity policies).
    const api = Object.values(customResources).find((r) => r.Type === 'AWS::ApiGateway::RestApi');
    const org = api.Properties.Policy.Statement.find((s: any) => list(s.Principal?.AWS).includes('*'));
    expect(conditionsHold(org.Condition, principalOf('444455556666', 'o-abcdefghij'))).toBe(true);
    expect(conditionsHold(org.Condition, principalOf('444455556666', 'o-otherorgxyz1'))).toBe(false);
  });

  it('throttles, traces and access-logs the stage as JSON', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('^\\{.*"requestId"'),
      },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 1000,
          ThrottlingBurstLimit: 2000,
        }),
      ]),
    });
    customTemplate.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 2000 }),
      ]),
    });
    const stage = Object.values(resources).find((r) => r.Type === 'AWS::ApiGateway::Stage');
    expect(() => JSON.parse(stage.Properties.AccessLogSetting.Format)).not.toThrow();
  });

  it('grantInvoke grants exactly the execute-api ARNs of the given operations', () => {
    const statements = roleStatements(customResources, logicalId(operator));
    const apiId = logicalId(custom.api);
    expect(grants(statements)).toEqual({
      'execute-api:Invoke': [
        `arn:<AWS::Partition>:execute-api:eu-west-1:123456789012:<${apiId}>/prod/POST/models/*/versions/*/stage`,
        `arn:<AWS::Partition>:execute-api:eu-west-1:123456789012:<${apiId}>/prod/PUT/models/*/aliases/*`,
      ],
    });
    const read = grants(roleStatements(customResources, logicalId(reader)))['execute-api:Invoke'];
    const readOps = ALL_OPERATIONS.filter((o) => audienceOf(o) === 'reader');
    expect(readOps.every((o) => o.group === 'read' || o.group === 'download')).toBe(true);
    expect(read).toEqual(
      [...new Set(readOps.map((o) => `${o.method}${o.path.replace(/\{[^}]+\}/g, '*')}`))]
        .map((suffix) => `arn:<AWS::Partition>:execute-api:eu-west-1:123456789012:<${apiId}>/prod/${suffix}`)
        .sort(),
    );
    expect(
      read.some((arn) => arn.endsWith('/prod/POST/api/2.0/mlflow/registered-models/get-latest-versions')),
    ).toBe(true);
    expect(read.some((arn) => /\/prod\/(POST|PUT|PATCH|DELETE)\/models/.test(arn))).toBe(false);
    expect(() => custom.grantInvoke(reader, 'noSuchOperation')).toThrow(/Unknown operationId/);
  });

  it('grant(audience) denies the routes of other audiences that its ARNs reach, unless also granted', () => {
    const apiId = logicalId(custom.api);
    const arn = (suffix: string) =>
      `arn:<AWS::Partition>:execute-api:eu-west-1:123456789012:<${apiId}>/prod/${suffix}`;
    const split = (role: iam.Role) => {
      const statements = roleStatements(customResources, logicalId(role));
      const of = (effect: string) =>
        statements
          .filter((s) => s.Effect === effect)
          .flatMap((s) => list(s.Resource).map(render))
          .sort();
      return { allow: of('Allow'), deny: of('Deny') };
    };
    const pattern = (o: { method: string; path: string }) =>
      `${o.method}${o.path.replace(/\{[^}]+\}/g, '*')}`;
    const routesOf = (...audiences: string[]) =>
      [...new Set(ALL_OPERATIONS.filter((o) => audiences.includes(audienceOf(o))).map(pattern))]
        .map(arn)
        .sort();

    // A registrant's DELETE/models/* would also reach DELETE /models/{name}/policy (a policy admin's).
    expect(split(registrant)).toEqual({
      allow: routesOf('registrant'),
      deny: [arn('DELETE/models/*/policy')],
    });
    expect(split(policyAdmin)).toEqual({
      allow: routesOf('policy-admin'),
      deny: [arn('DELETE/models/*/aliases/*'), arn('PUT/models/*/aliases/*')],
    });
    // Granted both, the role is denied neither's routes.
    expect(split(registrantAndAdmin)).toEqual({ allow: routesOf('registrant', 'policy-admin'), deny: [] });
    // A reader's ARNs reach nothing but reads.
    expect(split(reader).deny).toEqual([]);
  });

  it('grantMlflowArtifactRead grants GetObject on models/* and ListBucket limited to that prefix', () => {
    const statements = roleStatements(customResources, logicalId(mlflowClient));
    const bucket = logicalId(custom.artifactBucket);
    const rendered = statements.map((s) => ({ ...s, Resource: list(s.Resource).map(render) }));
    expect(rendered).toEqual(
      expect.arrayContaining([
        { Effect: 'Allow', Action: 's3:GetObject', Resource: [`<${bucket}.Arn>/models/*`] },
        {
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: [`<${bucket}.Arn>`],
          Condition: { StringLike: { 's3:prefix': ['models/*'] } },
        },
      ]),
    );
    // With a customer managed key, reading the objects needs kms:Decrypt on it, and nothing else.
    const others = rendered.filter((s) => !['s3:GetObject', 's3:ListBucket'].includes(s.Action as string));
    expect(others).toEqual([
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: [`<${logicalId(key)}.Arn>`] },
    ]);
  });
});

/** Resources Step Functions' CloudWatch Logs delivery needs on "*" (no resource-level support). */
const LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
];

describe('function roles', () => {
  const workflowRoleId = logicalId(defaults.approvalWorkflow.role);

  it('the stack has no roles but the function roles, the state machine role and the API Gateway logging role', () => {
    const roles = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
    const functionRoles = FUNCTION_NAMES.map((n) => logicalId(defaults.functions[n].role!));
    expect(new Set(functionRoles).size).toBe(FUNCTION_NAMES.length);
    // The webhook delivery function is the table's `webhooks` function.
    expect(defaults.webhooks.deliveryFunction).toBe(defaults.functions.webhooks);
    expect(roles.map(([id]) => id).sort()).toEqual(
      [...functionRoles, workflowRoleId, logicalId(defaults.api.node.findChild('CloudWatchRole'))].sort(),
    );
  });

  it('only the approve and reconcile roles may drive the approval state machine, and only it', () => {
    const stateMachine = `<${logicalId(defaults.approvalWorkflow)}>`;
    const executions = `arn:<AWS::Partition>:states:eu-west-1:123456789012:execution:<${logicalId(defaults.approvalWorkflow)}.Name>:*`;
    const approve = logicalId(defaults.functions.approve.role!);
    const reconcile = logicalId(defaults.functions.reconcile.role!);
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::IAM::Policy') continue;
      for (const s of r.Properties.PolicyDocument.Statement as Statement[]) {
        const statesActions = list(s.Action).filter((a) => a.startsWith('states:'));
        if (statesActions.length === 0) continue;
        const roleIds = list(r.Properties.Roles).map((x: any) => x.Ref);
        if (statesActions.includes('states:DescribeExecution')) {
          // Its executions (named by request id), to find one that was lost.
          expect(roleIds, id).toEqual([reconcile]);
          expect(list(s.Resource).map(render)).toEqual([executions]);
          expect(statesActions).toEqual(['states:DescribeExecution']);
        } else if (statesActions.includes('states:StartExecution')) {
          // The reconcile function, and nothing else, starts executions (named by request id).
          expect(roleIds, id).toEqual([reconcile]);
          expect(list(s.Resource).map(render)).toEqual([stateMachine]);
          expect(statesActions.sort()).toEqual([
            'states:SendTaskFailure',
            'states:SendTaskSuccess',
            'states:StartExecution',
          ]);
        } else {
          expect(roleIds, id).toEqual([approve]);
          expect(list(s.Resource).map(render)).toEqual([stateMachine]);
          expect(statesActions.sort()).toEqual(['states:SendTaskFailure', 'states:SendTaskSuccess']);
        }
      }
    }
  });

  it('the state machine role invokes the workflow function only (plus log delivery and X-Ray)', () => {
    expect(grants(roleStatements(resources, workflowRoleId))).toEqual(
      Object.fromEntries(
        [
          ['lambda:InvokeFunction', [`<${logicalId(defaults.functions.workflow)}.Arn>`]] as const,
          ...LOG_DELIVERY_ACTIONS.map((a) => [a, ['*']] as const),
          ...[
            'xray:GetSamplingRules',
            'xray:GetSamplingTargets',
            'xray:PutTelemetryRecords',
            'xray:PutTraceSegments',
          ].map((a) => [a, ['*']] as const),
        ].sort(([a], [b]) => a.localeCompare(b)),
      ),
    );
  });

  it('the relay (and the write function, replaying recorded events) publish to the registry bus only, and the workflow function has no Step Functions access', () => {
    const relay = grants(roleStatements(resources, logicalId(defaults.functions.relay.role!)));
    expect(relay['events:PutEvents']).toEqual([`<${logicalId(defaults.eventBus)}.Arn>`]);
    const write = grants(roleStatements(resources, logicalId(defaults.functions.write.role!)));
    expect(write['events:PutEvents']).toEqual([`<${logicalId(defaults.eventBus)}.Arn>`]);
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'relay' && n !== 'write')) {
      const g = grants(roleStatements(resources, logicalId(defaults.functions[name].role!)));
      expect(
        Object.keys(g).filter((a) => a.startsWith('events:')),
        name,
      ).toEqual([]);
      expect(
        Object.keys(g).filter((a) => a.startsWith('dynamodb:') && a.endsWith('Stream')),
        name,
      ).toEqual([]);
    }
    const workflow = grants(roleStatements(resources, logicalId(defaults.functions.workflow.role!)));
    expect(Object.keys(workflow).filter((a) => a.startsWith('states:'))).toEqual([]);
  });

  it.each(FUNCTION_NAMES)('%s holds exactly its actions, each on exactly its resources', (name) => {
    const statements = roleStatements(resources, logicalId(defaults.functions[name].role!));
    expect(grants(statements)).toEqual(expectedGrants(defaults, resources, name));
  });

  it.each(
    FUNCTION_NAMES,
  )('%s with a KMS key also gets kms:Decrypt/GenerateDataKey on that key only', (name) => {
    const statements = roleStatements(customResources, logicalId(custom.functions[name].role!));
    expect(grants(statements)).toEqual(
      expectedGrants(custom, customResources, name, `<${logicalId(key)}.Arn>`),
    );
  });

  it('no role has a wildcard action, and only X-Ray and log delivery (no resource-level support) a wildcard resource', () => {
    for (const [registry, res] of [
      [defaults, resources],
      [custom, customResources],
    ] as const) {
      const roleIds = [
        ...FUNCTION_NAMES.map((name) => logicalId(registry.functions[name].role!)),
        logicalId(registry.approvalWorkflow.role),
      ];
      for (const roleId of roleIds) {
        const isStateMachine = roleId === logicalId(registry.approvalWorkflow.role);
        for (const s of roleStatements(res, roleId)) {
          for (const action of list(s.Action)) expect(action).not.toContain('*');
          // The reconcile role describes the state machine's executions, named at run time.
          if (list(s.Action).includes('states:DescribeExecution')) {
            expect(list(s.Resource).map(render)).toEqual([
              `arn:<AWS::Partition>:states:eu-west-1:123456789012:execution:<${logicalId(registry.approvalWorkflow)}.Name>:*`,
            ]);
            continue;
          }
          if (list(s.Resource).some((r) => render(r) === '*')) {
            expect(list(s.Resource)).toEqual(['*']);
            const actions = list(s.Action).sort();
            if (isStateMachine && actions[0].startsWith('logs:'))
              expect(actions).toEqual(LOG_DELIVERY_ACTIONS);
            else if (isStateMachine)
              expect(actions).toEqual([
                'xray:GetSamplingRules',
                'xray:GetSamplingTargets',
                'xray:PutTelemetryRecords',
                'xray:PutTraceSegments',
              ]);
            else expect(actions).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
          }
          for (const r of list(s.Resource).map(render)) {
            if (r !== '*') expect(r.replace(/\/models\/\*$/, '')).not.toContain('*');
          }
        }
      }
    }
  });
});

describe('functions', () => {
  const fns = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');

  it('are the functions of the function table (the webhook delivery function included), arm64 on nodejs22.x with active tracing and their own log group', () => {
    expect(fns.map(([id]) => id).sort()).toEqual(
      FUNCTION_NAMES.map((n) => logicalId(defaults.functions[n])).sort(),
    );
    for (const [, fn] of fns) {
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe('model-registry');
      const logGroup = resources[fn.Properties.LoggingConfig.LogGroup.Ref];
      expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup.Properties.RetentionInDays).toBe(90);
    }
  });

  it('get the environment their code reads', () => {
    const vars = (name: FunctionName, res = resources, registry = defaults) =>
      res[logicalId(registry.functions[name])].Properties.Environment.Variables;
    const table = { Ref: logicalId(defaults.table) };
    const bucket = { Ref: logicalId(defaults.artifactBucket) };
    for (const name of FUNCTION_NAMES) expect(vars(name)[TABLE_NAME_ENV]).toEqual(table);
    // Nothing but what the function table lists for it (whose names are the schema's keys).
    for (const name of FUNCTION_NAMES) {
      expect(FUNCTIONS[name].environment, name).toEqual(expect.arrayContaining(Object.keys(vars(name))));
    }
    // write only learns the bucket's name (MLflow's create-version refuses a source in another
    // model's managed files); it has no S3 permission.
    for (const name of ['upload', 'download', 'verify', 'write'] as const)
      expect(vars(name).ARTIFACT_BUCKET).toEqual(bucket);
    expect(vars('read').ARTIFACT_BUCKET).toBeUndefined();
    expect(vars('upload')).toMatchObject({
      VERIFY_FUNCTION_NAME: { Ref: logicalId(defaults.functions.verify) },
      UPLOAD_URL_TTL_SECONDS: '900',
      PENDING_VERSION_TTL_HOURS: '24',
    });
    expect(vars('download').DOWNLOAD_URL_TTL_SECONDS).toBe('900');
    expect(vars('upload', customResources, custom)).toMatchObject({
      UPLOAD_URL_TTL_SECONDS: '1800',
      PENDING_VERSION_TTL_HOURS: '48',
    });
    // Only the relay and the write function (event replay) learn the bus, and only the relay its
    // dead-letter queue; without a governancePolicy prop the functions use the default.
    expect(vars('relay').EVENT_BUS_NAME).toEqual({ Ref: logicalId(defaults.eventBus) });
    expect(vars('write').EVENT_BUS_NAME).toEqual({ Ref: logicalId(defaults.eventBus) });
    expect(vars('relay').RELAY_DEAD_LETTER_QUEUE_URL).toEqual({
      Ref: logicalId(defaults.relayDeadLetterQueue),
    });
    for (const name of FUNCTION_NAMES) {
      if (name !== 'relay' && name !== 'write') expect(vars(name).EVENT_BUS_NAME, name).toBeUndefined();
      if (name !== 'relay') expect(vars(name).RELAY_DEAD_LETTER_QUEUE_URL, name).toBeUndefined();
      expect(vars(name).GOVERNANCE_POLICY, name).toBeUndefined();
    }
  });

  it('share one page-token secret, generated by CloudFormation and passed by reference, never in plaintext', () => {
    const secrets = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret');
    expect(secrets.map(([id]) => id)).toEqual([logicalId(defaults.pageTokenSecret)]);
    const [, secret] = secrets[0]!;
    expect(secret.Properties.GenerateSecretString).toEqual({ PasswordLength: 48, ExcludePunctuation: true });
    expect(secret.Properties.SecretString).toBeUndefined();
    const reference = {
      'Fn::Join': [
        '',
        ['{{resolve:secretsmanager:', { Ref: logicalId(defaults.pageTokenSecret) }, ':SecretString:::}}'],
      ],
    };
    // Every function that serves routes (search and list routes issue and accept page tokens).
    const searchGroups = new Set(
      ALL_OPERATIONS.filter(
        (o) => o.operationId.startsWith('search') || o.operationId.includes('Search'),
      ).map((o) => o.group),
    );
    expect(searchGroups.size).toBeGreaterThan(0);
    for (const name of FUNCTION_NAMES) {
      const vars = resources[logicalId(defaults.functions[name])].Properties.Environment.Variables;
      if (FUNCTIONS[name].api) expect(vars.PAGE_TOKEN_SECRET, name).toEqual(reference);
      else expect(vars.PAGE_TOKEN_SECRET, name).toBeUndefined();
    }
    for (const group of searchGroups) expect(FUNCTIONS[group].api, group).toBe(true);
    // Nothing but the reference: no generated value anywhere in the template.
    const text = JSON.stringify(template.toJSON());
    expect(text.match(/PAGE_TOKEN_SECRET":\{"Fn::Join/g)?.length).toBe(
      FUNCTION_NAMES.filter((n) => FUNCTIONS[n].api).length,
    );
    expect(text).not.toMatch(/PAGE_TOKEN_SECRET":"/);
  });

  it('give the functions a governance profile by name, or the whole effective policy with overrides', () => {
    expect(governancePolicyValue(undefined, undefined)).toBeUndefined();
    expect(governancePolicyValue(GovernanceProfile.MLFLOW, undefined)).toBe('mlflow');
    expect(governancePolicyValue(GovernanceProfile.GOVERNED, undefined)).toBe('governed');
    for (const profile of Object.values(GovernanceProfile)) {
      expect(parseDeploymentPolicy(governancePolicyValue(profile, undefined))).toEqual(
        POLICY_PROFILES[profile],
      );
    }
    // Overrides alone: JSON over the governed defaults, as before.
    expect(JSON.parse(governancePolicyValue(undefined, { requiredApprovals: 2 })!)).toEqual({
      required_approvals: 2,
    });
    // A profile and overrides: every field, so reading it over the governed defaults gives the
    // profile with the overrides, not the governed policy with them.
    const both = governancePolicyValue(GovernanceProfile.MLFLOW, { qualityGates: ['accuracy >= 0.9'] })!;
    expect(Object.keys(JSON.parse(both)).sort()).toEqual(
      Object.keys(
        JSON.parse(governancePolicyValue(GovernanceProfile.GOVERNED, { requiredApprovals: 1 })!),
      ).sort(),
    );
    expect(parseDeploymentPolicy(both)).toEqual({
      ...MLFLOW_POLICY,
      qualityGates: parseDeploymentPolicy('{"quality_gates":["accuracy >= 0.9"]}').qualityGates,
    });
    expect(() => governancePolicyValue('strict' as GovernanceProfile, undefined)).toThrow(
      /governanceProfile: unknown profile 'strict'/,
    );
    // The stack's context key takes a profile name as well as JSON.
    const fromContext = (value: unknown) =>
      propsFromContext(new App({ context: { 'modelRegistry:governancePolicy': value } }).node).props;
    expect(fromContext('mlflow')).toMatchObject({ governanceProfile: GovernanceProfile.MLFLOW });
    expect(fromContext('mlflow').governancePolicy).toBeUndefined();
    expect(fromContext(' governed ')).toMatchObject({ governanceProfile: GovernanceProfile.GOVERNED });
    expect(fromContext('{"required_approvals":2}')).toMatchObject({
      governancePolicy: { requiredApprovals: 2 },
    });
    expect(fromContext('{"required_approvals":2}').governanceProfile).toBeUndefined();
    expect(() => fromContext('strict')).toThrow(
      /must be a profile name \(governed, mlflow\) or a JSON object/,
    );
  });

  it('keep the governancePolicy and identityTrust documents out of every environment (they travel in the asset)', () => {
    // Lambda allows 4 KB of environment in all; test/infra/function-assets.test.ts checks the file.
    for (const name of FUNCTION_NAMES) {
      const vars = customResources[logicalId(custom.functions[name])].Properties.Environment.Variables;
      expect(vars.GOVERNANCE_POLICY, name).toBeUndefined();
      expect(vars.IDENTITY_TRUST, name).toBeUndefined();
    }
    const invalid = (governancePolicy: object) => () =>
      new ModelRegistry(new Stack(new App(), 'S'), 'R', { governancePolicy });
    expect(invalid({ qualityGates: ['accuracy ~ 3'] })).toThrow(
      /governancePolicy: policy\.quality_gates\.0: Invalid quality gate/,
    );
    expect(invalid({ requiredApprovals: 0 })).toThrow(/governancePolicy: policy\.required_approvals/);
    expect(invalid({ guardedStages: ['None'] })).toThrow(/governancePolicy/);
    expect(invalid({ requiredCardSections: ['limitations', 'fairness'] })).toThrow(
      /governancePolicy: policy\.required_card_sections\.1: 'fairness' is not a model card section; choose from model_details, intended_use/,
    );
  });

  it('rejects an upload URL TTL over one hour and malformed account or organization ids', () => {
    const stack = () => new Stack(new App(), 'S');
    expect(() => new ModelRegistry(stack(), 'R', { uploadUrlTtl: Duration.minutes(61) })).toThrow(
      /uploadUrlTtl/,
    );
    expect(() => new ModelRegistry(stack(), 'R', { allowedAccountIds: ['12345'] })).toThrow(
      /allowedAccountIds/,
    );
    expect(() => new ModelRegistry(stack(), 'R', { organizationId: 'org-1' })).toThrow(/organizationId/);
    expect(() => new ModelRegistry(stack(), 'R', { pendingVersionTtl: Duration.minutes(90) })).toThrow(
      /pendingVersionTtl/,
    );
  });
});

describe('storage', () => {
  it('builds the table from functions/deployment/table.ts, with PITR, SSE and deletion protection', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' },
          { AttributeName: TABLE_SORT_KEY, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: Object.values(INDEXES).map((i) => ({
          IndexName: i.indexName,
          KeySchema: [
            { AttributeName: i.partitionKey, KeyType: 'HASH' },
            { AttributeName: i.sortKey, KeyType: 'RANGE' },
          ],
          // Each index carries only what its queries need (functions/deployment/table.ts).
          Projection:
            i.projection.type === 'INCLUDE'
              ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...i.projection.attributes] }
              : { ProjectionType: i.projection.type },
        })),
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      },
    });
    customTemplate.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(key), 'Arn'] },
        },
        DeletionProtectionEnabled: false,
      }),
    });
  });

  it('keeps both buckets private, encrypted, TLS-only and ACL-free', () => {
    const buckets = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(2);
    const policies = Object.values(resources).filter((r) => r.Type === 'AWS::S3::BucketPolicy');
    for (const [id, bucket] of buckets) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(
        bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault,
      ).toEqual({
        SSEAlgorithm: 'AES256',
      });
      expect(bucket.Properties.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
      const policy = policies.find((p) => p.Properties.Bucket.Ref === id);
      expect(policy, `${id} bucket policy`).toBeDefined();
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  it('versions the artifact bucket, logs its access and cleans up multipart uploads and old versions', () => {
    const artifact = resources[logicalId(defaults.artifactBucket)].Properties;
    expect(artifact.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(artifact.LoggingConfiguration.DestinationBucketName).toEqual({
      Ref: logicalId(defaults.accessLogsBucket!),
    });
    expect(artifact.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' }),
      ]),
    );
    expect(resources[logicalId(defaults.accessLogsBucket!)].Properties.LoggingConfiguration).toBeUndefined();
  });

  it('uses the KMS key for the artifact bucket when given', () => {
    const artifact = customResources[logicalId(custom.artifactBucket)].Properties;
    expect(artifact.BucketEncryption.ServerSideEncryptionConfiguration[0]).toEqual({
      BucketKeyEnabled: true,
      ServerSideEncryptionByDefault: {
        SSEAlgorithm: 'aws:kms',
        KMSMasterKeyID: { 'Fn::GetAtt': [logicalId(key), 'Arn'] },
      },
    });
  });

  it('keys artifact objects under the prefix the roles are scoped to', () => {
    expect(artifactPrefix('id', 1).startsWith(ARTIFACT_KEY_PREFIX)).toBe(true);
  });

  it('creates the event bus with an archive, named uniquely per stack instance unless eventBusName is given', () => {
    // A fixed name would make a second registry in the account, or a redeploy while the retained
    // bus still exists, fail.
    const [bus] = Object.values(resources).filter((r) => r.Type === 'AWS::Events::EventBus');
    expect(bus.Properties.Name).toEqual({
      'Fn::Join': [
        '',
        [
          { Ref: 'AWS::StackName' },
          '-model-registry-',
          { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
        ],
      ],
    });
    expect(bus.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 365 });
    customTemplate.hasResourceProperties('AWS::Events::EventBus', { Name: 'team-models' });
  });

  it('logs the state machine to a group under /aws/vendedlogs/, unique to the stack instance', () => {
    const machine = Object.values(resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine');
    const groupId =
      machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn[
        'Fn::GetAtt'
      ][0];
    const name = resources[groupId].Properties.LogGroupName;
    expect(name['Fn::Join'][1][0]).toBe('/aws/vendedlogs/states/');
    expect(JSON.stringify(name)).toContain('{"Ref":"AWS::StackName"}');
    // The UUID part of the stack id: a new stack (after a destroy that retained the group) gets a new name.
    expect(JSON.stringify(name)).toContain('{"Fn::Select":[2,{"Fn::Split":["/",{"Ref":"AWS::StackId"}]}]}');
  });
});

/** A CloudFormation string with intrinsics (Fn::Join of strings and Fn::GetAtt/Ref) as text. */
function resolveString(value: any, substitute: (intrinsic: any) => string): string {
  if (typeof value === 'string') return value;
  if (value?.['Fn::Join']) {
    const [sep, parts] = value['Fn::Join'];
    return parts.map((p: any) => resolveString(p, substitute)).join(sep);
  }
  return substitute(value);
}

describe('governance', () => {
  const one = (type: string, res = resources) => {
    const found = Object.entries(res).filter(([, r]) => r.Type === type);
    return found;
  };

  it('deploys the approval state machine from functions/deployment/approval-workflow.ts, unchanged', () => {
    const [[, machine]] = one('AWS::StepFunctions::StateMachine');
    expect(machine.Properties.StateMachineType).toBe('STANDARD');
    const PLACEHOLDER = 'arn:aws:lambda:eu-west-1:123456789012:function:workflow-placeholder';
    const workflowFn = logicalId(defaults.functions.workflow);
    const definition = resolveString(machine.Properties.DefinitionString, (intrinsic) => {
      expect(intrinsic).toEqual({ 'Fn::GetAtt': [workflowFn, 'Arn'] });
      return PLACEHOLDER;
    });
    expect(JSON.parse(definition)).toEqual(approvalWorkflowDefinition(PLACEHOLDER));
  });

  it('logs (without execution data) and traces the state machine, with its own role', () => {
    const [[, machine]] = one('AWS::StepFunctions::StateMachine');
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(machine.Properties.LoggingConfiguration).toMatchObject({
      Level: 'ALL',
      IncludeExecutionData: false,
      Destinations: [
        { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } },
      ],
    });
    expect(machine.Properties.RoleArn).toEqual({
      'Fn::GetAtt': [logicalId(defaults.approvalWorkflow.role), 'Arn'],
    });
  });

  it("starts it through the reconcile function, from a rule whose pattern is the deployment module's RULES.startApproval", () => {
    // start approval, reconcile schedule, retire artifacts, smoke-test events, and the webhook
    // delivery rule and its retry schedule
    const rules = one('AWS::Events::Rule');
    expect(rules).toHaveLength(6);
    const rule = resources[logicalId(defaults.startApprovalRule)];
    // The local runtime routes with RULES.startApproval: the deployed rule matches exactly the same events.
    expect(rule.Properties.EventPattern).toEqual(RULES.startApproval);
    expect(rule.Properties.EventBusName).toEqual({ Ref: logicalId(defaults.eventBus) });
    // A Lambda target: EventBridge cannot name an execution; the function names it by request id.
    expect(rule.Properties.Targets).toEqual([
      {
        Id: 'Target0',
        Arn: { 'Fn::GetAtt': [logicalId(defaults.functions.reconcile), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(defaults.approvalDeadLetterQueue), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
      },
    ]);
    expect(
      resources[logicalId(defaults.functions.reconcile)].Properties.Environment.Variables.STATE_MACHINE_ARN,
    ).toEqual({ Ref: logicalId(defaults.approvalWorkflow) });
  });

  it('runs the reconciler every minute on the default bus', () => {
    const schedule = resources[logicalId(defaults.reconcileRule)];
    expect(schedule.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect(schedule.Properties.EventBusName).toBeUndefined();
    expect(schedule.Properties.Targets).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': [logicalId(defaults.functions.reconcile), 'Arn'] } }),
    ]);
  });

  it("onPromotion subscribes a target with the deployment module's promotionPattern (default Production)", () => {
    expect(customResources[logicalId(promotionRule)].Properties.EventPattern).toEqual(
      promotionPattern('Production', 'fraud-detector'),
    );
    expect(customResources[logicalId(stagingRule)].Properties.EventPattern).toEqual(
      promotionPattern('Staging'),
    );
    expect(customResources[logicalId(promotionRule)].Properties.EventBusName).toEqual({
      Ref: logicalId(custom.eventBus),
    });
    expect(customResources[logicalId(promotionRule)].Properties.Targets[0].Arn).toEqual({
      'Fn::GetAtt': [logicalId(deployQueue), 'Arn'],
    });
  });

  it("relays the outbox: the table stream with the deployment module's filter, retries, bisection and a dead-letter queue", () => {
    const mappings = one('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    const [[, mapping]] = mappings;
    expect(mapping.Properties).toEqual({
      FunctionName: { Ref: logicalId(defaults.functions.relay) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(defaults.table), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86400,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(defaults.relayDeadLetterQueue), 'Arn'] } },
      },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify(OUTBOX_STREAM_FILTER) }] },
    });
    // Lambda checks the role when it creates the mapping: the role's policy must exist first.
    const relayPolicy = Object.entries(resources).find(
      ([, r]) =>
        r.Type === 'AWS::IAM::Policy' &&
        list(r.Properties.Roles).some((x: any) => x.Ref === logicalId(defaults.functions.relay.role!)),
    )![0];
    expect(list(mapping.DependsOn)).toContain(relayPolicy);
  });

  it('keeps every dead-letter queue encrypted, TLS-only, for 14 days', () => {
    for (const queue of [
      defaults.relayDeadLetterQueue,
      defaults.approvalDeadLetterQueue,
      defaults.verifyDeadLetterQueue,
      defaults.cleanupDeadLetterQueue,
    ]) {
      const id = logicalId(queue);
      expect(resources[id].Properties).toEqual({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1209600,
      });
      const policy = Object.values(resources).find(
        (r) => r.Type === 'AWS::SQS::QueuePolicy' && r.Properties.Queues[0].Ref === id,
      );
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
    // EventBridge may send to the approval DLQ for this rule only.
    const approvalPolicy = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::SQS::QueuePolicy' &&
        r.Properties.Queues[0].Ref === logicalId(defaults.approvalDeadLetterQueue),
    );
    expect(approvalPolicy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: {
          ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalId(defaults.startApprovalRule), 'Arn'] } },
        },
      }),
    );
  });
});

describe('verification', () => {
  it('retries a failed verification twice within 6 hours, then sends the job to the verify dead-letter queue', () => {
    const configs = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::EventInvokeConfig' &&
        r.Properties.FunctionName.Ref === logicalId(defaults.functions.verify),
    );
    expect(configs).toHaveLength(1);
    expect(configs[0].Properties).toEqual({
      FunctionName: { Ref: logicalId(defaults.functions.verify) },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(defaults.verifyDeadLetterQueue), 'Arn'] } },
      },
    });
  });

  it('lets only the verify role send to the verify dead-letter queue (Lambda sends with it)', () => {
    const queue = `<${logicalId(defaults.verifyDeadLetterQueue)}.Arn>`;
    for (const name of FUNCTION_NAMES) {
      const g = grants(roleStatements(resources, logicalId(defaults.functions[name].role!)));
      expect((g['sqs:SendMessage'] ?? []).includes(queue), name).toBe(name === 'verify');
    }
  });

  it('alarms as soon as one verification is dead-lettered', () => {
    const alarm = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        JSON.stringify(r.Properties.Dimensions ?? []).includes(logicalId(defaults.verifyDeadLetterQueue)),
    );
    expect(alarm.Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });
});

describe('artifacts of deleted models and versions', () => {
  const bucketId = logicalId(defaults.artifactBucket);
  const policyOf = (res: Record<string, any>, id: string) =>
    Object.values(res).find((r) => r.Type === 'AWS::S3::BucketPolicy' && r.Properties.Bucket.Ref === id);

  it("sends each deletion event to the cleanup function, with the deployment module's pattern", () => {
    const rule = resources[logicalId(defaults.retireArtifactsRule)];
    expect(rule.Properties.EventPattern).toEqual(RULES.retireArtifacts);
    expect(rule.Properties.EventPattern['detail-type']).toEqual([
      'RegisteredModelDeleted',
      'ModelVersionDeleted',
    ]);
    expect(rule.Properties.EventBusName).toEqual({ Ref: logicalId(defaults.eventBus) });
    expect(rule.Properties.Targets).toEqual([
      {
        Id: 'Target0',
        Arn: { 'Fn::GetAtt': [logicalId(defaults.functions.cleanup), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(defaults.cleanupDeadLetterQueue), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
      },
    ]);
    const invokeConfig = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::EventInvokeConfig' &&
        r.Properties.FunctionName.Ref === logicalId(defaults.functions.cleanup),
    );
    expect(invokeConfig.Properties).toMatchObject({
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(defaults.cleanupDeadLetterQueue), 'Arn'] } },
      },
    });
  });

  it('denies reading a tagged (deleted) object to everyone, so URLs issued before the delete die at once', () => {
    expect(policyOf(resources, bucketId).Properties.PolicyDocument.Statement).toContainEqual({
      Sid: 'DenyReadingDeletedArtifacts',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/models/*']] },
      Condition: { StringEquals: { 's3:ExistingObjectTag/registry-deleted': 'true' } },
    });
  });

  it('expires tagged objects after the retention window (30 days, or deletedArtifactRetention)', () => {
    const rule = (res: Record<string, any>, registry: ModelRegistry) =>
      res[logicalId(registry.artifactBucket)].Properties.LifecycleConfiguration.Rules.find(
        (r: any) => r.Id === 'expire-deleted-artifacts',
      );
    expect(rule(resources, defaults)).toEqual({
      Id: 'expire-deleted-artifacts',
      Prefix: 'models/',
      TagFilters: [{ Key: 'registry-deleted', Value: 'true' }],
      ExpirationInDays: 30,
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      Status: 'Enabled',
    });
    expect(rule(customResources, custom).ExpirationInDays).toBe(7);
    expect(
      () =>
        new ModelRegistry(new Stack(new App(), 'S'), 'R', { deletedArtifactRetention: Duration.hours(36) }),
    ).toThrow(/deletedArtifactRetention must be a whole number of days/);
  });

  it('allows presigned uploads and downloads from the consoleOrigins only, and has no CORS rule without them', () => {
    expect(resources[bucketId].Properties.CorsConfiguration).toBeUndefined();
    expect(customResources[logicalId(custom.artifactBucket)].Properties.CorsConfiguration).toEqual({
      CorsRules: [
        {
          AllowedOrigins: ['https://console.example.com'],
          AllowedMethods: ['GET', 'PUT', 'HEAD'],
          AllowedHeaders: [
            'content-type',
            'content-length',
            'if-none-match',
            'x-amz-checksum-sha256',
            'x-amz-*',
          ],
          ExposedHeaders: ['ETag'],
          MaxAge: 3000,
        },
      ],
    });
    expect(
      () =>
        new ModelRegistry(new Stack(new App(), 'S'), 'R', {
          consoleOrigins: ['https://console.example.com/'],
        }),
    ).toThrow(/consoleOrigins/);
  });
});

describe('smoke-test events', () => {
  it('copies the events of smoke-test models, and only those, to a queue kept for an hour (output SmokeTestEventQueueUrl)', () => {
    const queue = defaults.smokeTestEventQueue!;
    const queueId = logicalId(queue);
    const [ruleId, rule] = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties.Targets).includes(queueId),
    )!;
    expect(rule.Properties.EventPattern).toEqual(SMOKE_TEST_PATTERN);
    expect(rule.Properties.EventBusName).toEqual({ Ref: logicalId(defaults.eventBus) });
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
      }),
    ]);
    expect(resources[queueId].Properties).toMatchObject({
      MessageRetentionPeriod: 3600,
      SqsManagedSseEnabled: true,
    });
    const policy = Object.values(resources).find(
      (r) => r.Type === 'AWS::SQS::QueuePolicy' && JSON.stringify(r.Properties.Queues).includes(queueId),
    );
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
      }),
    );
    template.hasOutput('SmokeTestEventQueueUrl', { Value: { Ref: queueId } });
  });

  it('is left out of a registry without smokeTestEvents', () => {
    expect(custom.smokeTestEventQueue).toBeUndefined();
    const patterns = Object.values(customResources)
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .map((r) => JSON.stringify(r.Properties.EventPattern ?? null));
    expect(patterns.filter((p) => p.includes('smoke-test-'))).toEqual([]);
  });
});

describe('operations', () => {
  const alarmsOf = (res: Record<string, any>) =>
    Object.values(res).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
  const alarmNamed = (res: Record<string, any>, registry: ModelRegistry, id: string) =>
    res[logicalId(registry.node.findChild(id))];

  it('alarms on a p99 API latency over the threshold (3 s, or alarmThresholds.apiLatencyP99) for 15 minutes', () => {
    expect(alarmNamed(resources, defaults, 'ApiLatencyP99').Properties).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Threshold: 3000,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarmNamed(customResources, custom, 'ApiLatencyP99').Properties.Threshold).toBe(1500);
  });

  it('alarms on the share of 4XX answers, ignoring periods of fewer than 20 requests', () => {
    const { Properties } = alarmNamed(resources, defaults, 'Api4xxRate');
    expect(Properties.Threshold).toBe(0.25);
    expect(Properties.EvaluationPeriods).toBe(3);
    const expression = Properties.Metrics.find((m: any) => m.Expression);
    expect(expression.Expression).toBe('IF(requests >= 20, errors / requests, 0)');
    const metrics = Properties.Metrics.filter((m: any) => m.MetricStat).map(
      (m: any) => `${m.Id}=${m.MetricStat.Metric.MetricName}`,
    );
    expect(metrics.sort()).toEqual(['errors=4XXError', 'requests=Count']);
  });

  it('alarms on throttled table reads or writes', () => {
    const { Properties } = alarmNamed(resources, defaults, 'TableThrottles');
    const metrics = Properties.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric);
    expect(metrics.map((m: any) => m.MetricName).sort()).toEqual([
      'ReadThrottleEvents',
      'WriteThrottleEvents',
    ]);
    for (const m of metrics) {
      expect(m.Dimensions).toEqual([{ Name: 'TableName', Value: { Ref: logicalId(defaults.table) } }]);
    }
    expect(Properties.Threshold).toBe(1);
  });

  it('alarms on approval workflow executions that timed out or were aborted', () => {
    for (const [id, metric] of [
      ['ApprovalWorkflowTimedOut', 'ExecutionsTimedOut'],
      ['ApprovalWorkflowAborted', 'ExecutionsAborted'],
    ]) {
      expect(alarmNamed(resources, defaults, id!).Properties).toMatchObject({
        Namespace: 'AWS/States',
        MetricName: metric,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('sends every alarm, and its return to OK, to alarmTopic when one is given', () => {
    expect(alarmsOf(resources).every((a) => a.Properties.AlarmActions === undefined)).toBe(true);
    for (const a of alarmsOf(customResources)) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: logicalId(topic) }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: logicalId(topic) }]);
    }
  });

  it('has a dashboard (named by CloudFormation) showing every alarm and every function', () => {
    const [dashboard] = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    expect(dashboard.Properties.DashboardName).toBeUndefined();
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const a of defaults.alarms) expect(body).toContain(logicalId(a));
    for (const name of FUNCTION_NAMES) expect(body).toContain(logicalId(defaults.functions[name]));
    for (const metric of ['ExecutionsTimedOut', 'ReadThrottleEvents', 'IteratorAge', 'Latency']) {
      expect(body).toContain(metric);
    }
  });

  it('samples API requests with its own X-Ray rule (5% by default, or tracingSampling)', () => {
    const rule = (res: Record<string, any>) =>
      Object.values(res).find((r) => r.Type === 'AWS::XRay::SamplingRule').Properties.SamplingRule;
    expect(rule(resources)).toMatchObject({
      ReservoirSize: 0,
      FixedRate: 0.05,
      Priority: 9000,
      ServiceName: 'Default-model-registry/prod',
      ServiceType: 'AWS::ApiGateway::Stage',
    });
    expect(rule(resources).RuleName.length).toBeLessThanOrEqual(32);
    expect(rule(customResources)).toMatchObject({ ReservoirSize: 1, FixedRate: 0.5 });
    expect(rule(customResources).RuleName).not.toBe(rule(resources).RuleName);
    expect(
      () => new ModelRegistry(new Stack(new App(), 'S'), 'R', { tracingSampling: { fixedRate: 2 } }),
    ).toThrow(/fixedRate/);
  });
});

describe('webhooks', () => {
  const hooks = () => defaults.webhooks;

  it("delivers through its own function, from a rule whose pattern is the deployment module's RULES.deliverWebhooks", () => {
    const rule = resources[logicalId(hooks().deliveryRule)];
    // The local event router matches with the same pattern.
    expect(rule.Properties.EventPattern).toEqual(RULES.deliverWebhooks);
    expect(rule.Properties.EventBusName).toEqual({ Ref: logicalId(defaults.eventBus) });
    expect(rule.Properties.Targets).toEqual([
      {
        Id: 'Target0',
        Arn: { 'Fn::GetAtt': [logicalId(hooks().deliveryFunction), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(hooks().deadLetterQueue), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
      },
    ]);
    const schedule = resources[logicalId(hooks().retrySchedule)];
    expect(schedule.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect(schedule.Properties.Targets[0].Arn).toEqual({
      'Fn::GetAtt': [logicalId(hooks().deliveryFunction), 'Arn'],
    });
  });

  it('parks events the function failed on in its encrypted, TLS-only dead-letter queue', () => {
    const id = logicalId(hooks().deadLetterQueue);
    expect(resources[id].Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    const config = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::EventInvokeConfig' &&
        r.Properties.FunctionName.Ref === logicalId(hooks().deliveryFunction),
    );
    expect(config.Properties).toMatchObject({
      FunctionName: { Ref: logicalId(hooks().deliveryFunction) },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [id, 'Arn'] } } },
    });
  });

  it('seals secrets with a rotating KMS key that only the write and delivery functions may use', () => {
    const key = resources[logicalId(hooks().key)];
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const keyArn = `<${logicalId(hooks().key)}.Arn>`;
    const users: Record<string, string[]> = {};
    for (const r of Object.values(resources)) {
      if (r.Type !== 'AWS::IAM::Policy') continue;
      for (const st of r.Properties.PolicyDocument.Statement as Statement[]) {
        if (!list(st.Resource).map(render).includes(keyArn)) continue;
        for (const role of list(r.Properties.Roles).map((x: any) => x.Ref)) {
          users[role] = [...(users[role] ?? []), ...list(st.Action)].sort();
        }
      }
    }
    expect(users).toEqual({
      [logicalId(defaults.functions.write.role!)]: ['kms:Decrypt', 'kms:Encrypt'],
      [logicalId(hooks().deliveryFunction.role!)]: ['kms:Decrypt'],
    });
    const env = (fn: Construct) => resources[logicalId(fn)].Properties.Environment.Variables;
    expect(env(hooks().deliveryFunction).WEBHOOK_KMS_KEY_ID).toEqual({
      'Fn::GetAtt': [logicalId(hooks().key), 'Arn'],
    });
    expect(env(defaults.functions.write).WEBHOOK_KMS_KEY_ID).toEqual({
      'Fn::GetAtt': [logicalId(hooks().key), 'Arn'],
    });
    expect(env(defaults.functions.read).WEBHOOK_KMS_KEY_ID).toBeUndefined();
  });

  it('gives the delivery function exactly its actions, each on exactly its resources', () => {
    const T = `<${logicalId(defaults.table)}.Arn>`;
    const fn = resources[logicalId(hooks().deliveryFunction)];
    const logs = `<${fn.Properties.LoggingConfig.LogGroup.Ref}.Arn>`;
    expect(grants(roleStatements(resources, logicalId(hooks().deliveryFunction.role!)))).toEqual({
      'dynamodb:GetItem': [T],
      'dynamodb:PutItem': [T],
      'dynamodb:Query': [`${T}/index/${INDEXES.byOpenRequest.indexName}`],
      'dynamodb:UpdateItem': [T],
      'kms:Decrypt': [`<${logicalId(hooks().key)}.Arn>`],
      'logs:CreateLogStream': [logs],
      'logs:PutLogEvents': [logs],
      'sqs:SendMessage': [`<${logicalId(hooks().deadLetterQueue)}.Arn>`],
      'xray:PutTelemetryRecords': ['*'],
      'xray:PutTraceSegments': ['*'],
    });
    // With a customer managed key, the table's items are decrypted (and written) with it too.
    const customGrants = grants(
      roleStatements(customResources, logicalId(custom.webhooks.deliveryFunction.role!)),
    );
    expect(customGrants['kms:GenerateDataKey']).toEqual([`<${logicalId(key)}.Arn>`]);
    expect(customGrants['kms:Decrypt']!.sort()).toEqual(
      [`<${logicalId(key)}.Arn>`, `<${logicalId(custom.webhooks.key)}.Arn>`].sort(),
    );
  });
});

describe('alarms and outputs', () => {
  it('alarms on every function, the API, the dead-letter queues, failed workflows and a lagging relay', () => {
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    // Errors and throttles of every function of the table (the webhook delivery function included).
    const functionCount = FUNCTION_NAMES.length;
    expect(alarms).toHaveLength(functionCount * 2 + 13);
    const metrics = alarms.map((a) => `${a.Properties.Namespace}/${a.Properties.MetricName}`).sort();
    expect(metrics.filter((m) => m === 'AWS/Lambda/Errors')).toHaveLength(functionCount);
    expect(metrics.filter((m) => m === 'AWS/Lambda/Throttles')).toHaveLength(functionCount);
    expect(metrics).toContain('AWS/ApiGateway/5XXError');
    expect(metrics.filter((m) => m === 'AWS/SQS/ApproximateNumberOfMessagesVisible')).toHaveLength(5);
    const alarmed = (metric: string) =>
      alarms.filter((a) => a.Properties.MetricName === metric).map((a) => a.Properties.Dimensions[0].Value);
    expect(alarmed('Errors')).toContainEqual({ Ref: logicalId(defaults.webhooks.deliveryFunction) });
    expect(alarmed('Throttles')).toContainEqual({ Ref: logicalId(defaults.webhooks.deliveryFunction) });
    expect(alarmed('ApproximateNumberOfMessagesVisible')).toContainEqual({
      'Fn::GetAtt': [logicalId(defaults.webhooks.deadLetterQueue), 'QueueName'],
    });
    const failed = alarms.find((a) => a.Properties.MetricName === 'ExecutionsFailed');
    expect(failed.Properties).toMatchObject({
      Namespace: 'AWS/States',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalId(defaults.approvalWorkflow) } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    const lag = alarms.find((a) => a.Properties.MetricName === 'IteratorAge');
    expect(lag.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      Statistic: 'Maximum',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(defaults.functions.relay) } }],
      Threshold: 300_000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    for (const a of alarms.filter((x) => x.Properties.MetricName === 'ApproximateNumberOfMessagesVisible')) {
      expect(a.Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
    for (const a of Object.values(customResources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm')) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: logicalId(topic) }]);
    }
  });

  it('outputs the API URL, table, event bus, artifact bucket and state machine', () => {
    for (const name of ['ApiUrl', 'TableName', 'EventBusName', 'ArtifactBucketName', 'StateMachineArn'])
      template.hasOutput(name, {});
    template.hasOutput('StateMachineArn', { Value: { Ref: logicalId(defaults.approvalWorkflow) } });
  });
});

describe('context', () => {
  it('reads cdk.json context, including -c strings', () => {
    const node = new App({
      context: {
        'modelRegistry:stackName': 'Reg',
        'modelRegistry:removalPolicy': 'destroy',
        'modelRegistry:allowedAccountIds': '["111122223333","444455556666"]',
        'modelRegistry:logRetentionDays': '30',
        'modelRegistry:organizationId': 'o-abcdefghij',
        'modelRegistry:uploadUrlTtlSeconds': '600',
        'modelRegistry:governancePolicy':
          '{"guarded_stages":["Staging","Production"],"required_approvals":2,"request_ttl_hours":1.5,"requester_may_approve":false}',
      },
    }).node;
    const { stackName, props } = propsFromContext(node);
    expect(stackName).toBe('Reg');
    expect(props.removalPolicy).toBe(RemovalPolicy.DESTROY);
    expect(props.allowedAccountIds).toEqual(['111122223333', '444455556666']);
    expect(props.logRetention).toBe(30);
    expect(props.organizationId).toBe('o-abcdefghij');
    expect(props.uploadUrlTtl?.toSeconds()).toBe(600);
    expect(props.governancePolicy).toMatchObject({
      guardedStages: ['Staging', 'Production'],
      requiredApprovals: 2,
      requesterMayApprove: false,
    });
    expect(props.governancePolicy?.requestTtl?.toMinutes()).toBe(90);
    const fromJson = propsFromContext(
      new App({
        context: {
          'modelRegistry:governancePolicy': {
            guarded_stages: [],
            protect_live_versions: false,
            required_card_sections: ['intended_use', 'limitations'],
          },
        },
      }).node,
    );
    expect(fromJson.props.governancePolicy).toEqual({
      guardedStages: [],
      protectLiveVersions: false,
      requiredCardSections: ['intended_use', 'limitations'],
    });
    expect(JSON.parse(governancePolicyJson(fromJson.props.governancePolicy!))).toEqual({
      guarded_stages: [],
      protect_live_versions: false,
      required_card_sections: ['intended_use', 'limitations'],
    });
    expect(() => governancePolicyJson({ requiredCardSections: ['fairness'] })).toThrow(
      /governancePolicy: .*'fairness' is not a model card section/,
    );
    expect(propsFromContext(new App().node).props.governancePolicy).toBeUndefined();
    expect(() =>
      propsFromContext(new App({ context: { 'modelRegistry:governancePolicy': '{"approvers":3}' } }).node),
    ).toThrow(/unknown field 'approvers'/);
    const list = propsFromContext(
      new App({ context: { 'modelRegistry:allowedAccountIds': '111122223333, 444455556666' } }).node,
    );
    expect(list.props.allowedAccountIds).toEqual(['111122223333', '444455556666']);
    expect(() =>
      propsFromContext(new App({ context: { 'modelRegistry:removalPolicy': 'snapshot' } }).node),
    ).toThrow();
    expect(() =>
      propsFromContext(new App({ context: { 'modelRegistry:logRetentionDays': 42 } }).node),
    ).toThrow();
  });
});

/**
 * Whether a statement's conditions hold for a request with these context keys, by IAM's rules for
 * the string operators (a key absent from the request fails a positive operator and satisfies a
 * negated one). Any other operator fails the test: teach it here before relying on it.
 */
function conditionsHold(
  condition: Record<string, Record<string, unknown>> | undefined,
  context: Record<string, string>,
) {
  const glob = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
  const operators: Record<string, { negated: boolean; test: (actual: string, wanted: string) => boolean }> = {
    StringEquals: { negated: false, test: (a, w) => a === w },
    StringNotEquals: { negated: true, test: (a, w) => a === w },
    StringLike: { negated: false, test: (a, w) => glob(w).test(a) },
    StringNotLike: { negated: true, test: (a, w) => glob(w).test(a) },
    ArnLike: { negated: false, test: (a, w) => glob(w).test(a) },
    ArnNotLike: { negated: true, test: (a, w) => glob(w).test(a) },
  };
  return Object.entries(condition ?? {}).every(([operator, keys]) => {
    const op = operators[operator];
    if (!op) throw new Error(`conditionsHold does not know the operator ${operator}`);
    return Object.entries(keys).every(([key, values]) => {
      const actual = context[key];
      if (actual === undefined) return op.negated;
      const any = list(values as string | string[]).some((w) => op.test(actual, render(w)));
      return op.negated ? !any : any;
    });
  });
}
