/**
 * The Serverless Model Registry as one L3 construct: DynamoDB table, artifact bucket, event bus,
 * Lambda functions (one per permission group), an IAM-authorized REST API built from the routes
 * in functions/api/routes.ts (the registry's own and MLflow's), one API Gateway method per
 * operation, and governed promotion: the approval state machine, the rule that starts it and the
 * outbox relay that publishes recorded events from the table's stream to the bus.
 *
 * The table comes from functions/wiring/table.ts, the routes from functions/api/routes.ts, the
 * state machine from functions/wiring/approval-workflow.ts and the event patterns and stream
 * filter from functions/wiring/event-rules.ts: the same modules the local runtime uses, so what
 * is tested locally is what is deployed. Each role holds exactly the actions of
 * lib/iam-actions.ts (`ROLE_ACTIONS`).
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import {
  ArnFormat,
  Aspects,
  AssetHashType,
  aws_apigateway as apigw,
  CfnResource,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  DockerImage,
  Duration,
  aws_dynamodb as dynamodb,
  aws_events as events,
  aws_events_targets as eventsTargets,
  aws_iam as iam,
  type aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  RemovalPolicy,
  type Size,
  Stack,
  aws_s3 as s3,
  aws_stepfunctions as sfn,
  type aws_sns as sns,
  aws_sqs as sqs,
  Token,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { type Audience, audienceOf, type FunctionGroup, type OperationSpec } from '../functions/api/contract';
import { ALL_OPERATIONS } from '../functions/api/routes';
import { parsePolicyOverride } from '../functions/domain/governance';
import { parseIdentityTrust } from '../functions/domain/identity';
import type { Stage } from '../functions/domain/model';
import { approvalWorkflowDefinition } from '../functions/wiring/approval-workflow';
import {
  EVENT_BUS_NAME_ENV,
  type EventPattern,
  OUTBOX_STREAM_FILTER,
  promotionPattern,
  RELAY_DEAD_LETTER_QUEUE_URL_ENV,
  RULES,
} from '../functions/wiring/event-rules';
import { createTableInput, TABLE_NAME_ENV, TTL_ATTRIBUTE } from '../functions/wiring/table';
import { audienceGrant } from './audience-grants';
import { FUNCTION_NAMES, type FunctionName, ROLE_ACTIONS } from './iam-actions';
import { RegistryConsole, type RegistryConsoleProps } from './registry-console';
import { RegistryWebhooks } from './webhooks';

/**
 * A function's code, bundled locally (no Docker) with the project's esbuild options
 * (lib/bundling.ts, the same the cold-start benchmark measures) by scripts/bundle-function.ts.
 */
export function bundledCode(entry: string): lambda.Code {
  return lambda.Code.fromAsset(path.join(REPO_ROOT, 'functions'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim'),
      // Part of the bundling cache key: each entry point is a different bundle.
      environment: { MREG_FUNCTION_ENTRY: entry },
      local: {
        tryBundle(outputDir: string) {
          execFileSync(
            process.execPath,
            [
              path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
              path.join(REPO_ROOT, 'scripts', 'bundle-function.ts'),
              path.join(REPO_ROOT, entry),
              outputDir,
            ],
            { cwd: REPO_ROOT, stdio: 'inherit' },
          );
          return true;
        },
      },
    },
  });
}

/** Artifact objects live under this key prefix (see `artifactPrefix` in functions/domain/artifacts.ts). */
export const ARTIFACT_KEY_PREFIX = 'models/';

/** The API Gateway stage every route is deployed to. */
export const API_STAGE_NAME = 'prod';

/** Longest lifetime of a presigned upload URL (`uploadUrlTtl`). */
export const MAX_UPLOAD_URL_TTL = Duration.hours(1);

/** Longest lifetime of a presigned download URL: Lambda's temporary credentials do not outlive it. */
export const MAX_DOWNLOAD_URL_TTL = Duration.hours(12);

export interface ModelRegistryThrottle {
  /** Steady-state requests per second for the stage. @default 100 */
  readonly rateLimit?: number;
  /** Burst capacity of the stage, in requests. @default 200 */
  readonly burstLimit?: number;
}

