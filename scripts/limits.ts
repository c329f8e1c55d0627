/**
 * Every AWS limit the deployment could break, measured on synthesized templates and compared with
 * the limit: the default registry and the largest valid one (every list prop at its maximum, a
 * governance policy of 50 quality gates with 250-character metric names, a 128-character stack
 * name). Values that CloudFormation only knows at deploy time (names, ARNs) are counted at their
 * longest possible length, so a measured size is an upper bound of the deployed one.
 *
 * `npm run docs:limits` writes the table into docs/limits.md (between its markers);
 * test/infra/limits.test.ts checks every row is within its limit and that the file is fresh.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack, aws_sns as sns, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FUNCTION_NAMES, type FunctionName } from '../functions/deployment/functions';
import {
  boundedForPublishing,
  PUT_EVENTS_ENTRY_LIMIT,
  putEventsEntry,
  putEventsEntrySize,
} from '../functions/domain/event-size';
import { type RegistryEvent, registryEvent } from '../functions/domain/events';
import { CARD_EVENT_INLINE_BYTES } from '../functions/domain/model-card';
import {
  DESCRIPTION_MAX_LENGTH,
  MAX_METRICS,
  MAX_TAGS_PER_ENTITY,
  MODEL_NAME_MAX_BYTES,
  TAG_VALUE_MAX_LENGTH,
} from '../functions/domain/rules';
import { SOURCE_MAX_LENGTH } from '../functions/domain/sources';
import { governancePolicyJson, MAX_ALLOWED_ACCOUNTS, MAX_CONSOLE_ORIGINS } from '../lib/configuration';
import { type ModelRegistry, type ModelRegistryProps, PAGE_TOKEN_SECRET_LENGTH } from '../lib/model-registry';
import { ModelRegistryStack } from '../lib/model-registry-stack';

// biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template is untyped JSON
type Resources = Record<string, { Type: string; Properties?: any }>;
type CfnTemplate = { Resources: Resources; Outputs?: Record<string, unknown> };

// ------------------------------------------------------------------ longest values of tokens

const REGION = 20; // longest region code today is 14 characters ("ap-southeast-7")
const PARTITION = 10; // "aws-us-gov"
const ACCOUNT = 12;
const URL_SUFFIX = 16; // "amazonaws.com.cn"
const STACK_NAME = 128;
const UUID = 36;

const x = (n: number) => 'x'.repeat(n);
const arn = (service: string, resource: string, regional = true) =>
  `arn:${x(PARTITION)}:${service}:${regional ? x(REGION) : ''}:${regional ? x(ACCOUNT) : ''}:${resource}`;

/** The longest name CloudFormation may give (or a user may set on) a resource of each type. */
const NAME_LENGTH: Record<string, number> = {
  'AWS::Lambda::Function': 64,
  'AWS::DynamoDB::Table': 255,
  'AWS::S3::Bucket': 63,
  'AWS::SQS::Queue': 80,
  'AWS::Events::EventBus': 256,
  'AWS::Events::Rule': 64,
  'AWS::StepFunctions::StateMachine': 80,
  'AWS::Logs::LogGroup': 512,
  'AWS::IAM::Role': 64,
  'AWS::KMS::Key': 36,
  'AWS::SNS::Topic': 256,
  'AWS::ApiGateway::RestApi': 10,
  'AWS::CloudWatch::Alarm': 255,
  'AWS::SecretsManager::Secret': 512,
};

function nameOf(type: string): string {
  const n = NAME_LENGTH[type];
  if (n === undefined) throw new Error(`No longest name known for ${type}: add it to scripts/limits.ts`);
  return x(n);
}

