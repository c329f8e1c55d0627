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
import { artifactPrefix } from '../../functions/domain/artifacts';
import { approvalWorkflowDefinition } from '../../functions/wiring/approval-workflow';
import { OUTBOX_STREAM_FILTER, promotionPattern, RULES } from '../../functions/wiring/event-rules';
import {
  INDEXES,
  TABLE_NAME_ENV,
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  TTL_ATTRIBUTE,
} from '../../functions/wiring/table';
import { FUNCTION_NAMES, type FunctionName } from '../../lib/iam-actions';
import { ARTIFACT_KEY_PREFIX, governancePolicyJson, ModelRegistry } from '../../lib/model-registry';
import { ModelRegistryStack, propsFromContext } from '../../lib/model-registry-stack';
import { list, logicalId, render } from '../support/template';

const env = { account: '123456789012', region: 'eu-west-1' };
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });

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
    ? name === 'read' || name === 'download' || name === 'relay'
      ? { 'kms:Decrypt': [withKey] }
      : { 'kms:Decrypt': [withKey], 'kms:GenerateDataKey': [withKey] }
    : {};
  // The write function seals and opens webhook secrets with the webhook key (lib/webhooks.ts).
  const webhookKey = `<${logicalId(registry.webhooks.key)}.Arn>`;
  if (name === 'write') {
    kmsGrants['kms:Encrypt'] = [webhookKey];
    kmsGrants['kms:Decrypt'] = [...(kmsGrants['kms:Decrypt'] ?? []), webhookKey];
  }
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
          ThrottlingRateLimit: 100,
          ThrottlingBurstLimit: 200,
        }),
      ]),
    });
    customTemplate.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 200 }),
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
    const functionRoles = [
      ...FUNCTION_NAMES.map((n) => logicalId(defaults.functions[n].role!)),
      logicalId(defaults.webhooks.deliveryFunction.role!),
    ];
    expect(new Set(functionRoles).size).toBe(FUNCTION_NAMES.length + 1);
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

  it('are the registry functions and the webhook delivery function, arm64 on nodejs22.x with active tracing and their own log group', () => {
    expect(fns.map(([id]) => id).sort()).toEqual(
      [
        ...FUNCTION_NAMES.map((n) => logicalId(defaults.functions[n])),
        logicalId(defaults.webhooks.deliveryFunction),
      ].sort(),
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
    for (const name of ['upload', 'download', 'verify'] as const)
      expect(vars(name).ARTIFACT_BUCKET).toEqual(bucket);
    for (const name of ['read', 'write'] as const) expect(vars(name).ARTIFACT_BUCKET).toBeUndefined();
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

  it('give the API and workflow functions the governancePolicy prop as GOVERNANCE_POLICY (snake_case)', () => {
    const policyOf = (name: FunctionName) =>
      customResources[logicalId(custom.functions[name])].Properties.Environment.Variables.GOVERNANCE_POLICY;
    for (const name of [...API_GROUPS, 'workflow'] as const) {
      expect(JSON.parse(policyOf(name)), name).toEqual({
        guarded_stages: ['Staging', 'Production'],
        required_approvals: 2,
        request_ttl_hours: 72,
        quality_gates: ['accuracy >= 0.9'],
        required_card_sections: ['limitations', 'intended_use'],
      });
    }
    for (const name of ['verify', 'relay'] as const) expect(policyOf(name), name).toBeUndefined();
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
  it('builds the table from functions/wiring/table.ts, with PITR, SSE and deletion protection', () => {
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
          // Each index carries only what its queries need (functions/wiring/table.ts).
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
      Ref: logicalId(defaults.accessLogsBucket),
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
    expect(resources[logicalId(defaults.accessLogsBucket)].Properties.LoggingConfiguration).toBeUndefined();
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

  it('creates the event bus with an archive', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'model-registry' });
    template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 365 });
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

  it('deploys the approval state machine from functions/wiring/approval-workflow.ts, unchanged', () => {
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

  it("starts it through the reconcile function, from a rule whose pattern is the wiring's RULES.startApproval", () => {
    const rules = one('AWS::Events::Rule');
    // The start-approval rule, the reconcile schedule, and the webhook delivery rule and schedule.
    expect(rules).toHaveLength(4);
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

  it("onPromotion subscribes a target with the wiring's promotionPattern (default Production)", () => {
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

  it("relays the outbox: the table stream with the wiring's filter, retries, bisection and a dead-letter queue", () => {
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

  it('keeps both dead-letter queues encrypted, TLS-only, for 14 days', () => {
    for (const queue of [defaults.relayDeadLetterQueue, defaults.approvalDeadLetterQueue]) {
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

describe('webhooks', () => {
  const hooks = () => defaults.webhooks;

  it("delivers through its own function, from a rule whose pattern is the wiring's RULES.deliverWebhooks", () => {
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
  it('alarms on every function, the API, every dead-letter queue, failed workflows and a lagging relay', () => {
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    // The registry's functions and the webhook delivery function: errors and throttles each.
    const functionCount = FUNCTION_NAMES.length + 1;
    expect(alarms).toHaveLength(functionCount * 2 + 6);
    const metrics = alarms.map((a) => `${a.Properties.Namespace}/${a.Properties.MetricName}`).sort();
    expect(metrics.filter((m) => m === 'AWS/Lambda/Errors')).toHaveLength(functionCount);
    expect(metrics.filter((m) => m === 'AWS/Lambda/Throttles')).toHaveLength(functionCount);
    expect(metrics).toContain('AWS/ApiGateway/5XXError');
    expect(metrics.filter((m) => m === 'AWS/SQS/ApproximateNumberOfMessagesVisible')).toHaveLength(3);
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