export interface ModelRegistryProps {
  /**
   * What happens to the stateful resources (table, buckets, event bus and archive, log groups)
   * when they are removed from the stack or the stack is deleted. With `RETAIN` the table also
   * gets DynamoDB deletion protection. With `DESTROY` the buckets are emptied on deletion.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Other AWS accounts whose IAM principals may call the API (the API resource policy allows
   * them; each caller still needs an identity policy granting `execute-api:Invoke`). The
   * deploying account is always allowed.
   * @default - only the deploying account
   */
  readonly allowedAccountIds?: readonly string[];
  /**
   * An AWS Organizations id (`o-...`): principals of any account in the organization may call
   * the API (resource policy condition `aws:PrincipalOrgID`).
   * @default - no organization-wide access
   */
  readonly organizationId?: string;
  /**
   * Retention of every log group of the stack (functions, API access and execution logs).
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * A customer managed KMS key for the table and the artifact bucket; the functions get
   * `kms:Decrypt` (readers) and `kms:Decrypt` + `kms:GenerateDataKey` (writers) on it.
   * @default - AWS managed encryption (DynamoDB AWS managed key, S3 SSE-S3)
   */
  readonly encryptionKey?: kms.IKey;
  /** Lifetime of presigned upload URLs; at most 1 hour. @default Duration.minutes(15) */
  readonly uploadUrlTtl?: Duration;
  /** Lifetime of presigned download URLs; at most 12 hours. @default Duration.minutes(15) */
  readonly downloadUrlTtl?: Duration;
  /**
   * How long a version may stay PENDING_REGISTRATION (waiting for its upload) before DynamoDB
   * TTL removes it, in whole hours. @default Duration.hours(24)
   */
  readonly pendingVersionTtl?: Duration;
  /** Noncurrent artifact object versions are deleted after this many days. @default Duration.days(30) */
  readonly noncurrentVersionExpiration?: Duration;
  /** Stage throttling. @default { rateLimit: 100, burstLimit: 200 } */
  readonly throttle?: ModelRegistryThrottle;
  /** Name of the EventBridge custom bus registry events go to. @default 'model-registry' */
  readonly eventBusName?: string;
  /** How long the event bus archive keeps events. @default Duration.days(365) */
  readonly eventArchiveRetention?: Duration;
  /** Powertools log level of the functions. @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Responses at least this large are compressed by API Gateway. @default - no compression */
  readonly minCompressionSize?: Size;
  /** SNS topic every alarm (and its return to OK) is sent to. @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The deployment's governance policy (each model may override it through its policy route).
   * Passed to the API and workflow functions as `GOVERNANCE_POLICY`.
   * @default - Production guarded, 1 approver other than the requester, requests expire after
   * 7 days, live versions protected, no quality gates
   */
  readonly governancePolicy?: GovernancePolicyProps;
  /**
   * Who the deployment trusts to name a person, for separation of duties and distinct approvers
   * (docs/identity.md). By default IAM Identity Center users are people; every other assumed role
   * is one person whatever its session name.
   * @default - Identity Center trusted, no other role, federated-user names not trusted
   */
  readonly identityTrust?: IdentityTrustProps;
  /**
   * Deploys the web console (lib/registry-console.ts, docs/console.md): CloudFront and S3, Cognito
   * sign-in and an identity pool whose users may invoke the routes of the console's audiences.
   * @default - no deployed console
   */
  readonly console?: RegistryConsoleProps;
}

/** Who names a person (docs/identity.md). */
export interface IdentityTrustProps {
  /** Session names of IAM Identity Center roles (`AWSReservedSSO_*`) name the user. @default true */
  readonly identityCenter?: boolean;
  /**
   * Roles (by name) whose session names a trusted identity provider sets (e.g. a SAML IdP setting
   * RoleSessionName to the user's e-mail): each session name is a person. @default []
   */
  readonly trustedSessionRoles?: string[];
  /** Federated-user names (sts:GetFederationToken) name a person. @default false */
  readonly federatedUserNames?: boolean;
}

/** A governance policy; every field left out keeps the registry's default. */
export interface GovernancePolicyProps {
  /** Stages a transition into needs approval. `[]` turns approval off. @default ['Production'] */
  readonly guardedStages?: readonly string[];
  /** Distinct approvers a transition request needs (1 to 10). @default 1 */
  readonly requiredApprovals?: number;
  /** Whether the requester may approve their own request. @default false */
  readonly requesterMayApprove?: boolean;
  /** How long a transition request waits for its approvals before it expires. @default Duration.days(7) */
  readonly requestTtl?: Duration;
  /** Refuse deleting a version in a guarded stage or with an alias. @default true */
  readonly protectLiveVersions?: boolean;
  /** Metric conditions a version must meet to enter a guarded stage, e.g. 'accuracy >= 0.9'. @default [] */
  readonly qualityGates?: readonly string[];
  /**
   * Model card sections a version must have filled in to enter a guarded stage or a protected
   * alias (checked with the quality gates), e.g. ['intended_use', 'limitations']. @default []
   */
  readonly requiredCardSections?: readonly string[];
}

/** Options of `ModelRegistry.onPromotion`. */
export interface OnPromotionOptions {
  /** The stage a version must reach. @default 'Production' */
  readonly stage?: Stage;
  /** Only versions of this registered model. @default - every model */
  readonly modelName?: string;
  /** Description of the rule. @default - names the stage and model */
  readonly description?: string;
}

type RegistryFunctions = Record<FunctionName, lambda.Function>;

const REPO_ROOT = path.join(__dirname, '..');

const FUNCTION_SETTINGS: Record<
  FunctionName,
  { entry: string; handler: string; memorySize: number; timeout: Duration; description: string }
> = {
  read: {
    entry: 'functions/handlers/read.ts',
    handler: 'handler',
    memorySize: 512,
    timeout: Duration.seconds(29),
    description: 'Model registry API: read routes (table read-only)',
  },
  write: {
    entry: 'functions/handlers/write.ts',
    handler: 'handler',
    memorySize: 512,
    timeout: Duration.seconds(29),
    description: 'Model registry API: mutations (table read-write)',
  },
  upload: {
    entry: 'functions/handlers/upload.ts',
    handler: 'handler',
    memorySize: 512,
    timeout: Duration.seconds(29),
    description: 'Model registry API: version creation and artifact upload',
  },
  download: {
    entry: 'functions/handlers/download.ts',
    handler: 'handler',
    memorySize: 512,
    timeout: Duration.seconds(29),
    description: 'Model registry API: presigned artifact downloads',
  },
  approve: {
    entry: 'functions/handlers/approve.ts',
    handler: 'handler',
    memorySize: 512,
    timeout: Duration.seconds(29),
    description: 'Model registry API: approve, reject and cancel transition requests',
  },
  verify: {
    entry: 'functions/handlers/verify.ts',
    handler: 'handler',
    memorySize: 1769,
    timeout: Duration.minutes(15),
    description: 'Model registry: verifies uploaded artifacts (invoked asynchronously by upload)',
  },
  reconcile: {
    entry: 'functions/handlers/reconcile.ts',
    handler: 'handler',
    memorySize: 512,
    timeout: Duration.seconds(60),
    description:
      'Model registry: starts approval workflows and reconciles requests (applies or fails approved ones left unapplied)',
  },
  workflow: {
    entry: 'functions/handlers/workflow.ts',
    handler: 'handler',
    memorySize: 512,
    // Below the 60 s TimeoutSeconds of the state machine's Task states.
    timeout: Duration.seconds(30),
    description: 'Model registry: the steps of the approval state machine (quality gates, apply, expire)',
  },
  relay: {
    entry: 'functions/handlers/relay.ts',
    handler: 'handler',
    memorySize: 256,
    timeout: Duration.seconds(60),
    description: 'Model registry: publishes recorded events (outbox entries of the table stream) to the bus',
  },
};