/** What `Ref` returns, at its longest. */
function refOf(type: string): string {
  switch (type) {
    case 'AWS::SQS::Queue':
      return `https://sqs.${x(REGION)}.${x(URL_SUFFIX)}/${x(ACCOUNT)}/${nameOf(type)}`;
    case 'AWS::StepFunctions::StateMachine':
      return arn('states', `stateMachine:${nameOf(type)}`);
    case 'AWS::SNS::Topic':
      return arn('sns', nameOf(type));
    case 'AWS::SecretsManager::Secret':
      // Its ARN, with the six random characters Secrets Manager appends.
      return arn('secretsmanager', `secret:${nameOf(type)}-${x(6)}`);
    case 'AWS::Events::Rule':
      // A rule of a custom bus is "<bus>|<rule>".
      return `${nameOf('AWS::Events::EventBus')}|${nameOf(type)}`;
    default:
      return nameOf(type);
  }
}

/** What `Fn::GetAtt` returns, at its longest. */
function attOf(type: string, attribute: string): string {
  const name = () => nameOf(type);
  const key = `${type}.${attribute}`;
  switch (key) {
    case 'AWS::Lambda::Function.Arn':
      return arn('lambda', `function:${name()}`);
    case 'AWS::DynamoDB::Table.Arn':
      return arn('dynamodb', `table/${name()}`);
    case 'AWS::DynamoDB::Table.StreamArn':
      return arn('dynamodb', `table/${name()}/stream/${x(23)}`);
    case 'AWS::S3::Bucket.Arn':
      return arn('s3', name(), false);
    case 'AWS::SQS::Queue.Arn':
      return arn('sqs', name());
    case 'AWS::SQS::Queue.QueueName':
      return name();
    case 'AWS::Events::EventBus.Arn':
      return arn('events', `event-bus/${name()}`);
    case 'AWS::Events::EventBus.Name':
      return name();
    case 'AWS::Events::Rule.Arn':
      return arn('events', `rule/${nameOf('AWS::Events::EventBus')}/${name()}`);
    case 'AWS::StepFunctions::StateMachine.Name':
      return name();
    case 'AWS::Logs::LogGroup.Arn':
      return arn('logs', `log-group:${name()}:*`);
    case 'AWS::IAM::Role.Arn':
      return arn('iam', `role/${name()}`, false).replace(/::$/, '');
    case 'AWS::KMS::Key.Arn':
      return arn('kms', `key/${name()}`);
    case 'AWS::CloudWatch::Alarm.Arn':
      return arn('cloudwatch', `alarm:${name()}`);
    case 'AWS::ApiGateway::RestApi.RootResourceId':
      return x(10);
    default:
      throw new Error(`No longest value known for Fn::GetAtt ${key}: add it to scripts/limits.ts`);
  }
}

const PSEUDO: Record<string, string> = {
  'AWS::Region': x(REGION),
  'AWS::Partition': x(PARTITION),
  'AWS::AccountId': x(ACCOUNT),
  'AWS::URLSuffix': x(URL_SUFFIX),
  'AWS::StackName': x(STACK_NAME),
  'AWS::StackId': arn('cloudformation', `stack/${x(STACK_NAME)}/${x(UUID)}`),
};

/** A value of the template with every intrinsic replaced by its longest possible result. */
export function longest(value: unknown, resources: Resources): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => longest(v, resources));
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const [k] = keys as [string];
    const arg = o[k];
    if (k === 'Ref') {
      const ref = arg as string;
      if (ref in PSEUDO) return PSEUDO[ref];
      const r = resources[ref];
      if (!r) throw new Error(`Ref to unknown ${ref}`);
      return refOf(r.Type);
    }
    if (k === 'Fn::GetAtt') {
      const [id, attribute] = arg as [string, string];
      return attOf(resources[id]!.Type, attribute);
    }
    if (k === 'Fn::Join') {
      const [sep, parts] = arg as [string, unknown[]];
      const joined = parts.map((p) => String(longest(p, resources))).join(sep);
      // A dynamic reference is resolved by CloudFormation at deploy time, and the limits (Lambda's
      // 4 KB of environment) apply to the value: the only one the registry uses is the page-token
      // secret, generated at PAGE_TOKEN_SECRET_LENGTH characters.
      if (joined.startsWith('{{resolve:secretsmanager:')) return x(PAGE_TOKEN_SECRET_LENGTH);
      return joined;
    }
    if (k === 'Fn::Select') {
      // The only selection the registry makes: the UUID of the stack id.
      if (JSON.stringify(arg) === '[2,{"Fn::Split":["/",{"Ref":"AWS::StackId"}]}]') return x(UUID);
      throw new Error(`Unexpected Fn::Select ${JSON.stringify(arg)}`);
    }
    if (k.startsWith('Fn::')) throw new Error(`Unexpected ${k} in a measured value`);
  }
  return Object.fromEntries(keys.map((k) => [k, longest(o[k], resources)]));
}