/** The API functions (the groups of functions/api/contract.ts), each serving its routes. */
const API_GROUPS: readonly FunctionGroup[] = ['read', 'write', 'upload', 'download', 'approve'];

/** MLflow error codes of API Gateway's own answers (requests that never reach a function). */
const GATEWAY_RESPONSES: readonly { type: apigw.ResponseType; status: string; code: string }[] = [
  { type: apigw.ResponseType.ACCESS_DENIED, status: '403', code: 'PERMISSION_DENIED' },
  // API Gateway also answers so for a method or path the API does not have.
  { type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, status: '401', code: 'UNAUTHENTICATED' },
  { type: apigw.ResponseType.INVALID_SIGNATURE, status: '401', code: 'UNAUTHENTICATED' },
  { type: apigw.ResponseType.EXPIRED_TOKEN, status: '401', code: 'UNAUTHENTICATED' },
  { type: apigw.ResponseType.THROTTLED, status: '429', code: 'REQUEST_LIMIT_EXCEEDED' },
  { type: apigw.ResponseType.REQUEST_TOO_LARGE, status: '413', code: 'PAYLOAD_TOO_LARGE' },
  { type: apigw.ResponseType.DEFAULT_4XX, status: '', code: 'BAD_REQUEST' },
  { type: apigw.ResponseType.DEFAULT_5XX, status: '', code: 'INTERNAL_ERROR' },
];

/** An event pattern of functions/wiring/event-rules.ts as the CDK's `EventPattern`. */
export function toCdkEventPattern(pattern: EventPattern): events.EventPattern {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pattern)) {
    if (key === 'detail-type') out.detailType = [...(value as readonly string[])];
    else if (key === 'source') out.source = [...(value as readonly string[])];
    else if (key === 'detail') out.detail = value;
    else throw new Error(`Event pattern field '${key}' is not mapped to the CDK's EventPattern`);
  }
  return out as events.EventPattern;
}

/** The governance policy as the functions read it (GOVERNANCE_POLICY, snake_case keys). */
export function governancePolicyJson(policy: GovernancePolicyProps): string {
  const json: Record<string, unknown> = {};
  if (policy.guardedStages !== undefined) json.guarded_stages = [...policy.guardedStages];
  if (policy.requiredApprovals !== undefined) json.required_approvals = policy.requiredApprovals;
  if (policy.requesterMayApprove !== undefined) json.requester_may_approve = policy.requesterMayApprove;
  if (policy.requestTtl !== undefined)
    json.request_ttl_hours = policy.requestTtl.toHours({ integral: false });
  if (policy.protectLiveVersions !== undefined) json.protect_live_versions = policy.protectLiveVersions;
  if (policy.qualityGates !== undefined) json.quality_gates = [...policy.qualityGates];
  if (policy.requiredCardSections !== undefined)
    json.required_card_sections = [...policy.requiredCardSections];
  // Fail at synth, with the functions' own validation, rather than at the first cold start.
  try {
    parsePolicyOverride(json);
  } catch (err) {
    throw new Error(`governancePolicy: ${(err as Error).message}`);
  }
  return JSON.stringify(json);
}

/** The identity trust as the functions read it (IDENTITY_TRUST, snake_case keys). */
export function identityTrustJson(trust: IdentityTrustProps): string {
  const json = JSON.stringify({
    ...(trust.identityCenter !== undefined ? { identity_center: trust.identityCenter } : {}),
    ...(trust.trustedSessionRoles !== undefined
      ? { trusted_session_roles: [...trust.trustedSessionRoles] }
      : {}),
    ...(trust.federatedUserNames !== undefined ? { federated_user_names: trust.federatedUserNames } : {}),
  });
  try {
    parseIdentityTrust(json);
  } catch (err) {
    throw new Error(`identityTrust: ${(err as Error).message}`);
  }
  return json;
}

const capitalize = (s: string) => s[0].toUpperCase() + s.slice(1);

/** `/models/{name}/versions/{version}` → `/models/*\/versions/*` (the execute-api ARN form). */
export function executeApiPath(routePath: string): string {
  return routePath.replace(/\{[^}]+\}/g, '*');
}