// ------------------------------------------------------------------ the measured registries

/** The largest configuration the props accept (the alarm topic is one of another stack). */
export function largestProps(topicScope: Stack): ModelRegistryProps {
  const gate = (i: number) => `${'m'.repeat(247)}${String(i).padStart(3, '0')} >= 0.123456789012345`;
  return {
    allowedAccountIds: Array.from({ length: MAX_ALLOWED_ACCOUNTS }, (_, i) => String(100000000000 + i)),
    organizationId: `o-${'a'.repeat(32)}`,
    consoleOrigins: Array.from(
      { length: MAX_CONSOLE_ORIGINS },
      (_, i) => `https://console-${i}.${'e'.repeat(200)}.com`,
    ),
    governancePolicy: {
      guardedStages: ['Staging', 'Production'],
      requiredApprovals: 10,
      requesterMayApprove: false,
      requestTtl: Duration.days(365),
      protectLiveVersions: true,
      qualityGates: Array.from({ length: 50 }, (_, i) => gate(i)),
    },
    identityTrust: {
      identityCenter: true,
      trustedSessionRoles: Array.from(
        { length: 100 },
        (_, i) => `${'r'.repeat(61)}${String(i).padStart(3, '0')}`,
      ),
      federatedUserNames: true,
    },
    alarmTopic: sns.Topic.fromTopicArn(
      topicScope,
      'Alarms',
      `arn:aws:sns:eu-west-1:123456789012:${'t'.repeat(256)}`,
    ),
    logLevel: 'DEBUG',
  };
}

export interface MeasuredRegistry {
  readonly label: 'default' | 'largest';
  readonly template: CfnTemplate;
  readonly registry: ModelRegistry;
}

/** The default registry (the stack `cdk deploy` builds) and the largest valid one. */
export function measuredRegistries(): MeasuredRegistry[] {
  const env = { account: '123456789012', region: 'eu-west-1' };
  // Neither bundling nor asset staging: only the templates are measured.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:disable-asset-staging': true } });
  const defaults = new ModelRegistryStack(app, 'ModelRegistry', { env });
  // Holds only the imported alarm topic of the largest registry: no resources, nothing to deploy.
  const elsewhere = new Stack(app, 'Elsewhere', { env });
  Validations.of(elsewhere).acknowledge({
    id: 'CloudFormation-Validate::F0001',
    reason: 'Only an imported topic lives here; the stack is never deployed',
  });
  const largest = new ModelRegistryStack(app, 'Largest', {
    env,
    // CloudFormation's longest stack name, which several names are built from.
    stackName: `R${'x'.repeat(STACK_NAME - 1)}`,
    ...largestProps(elsewhere),
  });
  return [defaults, largest].map((stack, i) => ({
    label: i === 0 ? 'default' : 'largest',
    template: Template.fromStack(stack).toJSON() as CfnTemplate,
    registry: stack.registry,
  }));
}

// ------------------------------------------------------------------ the largest events

/**
 * The largest event of each kind that can carry much data, every field at the length the
 * registry's rules allow (functions/domain/rules.ts) and the actor an assumed-role session with
 * the longest role and session names.
 */
export function largestEvents(): RegistryEvent[] {
  const actor = {
    arn: `arn:${x(PARTITION)}:sts::${x(ACCOUNT)}:assumed-role/${x(64)}/${x(64)}`,
    person: `arn:${x(PARTITION)}:iam::${x(ACCOUNT)}:role/${x(64)}/${x(64)}`,
  };
  const common = { now: Date.UTC(2030, 0, 1), actor, model: { id: x(26), name: x(MODEL_NAME_MAX_BYTES) } };
  const key = (i: number) => `${'k'.repeat(247)}${String(i).padStart(3, '0')}`;
  const largestPolicy = JSON.parse(governancePolicyJson(largestProps(new Stack()).governancePolicy!));
  return [
    registryEvent('RegisteredModelCreated', {
      ...common,
      data: {
        description: x(DESCRIPTION_MAX_LENGTH),
        tags: Object.fromEntries(
          Array.from({ length: MAX_TAGS_PER_ENTITY }, (_, i) => [key(i), x(TAG_VALUE_MAX_LENGTH)]),
        ),
      },
    }),
    registryEvent('ModelVersionCreated', {
      ...common,
      version: 2_147_483_647,
      data: {
        version: 2_147_483_647,
        stage: 'None',
        status: 'PENDING_REGISTRATION',
        source: x(SOURCE_MAX_LENGTH),
        run_id: x(256),
        metrics: Object.fromEntries(
          Array.from({ length: MAX_METRICS }, (_, i) => [key(i), -1.2345678901234568e-300]),
        ),
        managed_files: 1000,
      },
    }),
    registryEvent('RegisteredModelUpdated', {
      ...common,
      data: {
        before: { description: x(DESCRIPTION_MAX_LENGTH) },
        after: { description: x(DESCRIPTION_MAX_LENGTH) },
      },
    }),
    registryEvent('ModelCardUpdated', {
      ...common,
      version: 2_147_483_647,
      data: {
        created: false,
        changed_sections: ['intended_use', 'limitations'],
        changes: [
          {
            section: 'intended_use',
            recorded: 'values',
            before: x(CARD_EVENT_INLINE_BYTES / 2),
            after: x(CARD_EVENT_INLINE_BYTES / 2),
          },
          { section: 'limitations', recorded: 'digests', before_sha256: x(64), after_sha256: x(64) },
        ],
        card_sha256: x(64),
        card_bytes: 128 * 1024,
      },
    }),
    registryEvent('GovernancePolicyChanged', {
      ...common,
      data: { before: largestPolicy, after: largestPolicy, request_id: x(26), approved_by: [actor.person] },
    }),
  ];
}

/**
 * Bytes of an event's PutEvents entry: as recorded, and as published (bounded by
 * `boundedForPublishing`: its largest fields emptied and named in `detail.truncated_fields`).
 */
export function eventEntrySizes(event: RegistryEvent): { recorded: number; published: number } {
  return {
    recorded: putEventsEntrySize(putEventsEntry(event)),
    published: putEventsEntrySize(putEventsEntry(boundedForPublishing(event))),
  };
}

// ------------------------------------------------------------------ measurements

export interface Measurement {
  /** What is limited. */
  readonly limit: string;
  /** The limit, and the unit both numbers are in. */
  readonly max: number;
  readonly unit: string;
  /** The value on each measured registry, and where it is highest. */
  readonly values: Readonly<Record<MeasuredRegistry['label'], { value: number; where: string }>>;
  /** The AWS documentation page of the limit. */
  readonly source: string;
}

const DOCS = {
  lambda: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
  iam: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html',
  cfn: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html',
  apigw:
    'https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html',
  sfn: 'https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html',
  s3: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/BucketRestrictions.html',
  sqs: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-policies.html',
  events: 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html',
  cloudwatch:
    'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html',
  xray: 'https://docs.aws.amazon.com/xray/latest/api/API_SamplingRule.html',
  putEvents: 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html',
  filters: 'https://docs.aws.amazon.com/lambda/latest/api/API_Filter.html',
  logs: 'https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html',
} as const;

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const json = (v: unknown) => JSON.stringify(v);

/** Per-function sizes, for the figures table. */
export interface FunctionFigures {
  readonly environmentBytes: number;
  readonly resourcePolicyBytes: number;
  readonly permissions: number;
  readonly rolePolicyCharacters: number;
}