export class ModelRegistry extends Construct {
  public readonly table: dynamodb.Table;
  public readonly artifactBucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;
  public readonly eventBus: events.EventBus;
  public readonly api: apigw.RestApi;
  /** The Lambda functions, by API function group, plus `verify`, `workflow` and `relay`. */
  public readonly functions: RegistryFunctions;
  /** The API Gateway method of each operation, by operationId. */
  public readonly methods: Readonly<Record<string, apigw.Method>>;
  /** The approval state machine (functions/wiring/approval-workflow.ts). */
  public readonly approvalWorkflow: sfn.StateMachine;
  /** Starts the approval workflow for each TransitionRequested event (`RULES.startApproval`). */
  public readonly startApprovalRule: events.Rule;
  /** Runs the reconciler every minute. */
  public readonly reconcileRule: events.Rule;
  /** Stream records the relay could not publish after its retries. */
  public readonly relayDeadLetterQueue: sqs.Queue;
  /** TransitionRequested events EventBridge could not deliver to the reconcile function (the reconciler's schedule starts their workflows anyway). */
  public readonly approvalDeadLetterQueue: sqs.Queue;
  /** Webhook delivery (lib/webhooks.ts): the delivery function, its rules, key and dead-letter queue. */
  public readonly webhooks: RegistryWebhooks;
  public readonly alarms: readonly cloudwatch.Alarm[];
  /** The deployed web console, when `console` is set. */
  public readonly console?: RegistryConsole;
  private readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: ModelRegistryProps = {}) {
    super(scope, id);
    // Deliver S3 server access logs through a bucket policy (not the LogDeliveryWrite ACL), so both
    // buckets can keep ACLs disabled (BUCKET_OWNER_ENFORCED), whatever flags the app sets.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const destroy = removalPolicy === RemovalPolicy.DESTROY;
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const key = props.encryptionKey;
    this.encryptionKey = key;
    const governancePolicy = props.governancePolicy
      ? governancePolicyJson(props.governancePolicy)
      : undefined;
    const uploadUrlTtl = props.uploadUrlTtl ?? Duration.minutes(15);
    const downloadUrlTtl = props.downloadUrlTtl ?? Duration.minutes(15);
    const pendingVersionTtl = props.pendingVersionTtl ?? Duration.hours(24);
    validateProps(props, { uploadUrlTtl, downloadUrlTtl, pendingVersionTtl });

    // ---------------------------------------------------------------- storage
    const tableInput = createTableInput('unused');
    const attribute = (name: string): dynamodb.Attribute => {
      const def = tableInput.AttributeDefinitions.find((a) => a.AttributeName === name);
      if (def?.AttributeType !== 'S') throw new Error(`Key attribute ${name} is not a string`);
      return { name, type: dynamodb.AttributeType.STRING };
    };
    const keyOf = (schema: readonly { AttributeName: string; KeyType: string }[], type: 'HASH' | 'RANGE') =>
      attribute(schema.find((k) => k.KeyType === type)!.AttributeName);

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: keyOf(tableInput.KeySchema, 'HASH'),
      sortKey: keyOf(tableInput.KeySchema, 'RANGE'),
      billingMode:
        tableInput.BillingMode === 'PAY_PER_REQUEST'
          ? dynamodb.BillingMode.PAY_PER_REQUEST
          : dynamodb.BillingMode.PROVISIONED,
      stream: dynamodb.StreamViewType[tableInput.StreamSpecification.StreamViewType],
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: !destroy,
      ...(key
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: key }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      removalPolicy,
    });
    for (const gsi of tableInput.GlobalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.IndexName,
        partitionKey: keyOf(gsi.KeySchema, 'HASH'),
        sortKey: keyOf(gsi.KeySchema, 'RANGE'),
        projectionType: dynamodb.ProjectionType[gsi.Projection.ProjectionType],
        ...('NonKeyAttributes' in gsi.Projection && gsi.Projection.NonKeyAttributes
          ? { nonKeyAttributes: [...gsi.Projection.NonKeyAttributes] }
          : {}),
      });
    }
    const indexArns = tableInput.GlobalSecondaryIndexes.map(
      (i) => `${this.table.tableArn}/index/${i.IndexName}`,
    );

    const bucketDefaults = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      autoDeleteObjects: destroy,
    };
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      ...bucketDefaults,
      // S3 server access logs can only be delivered to an SSE-S3 bucket.
      encryption: s3.BucketEncryption.S3_MANAGED,
    });

    this.artifactBucket = new s3.Bucket(this, 'ArtifactBucket', {
      ...bucketDefaults,
      ...(key
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'artifact-bucket/',
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(30),
        },
      ],
    });
    const artifactObjects = this.artifactBucket.arnForObjects(`${ARTIFACT_KEY_PREFIX}*`);

    this.eventBus = new events.EventBus(this, 'EventBus', {
      eventBusName: props.eventBusName ?? 'model-registry',
      description: 'Model registry events (versions, stage transitions, aliases)',
    });
    this.eventBus.applyRemovalPolicy(removalPolicy);
    const archive = this.eventBus.archive('EventArchive', {
      description: 'Every model registry event, for replay and audit',
      eventPattern: { account: [stack.account] },
      retention: props.eventArchiveRetention ?? Duration.days(365),
    });
    archive.applyRemovalPolicy(removalPolicy);

    // ---------------------------------------------------------------- functions
    const baseEnvironment: Record<string, string> = {
      [TABLE_NAME_ENV]: this.table.tableName,
      POWERTOOLS_SERVICE_NAME: 'model-registry',
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: 'ModelRegistry',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const roles = {} as Record<FunctionName, iam.Role>;
    const functions = {} as RegistryFunctions;
    for (const name of FUNCTION_NAMES) {
      const settings = FUNCTION_SETTINGS[name];
      const Name = capitalize(name);
      const logGroup = new logs.LogGroup(this, `${Name}FunctionLogs`, {
        retention: logRetention,
        removalPolicy,
      });
      const role = new iam.Role(this, `${Name}FunctionRole`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Model registry ${name} function: only the actions of lib/iam-actions.ts`,
      });
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
      );
      const fn = new lambda.Function(this, `${Name}Function`, {
        code: bundledCode(settings.entry),
        handler: `index.${settings.handler}`,
        description: settings.description,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: settings.memorySize,
        timeout: settings.timeout,
        tracing: lambda.Tracing.ACTIVE,
        role,
        logGroup,
        environment: { ...baseEnvironment, NODE_OPTIONS: '--enable-source-maps' },
      });
      roles[name] = role;
      functions[name] = fn;
    }
    this.functions = functions;

    functions.upload.addEnvironment('VERIFY_FUNCTION_NAME', functions.verify.functionName);
    functions.upload.addEnvironment('UPLOAD_URL_TTL_SECONDS', String(uploadUrlTtl.toSeconds()));
    functions.upload.addEnvironment('PENDING_VERSION_TTL_HOURS', String(pendingVersionTtl.toHours()));
    functions.download.addEnvironment('DOWNLOAD_URL_TTL_SECONDS', String(downloadUrlTtl.toSeconds()));
    for (const name of ['upload', 'download', 'verify'] as const) {
      functions[name].addEnvironment('ARTIFACT_BUCKET', this.artifactBucket.bucketName);
    }
    functions.verify.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6) });
    if (governancePolicy) {
      for (const name of [...API_GROUPS, 'workflow', 'reconcile'] as const) {
        functions[name].addEnvironment('GOVERNANCE_POLICY', governancePolicy);
      }
    }
    if (props.identityTrust) {
      const trust = identityTrustJson(props.identityTrust);
      for (const name of API_GROUPS) functions[name].addEnvironment('IDENTITY_TRUST', trust);
    }
    functions.relay.addEnvironment(EVENT_BUS_NAME_ENV, this.eventBus.eventBusName);
    // The write function serves the event replay route (POST /events/replay).
    functions.write.addEnvironment(EVENT_BUS_NAME_ENV, this.eventBus.eventBusName);

    // ---------------------------------------------------------------- governance
    const deadLetterQueue = (id: string) =>
      new sqs.Queue(this, id, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
    this.relayDeadLetterQueue = deadLetterQueue('RelayDeadLetterQueue');
    // The relay dead-letters a record it cannot publish itself, whole (event and table key).
    functions.relay.addEnvironment(RELAY_DEAD_LETTER_QUEUE_URL_ENV, this.relayDeadLetterQueue.queueUrl);
    this.approvalDeadLetterQueue = deadLetterQueue('ApprovalDeadLetterQueue');

    // The approval state machine: the JSON the local runtime runs, with the workflow function's ARN.
    const workflowLogs = new logs.LogGroup(this, 'ApprovalWorkflowLogs', {
      retention: logRetention,
      removalPolicy,
    });
    const workflowRole = new iam.Role(this, 'ApprovalWorkflowRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'Model registry approval state machine: invokes the workflow function only',
    });
    workflowRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [functions.workflow.functionArn],
      }),
    );
    this.approvalWorkflow = new sfn.StateMachine(this, 'ApprovalWorkflow', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'Model registry: governed promotion (quality gates, approval by task token, apply)',
      definitionBody: sfn.DefinitionBody.fromString(
        JSON.stringify(approvalWorkflowDefinition(functions.workflow.functionArn)),
      ),
      role: workflowRole,
      tracingEnabled: true,
      logs: { destination: workflowLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    acknowledge(
      workflowRole,
      'AwsSolutions-IAM5[Resource::*]',
      'Step Functions log delivery (logs:CreateLogDelivery and related) and X-Ray tracing actions support no resource-level permissions; the only other grant is lambda:InvokeFunction on the workflow function.',
    );

    // Transactional outbox: every audit entry inserted with a change is published by the relay. The
    // mapping is built by hand rather than with DynamoEventSource/SqsDlq, which would also grant
    // dynamodb:ListStreams on "*" and sqs:GetQueueAttributes/GetQueueUrl; the relay's role gets
    // exactly ROLE_ACTIONS.relay below.
    const relayDlq = this.relayDeadLetterQueue;
    const relayMapping = new lambda.EventSourceMapping(this, 'RelayStreamMapping', {
      target: functions.relay,
      eventSourceArn: this.table.tableStreamArn!,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 10,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: 10,
      maxRecordAge: Duration.days(1),
      onFailure: { bind: () => ({ destination: relayDlq.queueArn }) },
      filters: [lambda.FilterCriteria.filter(OUTBOX_STREAM_FILTER)],
    });
    // Lambda checks the role can read the stream when the mapping is created.
    relayMapping.node.addDependency(roles.relay);

    // Each TransitionRequested event starts the request's execution, named by the request id (the
    // reconcile function does it: an EventBridge target cannot name an execution), so a duplicate
    // delivery is a no-op. A start that is lost anyway is made by the reconciler's schedule.
    functions.reconcile.addEnvironment('STATE_MACHINE_ARN', this.approvalWorkflow.stateMachineArn);
    this.startApprovalRule = new events.Rule(this, 'StartApprovalRule', {
      eventBus: this.eventBus,
      description: 'Starts the approval workflow for each transition request',
      eventPattern: toCdkEventPattern(RULES.startApproval),
    });
    this.startApprovalRule.addTarget(
      new eventsTargets.LambdaFunction(functions.reconcile, {
        deadLetterQueue: this.approvalDeadLetterQueue,
        retryAttempts: 185,
        maxEventAge: Duration.days(1),
      }),
    );
    // The reconciler: an approved request is always applied or visibly failed, whatever was lost.
    this.reconcileRule = new events.Rule(this, 'ReconcileSchedule', {
      description: 'Reconciles transition requests (applies or fails approved ones left unapplied)',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new eventsTargets.LambdaFunction(functions.reconcile, { retryAttempts: 0 })],
    });
    for (const [queue, what] of [
      [this.relayDeadLetterQueue, 'the relay event source mapping (on-failure destination)'],
      [this.approvalDeadLetterQueue, 'the start-approval EventBridge rule target'],
    ] as const) {
      acknowledge(
        queue,
        'AwsSolutions-SQS3',
        `This queue is itself the dead-letter queue of ${what}; its messages are inspected and redriven by an operator (alarm on visible messages), not consumed.`,
      );
    }

    // Exactly the actions of ROLE_ACTIONS, each on exactly its resources.
    for (const name of FUNCTION_NAMES) {
      const role = roles[name];
      const actions = ROLE_ACTIONS[name];
      const grant = (list: readonly string[], resources: string[]) => {
        if (list.length > 0) role.addToPolicy(new iam.PolicyStatement({ actions: [...list], resources }));
      };
      grant(actions.table, [this.table.tableArn]);
      grant(actions.indexes, indexArns);
      grant(actions.artifacts, [artifactObjects]);
      grant(actions.verifyFunction, [functions.verify.functionArn]);
      grant(actions.stateMachine, [this.approvalWorkflow.stateMachineArn]);
      grant(actions.executions, [
        stack.formatArn({
          service: 'states',
          resource: 'execution',
          resourceName: `${this.approvalWorkflow.stateMachineName}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ]);
      grant(actions.eventBus, [this.eventBus.eventBusArn]);
      grant(actions.tableStream, [this.table.tableStreamArn!]);
      grant(actions.deadLetterQueue, [this.relayDeadLetterQueue.queueArn]);
      if (key) grant(actions.kmsKey, [key.keyArn]);

      // cdk-nag: findings that the design requires, acknowledged on this role only.
      acknowledge(
        role,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) support no resource-level permissions; it is the only wildcard resource of the role.',
      );
      if (actions.executions.length > 0) {
        const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
        const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
        acknowledge(
          role,
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:<${logicalIdOf(this.approvalWorkflow)}.Name>:*]`,
          'Executions are named by request id at run time; the grant is limited to the executions of the one approval state machine (DescribeExecution only).',
        );
      }
      if (actions.artifacts.length > 0) {
        acknowledge(
          role,
          `AwsSolutions-IAM5[Resource::<${logicalIdOf(this.artifactBucket)}.Arn>/${ARTIFACT_KEY_PREFIX}*]`,
          'Artifact object keys are created at run time (models/<modelId>/versions/<n>/...); the grant is limited to the models/ prefix of the one artifact bucket.',
        );
      }
      acknowledge(
        functions[name],
        'AwsSolutions-L1',
        'The registry targets the nodejs22.x Lambda runtime on purpose (the code is built and tested for Node 22); runtime upgrades are a deliberate change.',
      );
    }

    this.webhooks = new RegistryWebhooks(this, 'Webhooks', {
      table: this.table,
      eventBus: this.eventBus,
      writeFunction: functions.write,
      code: bundledCode,
      environment: baseEnvironment,
      logRetention,
      removalPolicy,
      ...(key ? { tableKey: key } : {}),
    });

    // ---------------------------------------------------------------- API
    const throttle = { rateLimit: 100, burstLimit: 200, ...props.throttle };
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logRetention, removalPolicy });
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `${stack.stackName}-model-registry`,
      description: 'Serverless Model Registry API (IAM / SigV4 authorized)',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      policy: this.resourcePolicy(props),
      cloudWatchRole: true,
      // The CloudWatch role is an account-wide API Gateway setting: keep it for the other APIs.
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      minCompressionSize: props.minCompressionSize,
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      deployOptions: {
        stageName: API_STAGE_NAME,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    });
    // Execution (error) logs: API Gateway would create this group itself, without retention.
    const executionLogs = new logs.LogGroup(this, 'ApiExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${API_STAGE_NAME}`,
      retention: logRetention,
      removalPolicy,
    });
    this.api.deploymentStage.node.addDependency(executionLogs);

    // API Gateway's own errors in the registry's (and MLflow's) error shape.
    for (const r of GATEWAY_RESPONSES) {
      this.api.addGatewayResponse(`GatewayResponse${r.type.responseType}`, {
        type: r.type,
        ...(r.status ? { statusCode: r.status } : {}),
        templates: {
          'application/json': `{"error_code":"${r.code}","message":$context.error.messageString}`,
        },
      });
    }

    const integrations = {} as Record<FunctionGroup, apigw.LambdaIntegration>;
    const methods: Record<string, apigw.Method> = {};
    for (const op of ALL_OPERATIONS) {
      integrations[op.group] ??= new apigw.LambdaIntegration(functions[op.group], { allowTestInvoke: false });
      const method = this.api.root.resourceForPath(op.path).addMethod(op.method, integrations[op.group], {
        operationName: op.operationId,
        authorizationType: apigw.AuthorizationType.IAM,
      });
      methods[op.operationId] = method;
      acknowledge(
        method,
        'AwsSolutions-COG4',
        'The method is authorized with IAM (SigV4, AWS_IAM) and the API resource policy; Cognito user pools are not used.',
      );
    }
    this.methods = methods;

    acknowledge(
      this.api,
      'AwsSolutions-APIG2',
      'Every handler validates its path, query and body against the contract schemas (zod) and answers 400 itself.',
    );
    acknowledge(
      this.api.deploymentStage,
      'AwsSolutions-APIG3',
      'Only IAM-authorized principals of the allowed accounts can invoke the API (resource policy + SigV4) and the stage is throttled; attach a WAF web ACL in front if required.',
    );
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledge(
        cloudWatchRole,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'The account-wide API Gateway logging role uses the AWS managed policy API Gateway documents for it; it serves every REST API of the account and region.',
      );
    }

    // ---------------------------------------------------------------- alarms
    const alarms: cloudwatch.Alarm[] = [];
    // Default: at least one (count metrics); with a threshold, above it.
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string, above?: number) => {
      const a = new cloudwatch.Alarm(this, id, {
        metric,
        threshold: above ?? 1,
        evaluationPeriods: 1,
        comparisonOperator:
          above === undefined
            ? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
            : cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      if (props.alarmTopic) {
        a.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
        a.addOkAction(new cloudwatchActions.SnsAction(props.alarmTopic));
      }
      alarms.push(a);
    };
    const period = Duration.minutes(5);
    for (const name of FUNCTION_NAMES) {
      const fn = functions[name];
      const Name = capitalize(name);
      alarm(
        `${Name}FunctionErrors`,
        fn.metricErrors({ period, statistic: 'Sum' }),
        `${name} function errors`,
      );
      alarm(
        `${Name}FunctionThrottles`,
        fn.metricThrottles({ period, statistic: 'Sum' }),
        `${name} function throttles`,
      );
    }
    const delivery = this.webhooks.deliveryFunction;
    alarm(
      'WebhookDeliveryFunctionErrors',
      delivery.metricErrors({ period, statistic: 'Sum' }),
      'webhook delivery function errors (events it could not record deliveries for are retried)',
    );
    alarm(
      'WebhookDeliveryFunctionThrottles',
      delivery.metricThrottles({ period, statistic: 'Sum' }),
      'webhook delivery function throttles',
    );
    alarm(
      'WebhookDeadLetters',
      this.webhooks.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: 'Maximum',
      }),
      'Registry events whose webhook deliveries could not be recorded (EventBridge and Lambda retries exhausted)',
    );
    alarm('Api5xxErrors', this.api.metricServerError({ period, statistic: 'Sum' }), 'API 5XX responses');
    alarm(
      'RelayDeadLetters',
      this.relayDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      'Recorded events the relay could not publish to the bus (dead-lettered stream records)',
    );
    alarm(
      'ApprovalDeadLetters',
      this.approvalDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      'Transition requests whose approval workflow EventBridge could not start',
    );
    alarm(
      'ApprovalWorkflowFailed',
      this.approvalWorkflow.metricFailed({ period, statistic: 'Sum' }),
      'Approval workflow executions that failed (the request is marked FAILED)',
    );
    alarm(
      'RelayIteratorAge',
      functions.relay.metric('IteratorAge', { period, statistic: 'Maximum' }),
      'The relay is more than 5 minutes behind the table stream: events are published late',
      Duration.minutes(5).toMilliseconds(),
    );
    this.alarms = alarms;

    if (props.console) {
      this.console = new RegistryConsole(this, 'Console', {
        removalPolicy,
        ...props.console,
        registry: {
          api: this.api,
          methods: this.methods,
          apiFunctions: API_GROUPS.map((g) => functions[g]),
          grant: (audience, grantee) => this.grant(audience, grantee),
        },
      });
    }
  }

  /**
   * Subscribes `target` to promotions: a rule on the registry's bus matching
   * `ModelVersionStageChanged` events into `stage` (default Production), optionally of one model
   * (`promotionPattern` of functions/wiring/event-rules.ts).
   *
   * @example
   * registry.onPromotion(new targets.CodePipeline(deployPipeline), { modelName: 'fraud-detector' });
   */
  public onPromotion(target: events.IRuleTarget, options: OnPromotionOptions = {}): events.Rule {
    const stage = options.stage ?? 'Production';
    const base = `OnPromotionTo${stage}${options.modelName ? `Of${options.modelName.replace(/[^A-Za-z0-9]/g, '')}` : ''}`;
    let id = base;
    for (let i = 2; this.node.tryFindChild(id); i++) id = `${base}${i}`;
    return new events.Rule(this, id, {
      eventBus: this.eventBus,
      description:
        options.description ??
        `Model versions promoted to ${stage}${options.modelName ? ` of model ${options.modelName}` : ''}`,
      eventPattern: toCdkEventPattern(promotionPattern(stage, options.modelName)),
      targets: [target],
    });
  }

  /**
   * For MLflow clients that read registry-managed files themselves (the `s3://` URIs MLflow's
   * get-download-uri returns): s3:GetObject on the artifact objects (`models/*`) and s3:ListBucket
   * on the artifact bucket limited to that prefix, plus kms:Decrypt on the key when one is set.
   */
  public grantMlflowArtifactRead(grantee: iam.IGrantable): iam.Grant {
    let grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: [this.artifactBucket.arnForObjects(`${ARTIFACT_KEY_PREFIX}*`)],
    });
    grant = grant.combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:ListBucket'],
        resourceArns: [this.artifactBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${ARTIFACT_KEY_PREFIX}*`] } },
      }),
    );
    if (this.encryptionKey) grant = grant.combine(this.encryptionKey.grantDecrypt(grantee));
    return grant;
  }

  /**
   * Grants `execute-api:Invoke` on the given operations (operationIds of functions/api/routes.ts)
   * and nothing else.
   */
  public grantInvoke(grantee: iam.IGrantable, ...operationIds: string[]): iam.Grant {
    if (operationIds.length === 0) throw new Error('grantInvoke needs at least one operationId');
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: operationIds.map((id) => this.invokeArn(id)),
    });
  }

  /**
   * Grants `execute-api:Invoke` on every route meant for `audience` (the contract's `audience` of
   * each operation, MLflow's routes included; docs/iam.md lists them):
   * - `reader`: every read (models, versions, search, requests, policies, audit, downloads);
   * - `registrant`: create and change models and versions, request transitions, cancel own requests;
   * - `approver`: approve and reject transition requests;
   * - `policy-admin`: change model policies and decide policy change requests;
   * - `operator`: roll back Production;
   * - `break-glass`: the routes that bypass approval (give it to a break-glass role only).
   *
   * In IAM a `*` in an execute-api ARN also matches `/`, so some routes' ARNs reach routes of other
   * audiences (`DELETE/models/*` also matches `DELETE/models/{name}/policy`). The grantee is
   * denied those routes, unless one of the audiences granted to it through this method includes
   * them (lib/audience-grants.ts).
   *
   * @example
   * registry.grant('reader', pipelineRole);
   * registry.grant('approver', reviewersRole);
   */
  public grant(audience: Audience, grantee: iam.IGrantable): iam.Grant {
    const grant = this.grantInvoke(grantee, ...audienceGrant(audience).allow.map((o) => o.operationId));
    const principal = grantee.grantPrincipal;
    const audiences = this.audiencesOf.get(principal) ?? new Set<Audience>();
    if (this.audiencesOf.size === 0) {
      // The denials depend on every audience a grantee ends up with: added once, before synthesis.
      Aspects.of(this).add({ visit: (node) => (node === this ? this.denyOverreach() : undefined) });
    }
    audiences.add(audience);
    this.audiencesOf.set(principal, audiences);
    return grant;
  }

  /** The audiences granted to each principal through `grant`. */
  private readonly audiencesOf = new Map<iam.IPrincipal, Set<Audience>>();

  /** Denies each grantee the routes its granted ARNs reach beyond its audiences' routes. */
  private denyOverreach(): void {
    for (const [principal, audiences] of this.audiencesOf) {
      const own = new Set(
        ALL_OPERATIONS.filter((o) => audiences.has(audienceOf(o))).map((o) => o.operationId),
      );
      const denied = [
        ...new Set([...audiences].flatMap((a) => audienceGrant(a).deny.map((o) => o.operationId))),
      ].filter((id) => !own.has(id));
      if (denied.length === 0) continue;
      principal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          actions: ['execute-api:Invoke'],
          resources: denied.map((id) => this.invokeArn(id)),
        }),
      );
    }
  }

  /** Grants the `reader` routes: every read, MLflow's included (e.g. its `POST .../get-latest-versions`). */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grant('reader', grantee);
  }

  /** The execute-api ARN (`arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>`) of one operation. */
  public invokeArn(operationId: string): string {
    const op: OperationSpec | undefined = ALL_OPERATIONS.find((o) => o.operationId === operationId);
    if (!op) throw new Error(`Unknown operationId '${operationId}'`);
    return this.api.arnForExecuteApi(op.method, executeApiPath(op.path), API_STAGE_NAME);
  }

  private resourcePolicy(props: ModelRegistryProps): iam.PolicyDocument {
    const stack = Stack.of(this);
    const accounts = [...new Set(props.allowedAccountIds ?? [])];
    const statements = [
      new iam.PolicyStatement({
        sid: 'AllowAccounts',
        actions: ['execute-api:Invoke'],
        principals: [stack.account, ...accounts].map((a) => new iam.AccountPrincipal(a)),
        resources: ['execute-api:/*'],
      }),
    ];
    if (props.organizationId) {
      // Principal "*" in a resource policy grants on its own to principals of the API's own
      // account (no identity policy needed), so the deploying account is excluded here: it is
      // allowed above by its account principal, which delegates to identity policies. Other
      // accounts of the organization need an identity policy anyway (cross-account access needs
      // both), so this statement never grants more than identity policies do.
      statements.push(
        new iam.PolicyStatement({
          sid: 'AllowOrganization',
          actions: ['execute-api:Invoke'],
          principals: [new iam.AnyPrincipal()],
          resources: ['execute-api:/*'],
          conditions: {
            StringEquals: { 'aws:PrincipalOrgID': props.organizationId },
            StringNotEquals: { 'aws:PrincipalAccount': [stack.account] },
          },
        }),
      );
    }
    return new iam.PolicyDocument({ statements });
  }
}