export function functionFigures(m: MeasuredRegistry): Record<FunctionName, FunctionFigures> {
  const res = m.template.Resources;
  const out = {} as Record<FunctionName, FunctionFigures>;
  for (const name of FUNCTION_NAMES) {
    const fn = m.registry.functions[name];
    const id = Stack.of(fn).resolve(
      (fn.node.defaultChild as unknown as { logicalId: string }).logicalId,
    ) as string;
    const props = res[id]!.Properties;
    const environment = longest(props.Environment?.Variables ?? {}, res);
    // Lambda's policy document: one statement per permission, as AddPermission writes it.
    const functionArn = attOf('AWS::Lambda::Function', 'Arn');
    const permissions = Object.values(res).filter(
      (r) =>
        r.Type === 'AWS::Lambda::Permission' &&
        json(r.Properties.FunctionName) === json({ 'Fn::GetAtt': [id, 'Arn'] }),
    );
    const policy = {
      Version: '2012-10-17',
      Id: 'default',
      Statement: permissions.map((p) => ({
        Sid: x(100),
        Effect: 'Allow',
        Principal: { Service: p.Properties.Principal },
        Action: p.Properties.Action,
        Resource: functionArn,
        Condition: { ArnLike: { 'AWS:SourceArn': longest(p.Properties.SourceArn, res) } },
      })),
    };
    const roleId = json(props.Role).match(/"Fn::GetAtt":\["([^"]+)"/)![1]!;
    out[name] = {
      environmentBytes: bytes(json(environment)),
      resourcePolicyBytes: bytes(json(policy)),
      permissions: permissions.length,
      rolePolicyCharacters: rolePolicyCharacters(res, roleId),
    };
  }
  return out;
}

/** Characters of every inline policy of a role (IAM counts them without whitespace). */
function rolePolicyCharacters(res: Resources, roleId: string): number {
  let total = 0;
  for (const r of Object.values(res)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    if (!(r.Properties.Roles ?? []).some((x: { Ref?: string }) => x.Ref === roleId)) continue;
    total += json(longest(r.Properties.PolicyDocument, res)).length;
  }
  for (const inline of res[roleId]?.Properties?.Policies ?? []) {
    total += json(longest(inline.PolicyDocument, res)).length;
  }
  return total;
}

function highest(entries: [string, number][]): { value: number; where: string } {
  const [where, value] = entries.reduce((a, b) => (b[1] > a[1] ? b : a), ['', Number.NEGATIVE_INFINITY]);
  return { value: value === Number.NEGATIVE_INFINITY ? 0 : value, where };
}

type Probe = (m: MeasuredRegistry) => { value: number; where: string };

const ofType = (m: MeasuredRegistry, type: string) =>
  Object.entries(m.template.Resources).filter(([, r]) => r.Type === type);

const PROBES: readonly { limit: string; max: number; unit: string; source: string; probe: Probe }[] = [
  {
    limit: 'Lambda environment variables, per function',
    max: 4096,
    unit: 'bytes',
    source: DOCS.lambda,
    probe: (m) => highest(Object.entries(functionFigures(m)).map(([n, f]) => [n, f.environmentBytes])),
  },
  {
    limit: 'Lambda resource-based policy, per function',
    max: 20 * 1024,
    unit: 'bytes',
    source: DOCS.lambda,
    probe: (m) => highest(Object.entries(functionFigures(m)).map(([n, f]) => [n, f.resourcePolicyBytes])),
  },
  {
    limit: 'Lambda function description',
    max: 256,
    unit: 'characters',
    source: DOCS.lambda,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::Lambda::Function').map(([id, r]) => [id, (r.Properties.Description ?? '').length]),
      ),
  },
  {
    limit: 'IAM inline policies of a role, together',
    max: 10_240,
    unit: 'characters',
    source: DOCS.iam,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::IAM::Role').map(([id]) => [id, rolePolicyCharacters(m.template.Resources, id)]),
      ),
  },
  {
    limit: 'IAM role trust policy',
    max: 2048,
    unit: 'characters',
    source: DOCS.iam,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::IAM::Role').map(([id, r]) => [
          id,
          json(longest(r.Properties.AssumeRolePolicyDocument, m.template.Resources)).length,
        ]),
      ),
  },
  {
    limit: 'API Gateway resource policy',
    max: 8192,
    unit: 'characters',
    source: DOCS.apigw,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::ApiGateway::RestApi').map(([id, r]) => [
          id,
          json(longest(r.Properties.Policy, m.template.Resources)).length,
        ]),
      ),
  },
  {
    limit: 'API Gateway resources per API',
    max: 300,
    unit: 'resources',
    source: DOCS.apigw,
    // The root resource counts too.
    probe: (m) => ({ value: ofType(m, 'AWS::ApiGateway::Resource').length + 1, where: 'API' }),
  },
  {
    limit: 'CloudFormation resources per stack',
    max: 500,
    unit: 'resources',
    source: DOCS.cfn,
    probe: (m) => ({ value: Object.keys(m.template.Resources).length, where: 'stack' }),
  },
  {
    limit: 'CloudFormation outputs per stack',
    max: 200,
    unit: 'outputs',
    source: DOCS.cfn,
    probe: (m) => ({ value: Object.keys(m.template.Outputs ?? {}).length, where: 'stack' }),
  },
  {
    limit: 'CloudFormation template body (uploaded to S3 by the CDK)',
    max: 1024 * 1024,
    unit: 'bytes',
    source: DOCS.cfn,
    probe: (m) => ({ value: bytes(json(m.template)), where: 'template' }),
  },
  {
    limit: 'Step Functions state machine definition',
    max: 1024 * 1024,
    unit: 'bytes',
    source: DOCS.sfn,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::StepFunctions::StateMachine').map(([id, r]) => [
          id,
          bytes(String(longest(r.Properties.DefinitionString, m.template.Resources))),
        ]),
      ),
  },
  {
    limit: 'S3 bucket policy',
    max: 20 * 1024,
    unit: 'bytes',
    source: DOCS.s3,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::S3::BucketPolicy').map(([id, r]) => [
          id,
          bytes(json(longest(r.Properties.PolicyDocument, m.template.Resources))),
        ]),
      ),
  },
  {
    limit: 'S3 lifecycle rules per bucket',
    max: 1000,
    unit: 'rules',
    source: DOCS.s3,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::S3::Bucket').map(([id, r]) => [
          id,
          r.Properties.LifecycleConfiguration?.Rules?.length ?? 0,
        ]),
      ),
  },
  {
    limit: 'SQS queue policy',
    max: 8192,
    unit: 'bytes',
    source: DOCS.sqs,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::SQS::QueuePolicy').map(([id, r]) => [
          id,
          bytes(json(longest(r.Properties.PolicyDocument, m.template.Resources))),
        ]),
      ),
  },
  {
    limit: 'EventBridge rules per event bus (default quota)',
    max: 300,
    unit: 'rules',
    source: DOCS.events,
    probe: (m) => ({
      value: ofType(m, 'AWS::Events::Rule').filter(([, r]) => r.Properties.EventBusName !== undefined).length,
      where: 'registry bus',
    }),
  },
  {
    limit: 'EventBridge event bus name',
    max: 256,
    unit: 'characters',
    source: DOCS.events,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::Events::EventBus').map(([id, r]) => [
          id,
          String(longest(r.Properties.Name, m.template.Resources)).length,
        ]),
      ),
  },
  {
    limit: 'CloudWatch Logs log group name',
    max: 512,
    unit: 'characters',
    source: DOCS.logs,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::Logs::LogGroup')
          .filter(([, r]) => r.Properties.LogGroupName !== undefined)
          .map(([id, r]) => [id, String(longest(r.Properties.LogGroupName, m.template.Resources)).length]),
      ),
  },
  {
    limit: 'CloudWatch dashboard widgets',
    max: 500,
    unit: 'widgets',
    source: DOCS.cloudwatch,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::CloudWatch::Dashboard').map(([id, r]) => [
          id,
          (
            JSON.parse(String(longest(r.Properties.DashboardBody, m.template.Resources))) as {
              widgets: unknown[];
            }
          ).widgets.length,
        ]),
      ),
  },
  {
    limit: 'X-Ray sampling rule name',
    max: 32,
    unit: 'characters',
    source: DOCS.xray,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::XRay::SamplingRule').map(([id, r]) => [
          id,
          r.Properties.SamplingRule.RuleName.length,
        ]),
      ),
  },
  {
    limit: 'X-Ray sampling rule service name',
    max: 64,
    unit: 'characters',
    source: DOCS.xray,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::XRay::SamplingRule').map(([id, r]) => [
          id,
          String(longest(r.Properties.SamplingRule.ServiceName, m.template.Resources)).length,
        ]),
      ),
  },
  {
    limit: 'IAM customer managed policy (the registry creates none)',
    max: 6144,
    unit: 'characters',
    source: DOCS.iam,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::IAM::ManagedPolicy').map(([id, r]) => [
          id,
          json(longest(r.Properties.PolicyDocument, m.template.Resources)).length,
        ]),
      ),
  },
  {
    limit: 'IAM managed policies attached to a role (default quota)',
    max: 10,
    unit: 'policies',
    source: DOCS.iam,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::IAM::Role').map(([id, r]) => [id, (r.Properties.ManagedPolicyArns ?? []).length]),
      ),
  },
  {
    limit: 'Lambda function timeout',
    max: 900,
    unit: 'seconds',
    source: DOCS.lambda,
    probe: (m) =>
      highest(ofType(m, 'AWS::Lambda::Function').map(([id, r]) => [id, r.Properties.Timeout ?? 3])),
  },
  {
    limit: 'Lambda function memory',
    max: 10_240,
    unit: 'MB',
    source: DOCS.lambda,
    probe: (m) =>
      highest(ofType(m, 'AWS::Lambda::Function').map(([id, r]) => [id, r.Properties.MemorySize ?? 128])),
  },
  {
    limit: 'Lambda event filter pattern',
    max: 4096,
    unit: 'characters',
    source: DOCS.filters,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::Lambda::EventSourceMapping').flatMap(([id, r]) =>
          (r.Properties.FilterCriteria?.Filters ?? []).map((f: { Pattern: string }) => [
            id,
            f.Pattern.length,
          ]),
        ),
      ),
  },
  {
    limit: 'API Gateway integration timeout',
    max: 29_000,
    unit: 'ms',
    source: DOCS.apigw,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::ApiGateway::Method')
          .filter(([, r]) => r.Properties.Integration)
          .map(([id, r]) => [id, r.Properties.Integration.TimeoutInMillis ?? 29_000]),
      ),
  },
  {
    limit: 'EventBridge event pattern (default quota)',
    max: 2048,
    unit: 'characters',
    source: DOCS.events,
    probe: (m) =>
      highest(
        ofType(m, 'AWS::Events::Rule')
          .filter(([, r]) => r.Properties.EventPattern)
          .map(([id, r]) => [id, json(longest(r.Properties.EventPattern, m.template.Resources)).length]),
      ),
  },
  {
    limit: 'EventBridge targets per rule',
    max: 5,
    unit: 'targets',
    source: DOCS.events,
    probe: (m) =>
      highest(ofType(m, 'AWS::Events::Rule').map(([id, r]) => [id, (r.Properties.Targets ?? []).length])),
  },
  {
    limit: 'EventBridge PutEvents entry, largest event published',
    // EventBridge refuses an entry of 256 KB or more.
    max: PUT_EVENTS_ENTRY_LIMIT - 1,
    unit: 'bytes',
    source: DOCS.putEvents,
    probe: () => highest(largestEvents().map((e) => [e.type, eventEntrySizes(e).published])),
  },
];