function validateProps(
  props: ModelRegistryProps,
  d: { uploadUrlTtl: Duration; downloadUrlTtl: Duration; pendingVersionTtl: Duration },
): void {
  for (const account of props.allowedAccountIds ?? []) {
    if (!/^\d{12}$/.test(account))
      throw new Error(`allowedAccountIds: '${account}' is not a 12-digit account id`);
  }
  if (props.organizationId !== undefined && !/^o-[a-z0-9]{10,32}$/.test(props.organizationId)) {
    throw new Error(`organizationId: '${props.organizationId}' is not an AWS Organizations id (o-...)`);
  }
  const seconds = (x: Duration) => x.toSeconds();
  if (seconds(d.uploadUrlTtl) < 1 || seconds(d.uploadUrlTtl) > seconds(MAX_UPLOAD_URL_TTL)) {
    throw new Error(
      `uploadUrlTtl must be between 1 second and 1 hour, got ${d.uploadUrlTtl.toHumanString()}`,
    );
  }
  if (seconds(d.downloadUrlTtl) < 1 || seconds(d.downloadUrlTtl) > seconds(MAX_DOWNLOAD_URL_TTL)) {
    throw new Error(
      `downloadUrlTtl must be between 1 second and 12 hours, got ${d.downloadUrlTtl.toHumanString()}`,
    );
  }
  const hours = d.pendingVersionTtl.toHours({ integral: false });
  if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 30) {
    throw new Error(
      `pendingVersionTtl must be a whole number of hours from 1 to 720, got ${d.pendingVersionTtl.toHumanString()}`,
    );
  }
  const throttle = props.throttle ?? {};
  for (const [k, v] of Object.entries(throttle)) {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) throw new Error(`throttle.${k} must be positive`);
  }
}

function acknowledge(scope: Construct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** The CloudFormation logical id of a construct's default resource (for cdk-nag finding ids). */
function logicalIdOf(construct: Construct): string {
  const cfn = construct.node.defaultChild;
  if (!(cfn instanceof CfnResource)) throw new Error(`${construct.node.path} has no CfnResource`);
  return Stack.of(construct).resolve(cfn.logicalId) as string;
}