export function measureLimits(registries: readonly MeasuredRegistry[] = measuredRegistries()): Measurement[] {
  // Sorted by limit, so each service's limits read together.
  return [...PROBES]
    .sort((a, b) => a.limit.localeCompare(b.limit, 'en'))
    .map(({ probe, ...row }) => ({
      ...row,
      values: Object.fromEntries(registries.map((m) => [m.label, probe(m)])) as Measurement['values'],
    }));
}

// ------------------------------------------------------------------ docs/limits.md

const BEGIN = '<!-- limits:begin (npm run docs:limits writes this section) -->';
const END = '<!-- limits:end -->';
export const LIMITS_FILE = join(__dirname, '..', 'docs', 'limits.md');

const n = (v: number) => v.toLocaleString('en-US');
const pct = (v: number, max: number) => `${Math.round((100 * v) / max)}%`;

export function limitsSection(registries: readonly MeasuredRegistry[] = measuredRegistries()): string {
  const rows = measureLimits(registries);
  const figures = Object.fromEntries(registries.map((m) => [m.label, functionFigures(m)])) as Record<
    MeasuredRegistry['label'],
    Record<FunctionName, FunctionFigures>
  >;
  const policyBytes = bytes(governancePolicyJson(largestProps(new Stack()).governancePolicy!));
  const largestRecorded = largestEvents()
    .map((e) => ({ type: e.type, recorded: eventEntrySizes(e).recorded }))
    .reduce((a, b) => (b.recorded > a.recorded ? b : a));
  const lines = [
    BEGIN,
    '',
    '## AWS limits of the deployment',
    '',
    'Measured by `scripts/limits.ts` on the synthesized templates of the default registry and of the',
    'largest valid one (100 allowed accounts, 20 console origins, a governance policy of 50 quality',
    'gates with 250-character metric names, 100 trusted session roles, a 128-character stack name).',
    'Names and ARNs CloudFormation assigns at deploy time are counted at their longest possible',
    'length, so each figure is an upper bound. `test/infra/limits.test.ts` fails when a figure',
    'exceeds its limit or this section is stale.',
    '',
    '| limit | AWS maximum | default | largest | share used (largest) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => {
      const d = r.values.default;
      const l = r.values.largest;
      return `| [${r.limit}](${r.source}) | ${n(r.max)} ${r.unit} | ${n(d.value)} | ${n(l.value)} | ${pct(l.value, r.max)} |`;
    }),
    '',
    'Per function (largest registry; the default registry in parentheses):',
    '',
    '| function | environment (bytes, of 4,096) | resource policy (bytes, of 20,480) | invoke permissions | role policies (characters, of 10,240) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...FUNCTION_NAMES.map((name) => {
      const l = figures.largest[name];
      const d = figures.default[name];
      return `| ${name} | ${n(l.environmentBytes)} (${n(d.environmentBytes)}) | ${n(l.resourcePolicyBytes)} (${n(d.resourcePolicyBytes)}) | ${l.permissions} | ${n(l.rolePolicyCharacters)} (${n(d.rolePolicyCharacters)}) |`;
    }),
    '',
    `The largest event the registry records, ${largestRecorded.type} (${n(largestRecorded.recorded)} bytes as a PutEvents`,
    "entry), is over EventBridge's entry limit: an event that would not fit is published with its largest",
    'fields emptied, named in `detail.truncated_fields`, and `detail.truncated: true`',
    '(`boundedForPublishing` in functions/domain/event-size.ts); the audit log keeps it whole. Locally',
    'the event log shows the same published form, and the local bus refuses an entry of 256 KB or more.',
    '',
    `The largest governance policy is ${n(policyBytes)} bytes of JSON, more than Lambda's 4 KB of`,
    'environment on its own: it reaches the functions in their code asset (`deployment-config.json`),',
    'not their environment (see `CONFIG_FILE_VARIABLES` in functions/deployment/environment.ts).',
    `Each API function has ${figures.largest.read.permissions} invoke permission for the whole API, whatever the number of routes.`,
    '',
    END,
  ];
  return `${lines.join('\n')}\n`;
}

/** docs/limits.md with its generated section replaced (appended when missing). */
export function renderLimitsFile(current: string, section: string = limitsSection()): string {
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (start === -1 || end === -1) return `${current.trimEnd()}\n\n${section}`;
  return `${current.slice(0, start)}${section}${current.slice(end + END.length).replace(/^\n/, '')}`;
}

if (require.main === module) {
  const current = readFileSync(LIMITS_FILE, 'utf8');
  writeFileSync(LIMITS_FILE, renderLimitsFile(current));
  console.log(`Wrote ${LIMITS_FILE}`);
}
