/**
 * The Serverless Model Registry as one L3 construct: DynamoDB table, artifact bucket, event bus,
 * Lambda functions (functions/deployment/functions.ts), an IAM-authorized REST API built from the
 * routes in functions/api/routes.ts (the registry's own and MLflow's), one API Gateway method per
 * operation, and governed promotion: the approval state machine, the rule that starts it and the
 * outbox relay that publishes recorded events from the table's stream to the bus.
 *
 * Everything it deploys comes from modules the local runtime uses too: the table
 * (functions/deployment/table.ts), the functions with their configuration and IAM actions
 * (functions/deployment/functions.ts, environment.ts), the routes (functions/api/routes.ts), the
 * state machine (functions/deployment/approval-workflow.ts) and the event patterns and stream
 * filter (functions/deployment/event-rules.ts): what is tested locally is what is deployed.
 *
 * The constructor only calls the builders below, one per part, in dependency order; each keeps the
 * construct IDs (hence the logical IDs, pinned by test/infra/logical-ids.test.ts) it always had.
 */
import {
  ArnFormat,
  Aspects,
  Aws,
  aws_apigateway as apigw,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  Duration,
  type aws_dynamodb as dynamodb,
  aws_events as events,
  aws_events_targets as eventsTargets,
  Fn,
  aws_iam as iam,
  type aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  Names,
  RemovalPolicy,
  type Size,
  Stack,
  aws_s3 as s3,
  aws_secretsmanager as secretsmanager,
  aws_stepfunctions as sfn,
  type aws_sns as sns,
  aws_sqs as sqs,
  Token,
  aws_xray as xray,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { type Audience, audienceOf, type FunctionGroup, type OperationSpec } from '../functions/api/contract';
import { ALL_OPERATIONS } from '../functions/api/routes';
import { approvalWorkflowDefinition } from '../functions/deployment/approval-workflow';
import { ARTIFACT_KEY_PREFIX } from '../functions/deployment/bucket';
import { type EnvironmentName, isConfigFileVariable } from '../functions/deployment/environment';
import {
  OUTBOX_STREAM_FILTER,
  promotionPattern,
  RULES,
  SMOKE_TEST_PATTERN,
} from '../functions/deployment/event-rules';
import {
  API_FUNCTION_NAMES,
  environmentOf,
  FUNCTION_NAMES,
  FUNCTIONS,
  type FunctionName,
  functionSpec,
} from '../functions/deployment/functions';
import { createTableInput, INDEXES } from '../functions/deployment/table';
import type { Stage } from '../functions/domain/model';
import { audienceGrant } from './audience-grants';
import {
  executeApiPath,
  governancePolicyValue,
  identityTrustJson,
  toCdkEventPattern,
  validateProps,
} from './configuration';
import { functionCode } from './function-code';
import { ROLE_ACTIONS } from './iam-actions';
import { acknowledge, logicalIdOf, nagResource } from './nag';
import { RegistryConsole, type RegistryConsoleProps } from './registry-console';
import {
  applyArtifactBucketRules,
  checkRegistryTable,
  createRegistryTable,
  isOwnedBucket,
  type RegistryTableOptions,
} from './resources';
import { RegistryWebhooks } from './webhooks';

export { ARTIFACT_KEY_PREFIX } from '../functions/deployment/bucket';
export { MAX_DOWNLOAD_URL_TTL, MAX_UPLOAD_URL_TTL } from './configuration';
export type { RegistryTableOptions } from './resources';

/** Characters of the generated page-token secret (alphanumeric: ~285 bits). */
export const PAGE_TOKEN_SECRET_LENGTH = 48;

/** The API Gateway stage every route is deployed to. */
export const API_STAGE_NAME = 'prod';

/**
 * Stage throttling. The defaults carry a busy team (CI pipelines polling, batch registrations,
 * many clients downloading at a release) with room to spare, while bounding what one runaway
 * client can cost: at ~100–200 ms per request, 1,000 requests/s keep about 100–200 Lambda
 * executions busy, a fifth of an account's default concurrency of 1,000, and a tenth of API
 * Gateway's default account limit of 10,000 requests/s (shared by every API of the region).
 */
export interface ModelRegistryThrottle {
  /** Steady-state requests per second for the stage. @default 1000 */
  readonly rateLimit?: number;
  /** Burst capacity of the stage, in requests. @default 2000 */
  readonly burstLimit?: number;
}

/**
 * X-Ray sampling of API requests (an X-Ray sampling rule matching the API's stage; the functions
 * behind it follow its decision). X-Ray's default rule records the first request of every second
 * and 5% of the rest, which at a registry's traffic means nearly every request.
 */
export interface ModelRegistryTracingSampling {
  /** Requests recorded each second before the rate applies (across all callers). @default 0 */
  readonly reservoirSize?: number;
  /** Fraction of the other requests recorded, 0 to 1. @default 0.05 */
  readonly fixedRate?: number;
}

/** Alarm thresholds (every alarm notifies `alarmTopic`, and again when it returns to OK). */
export interface ModelRegistryAlarmThresholds {
  /** p99 API latency (as API Gateway measures it) above this for 3 of 3 five-minute periods. @default Duration.seconds(3) */
  readonly apiLatencyP99?: Duration;
  /**
   * Share of API requests answered 4XX (denied, invalid, not found) above this for 3 of 3
   * five-minute periods with at least 20 requests each: clients misconfigured or a broken release.
   * @default 0.25
   */
  readonly api4xxRate?: number;
}

/** Size and concurrency of one function. */
export interface ModelRegistryFunctionOptions {
  /** Memory in MB (128 to 10,240; CPU grows with it). @default - the function table's (512 for most) */
  readonly memorySize?: number;
  /**
   * Concurrency reserved for (and capping) the function. The account keeps at least 100
   * unreserved, so reservations across the account must leave that much.
   * @default - none (the account's unreserved pool)
   */
  readonly reservedConcurrentExecutions?: number;
}

/** Options per function (functions/deployment/functions.ts names them). */
export interface ModelRegistryFunctionsOptions {
  readonly read?: ModelRegistryFunctionOptions;
  readonly write?: ModelRegistryFunctionOptions;
  readonly upload?: ModelRegistryFunctionOptions;
  readonly download?: ModelRegistryFunctionOptions;
  readonly approve?: ModelRegistryFunctionOptions;
  readonly verify?: ModelRegistryFunctionOptions;
  readonly workflow?: ModelRegistryFunctionOptions;
  readonly reconcile?: ModelRegistryFunctionOptions;
  readonly cleanup?: ModelRegistryFunctionOptions;
  readonly relay?: ModelRegistryFunctionOptions;
  readonly webhooks?: ModelRegistryFunctionOptions;
}

/** The registry's functions, by name. */
export interface ModelRegistryFunctions {
  readonly read: lambda.Function;
  readonly write: lambda.Function;
  readonly upload: lambda.Function;
  readonly download: lambda.Function;
  readonly approve: lambda.Function;
  readonly verify: lambda.Function;
  readonly workflow: lambda.Function;
  readonly reconcile: lambda.Function;
  readonly cleanup: lambda.Function;
  readonly relay: lambda.Function;
  /** The webhook delivery function (also `webhooks.deliveryFunction`). */
  readonly webhooks: lambda.Function;
}

// Both interfaces above list exactly the functions of the table: adding a function to the table
// fails to compile here until they name it too (jsii needs the properties spelled out).
type SameKeys<A, B> = [Exclude<keyof A, keyof B> | Exclude<keyof B, keyof A>] extends [never] ? true : never;
const functionsListed: [
  SameKeys<ModelRegistryFunctions, Record<FunctionName, unknown>>,
  SameKeys<ModelRegistryFunctionsOptions, Record<FunctionName, unknown>>,
] = [true, true];
void functionsListed;

export interface ModelRegistryProps {
  /**
   * An existing table to keep the registry in, e.g. one of a separate stateful stack. It must be
   * the registry's (create it with `ModelRegistry.createTable`); an imported one
   * (`Table.fromTableAttributes`) must name its stream (`tableStreamArn`) and, if any, its key.
   * @default - a table the construct creates (and `removalPolicy` governs)
   */
  readonly table?: dynamodb.ITable;
  /**
   * An existing artifact bucket (versioned, private, encrypted: docs/infrastructure.md). A bucket of
   * this app gets the registry's lifecycle rules, CORS rule and deny statement added; an imported
   * one cannot, and needs `acceptResponsibilityForImportedBucket`.
   * @default - a bucket (and an access-log bucket) the construct creates
   */
  readonly artifactBucket?: s3.IBucket;
  /**
   * With an imported `artifactBucket`: its owner applies the rules the construct cannot (the
   * `DenyReadingDeletedArtifacts` statement, the lifecycle rules, CORS; docs/infrastructure.md).
   * @default false
   */
  readonly acceptResponsibilityForImportedBucket?: boolean;
  /**
   * An existing EventBridge bus to publish registry events to (the rules are added to it; its
   * archive, if any, is its owner's).
   * @default - a bus (with an archive) the construct creates
   */
  readonly eventBus?: events.IEventBus;
  /**
   * Route every event of the models the deployed smoke test registers (named `smoke-test-…`) to
   * a queue it reads (`smokeTestEventQueue`; `npm run smoke -- --events-queue <url>`), so the
   * test proves that events reach the bus and its rules. Messages are kept for an hour; no other
   * event goes there. The smoke test's caller needs `sqs:ReceiveMessage` and `sqs:DeleteMessage`
   * on the queue (`smokeTestEventQueue.grantConsumeMessages`).
   * @default false
   */
  readonly smokeTestEvents?: boolean;
  /** Memory and reserved concurrency per function. @default - the function table's sizes, no reservations */
  readonly functionOptions?: ModelRegistryFunctionsOptions;
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
   * deploying account is always allowed. At most 100 (the resource policy's size limit; use
   * `organizationId` for more).
   * @default - only the deploying account
   */
  readonly allowedAccountIds?: string[];
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
  /**
   * How long the files of a deleted model or version are kept (whole days) before S3 expires
   * them. They are unreadable from the moment of the delete (tagged `registry-deleted=true`, which
   * the bucket policy denies reading), so download URLs issued before stop working at once; an
   * operator can restore them within the window by removing the tag.
   * @default Duration.days(30)
   */
  readonly deletedArtifactRetention?: Duration;
  /**
   * Origins of pages (a web console) that upload and download artifacts from the browser, as S3
   * CORS origins (`https://console.example.com`, at most one `*` each; at most 20): the artifact bucket gets a
   * CORS rule for presigned PUTs and GETs from them.
   * @default - no CORS rule (browsers cannot use the presigned URLs)
   */
  readonly consoleOrigins?: string[];
  /** Stage throttling (see `ModelRegistryThrottle` for the defaults' rationale). @default { rateLimit: 1000, burstLimit: 2000 } */
  readonly throttle?: ModelRegistryThrottle;
  /** X-Ray sampling of API requests. @default { reservoirSize: 0, fixedRate: 0.05 } */
  readonly tracingSampling?: ModelRegistryTracingSampling;
  /** Thresholds of the API alarms. @default - see ModelRegistryAlarmThresholds */
  readonly alarmThresholds?: ModelRegistryAlarmThresholds;
  /**
   * Name of the EventBridge custom bus registry events go to. A fixed name is unique per account
   * and region: a second registry, or a redeploy while a retained bus of that name exists, fails.
   * @default - `<stack name>-model-registry-<UUID of the stack id>` (the `EventBusName` output)
   */
  readonly eventBusName?: string;
  /** How long the event bus archive keeps events. @default Duration.days(365) */
  readonly eventArchiveRetention?: Duration;
  /** Powertools log level of the functions. @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Responses at least this large are compressed by API Gateway. @default - no compression */
  readonly minCompressionSize?: Size;
  /**
   * SNS topic every alarm (and its return to OK) is sent to: subscribe e-mail, a chat webhook or an
   * incident tool to it. Without one the alarms only show in the console and on the dashboard.
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The deployment's governance policy (each model may override it through its policy route).
   * Passed to the API and workflow functions as `GOVERNANCE_POLICY`.
   * @default - Production guarded, 1 approver other than the requester, requests expire after
   * 7 days, live versions protected, no quality gates
   */
  readonly governancePolicy?: GovernancePolicyProps;
  /**
   * A named governance policy (docs/governance.md): `GOVERNED` (approval for Production, the
   * registry's default) or `MLFLOW` (MLflow's own behaviour: stage changes apply at once). With
   * `governancePolicy` too, its fields override the profile's (the functions get the whole
   * effective policy).
   * @default GovernanceProfile.GOVERNED
   */
  readonly governanceProfile?: GovernanceProfile;
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

/** The named governance policies (`POLICY_PROFILES` of functions/domain/governance.ts). */
export enum GovernanceProfile {
  /** Production guarded: 1 approver other than the requester, requests expire after 7 days, live versions protected. */
  GOVERNED = 'governed',
  /** MLflow's behaviour: no stage or alias needs approval, nothing is protected from deletion. */
  MLFLOW = 'mlflow',
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
  readonly guardedStages?: string[];
  /** Distinct approvers a transition request needs (1 to 10). @default 1 */
  readonly requiredApprovals?: number;
  /** Whether the requester may approve their own request. @default false */
  readonly requesterMayApprove?: boolean;
  /** How long a transition request waits for its approvals before it expires. @default Duration.days(7) */
  readonly requestTtl?: Duration;
  /** Refuse deleting a version in a guarded stage or with an alias. @default true */
  readonly protectLiveVersions?: boolean;
  /** Metric conditions a version must meet to enter a guarded stage, e.g. 'accuracy >= 0.9'. @default [] */
  readonly qualityGates?: string[];
  /**
   * Model card sections a version must have filled in to enter a guarded stage or a protected
   * alias (checked with the quality gates), e.g. ['intended_use', 'limitations']. @default []
   */
  readonly requiredCardSections?: string[];
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

/**
 * The UUID of the stack's id: unique to this instance of the stack, so a name built with it never
 * meets a resource a deleted instance retained (RETAIN keeps buses and log groups).
 */
const stackInstanceId = () => Fn.select(2, Fn.split('/', Aws.STACK_ID));

/** The sampling rule's service name for an API stage, within X-Ray's 64 characters. */
function samplingServiceName(apiName: string, stage: string): string {
  const full = `${apiName}/${stage}`;
  return full.length <= 64 ? full : `${apiName.slice(0, 64 - stage.length - 2)}*/${stage}`;
}

const capitalize = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** The props with their defaults applied, as the builders use them. */
interface Settings {
  readonly props: ModelRegistryProps;
  readonly removalPolicy: RemovalPolicy;
  readonly destroy: boolean;
  readonly logRetention: logs.RetentionDays;
  readonly key?: kms.IKey;
  readonly uploadUrlTtl: Duration;
  readonly downloadUrlTtl: Duration;
  readonly pendingVersionTtl: Duration;
  readonly deletedArtifactRetention: Duration;
}

export class ModelRegistry extends Construct {
  /**
   * The table of functions/deployment/table.ts as a table of any stack: create it with the
   * registry's definition and pass it as the `table` prop (e.g. from a stateful stack).
   *
   * @example
   * const table = ModelRegistry.createTable(statefulStack, 'RegistryTable');
   * new ModelRegistry(appStack, 'Registry', { table });
   */
  public static createTable(
    scope: Construct,
    id: string,
    options: RegistryTableOptions = {},
  ): dynamodb.Table {
    return createRegistryTable(scope, id, options);
  }

  public readonly table: dynamodb.ITable;
  public readonly artifactBucket: s3.IBucket;
  /** The bucket of the artifact bucket's server access logs (none with a brought `artifactBucket`). */
  public readonly accessLogsBucket?: s3.Bucket;
  public readonly eventBus: events.IEventBus;
  public readonly api: apigw.RestApi;
  /** The Lambda functions, by name (functions/deployment/functions.ts). */
  public readonly functions: ModelRegistryFunctions;
  /** The API Gateway method of each operation, by operationId. */
  public readonly methods: { readonly [operationId: string]: apigw.Method };
  /** The approval state machine (functions/deployment/approval-workflow.ts). */
  public readonly approvalWorkflow: sfn.StateMachine;
  /** Starts the approval workflow for each TransitionRequested event (`RULES.startApproval`). */
  public readonly startApprovalRule: events.Rule;
  /** Runs the reconciler every minute. */
  public readonly reconcileRule: events.Rule;
  /** Stream records the relay could not publish after its retries. */
  public readonly relayDeadLetterQueue: sqs.Queue;
  /** TransitionRequested events EventBridge could not deliver to the reconcile function (the reconciler's schedule starts their workflows anyway). */
  public readonly approvalDeadLetterQueue: sqs.Queue;
  /**
   * Verifications that failed every attempt (Lambda's asynchronous invocation: the first and two
   * retries, within 6 hours): each message holds the job; finalizing the version again re-queues it.
   */
  public readonly verifyDeadLetterQueue: sqs.Queue;
  /** Deletions whose files the cleanup function could not mark (rule delivery or the function failed). */
  public readonly cleanupDeadLetterQueue: sqs.Queue;
  /** Events of smoke-test models (`smokeTestEvents`), for the deployed smoke test to read. */
  public readonly smokeTestEventQueue?: sqs.Queue;
  /** Sends each RegisteredModelDeleted and ModelVersionDeleted event to the cleanup function (`RULES.retireArtifacts`). */
  public readonly retireArtifactsRule: events.Rule;
  /** Webhook delivery (lib/webhooks.ts): the delivery function, its rules, key and dead-letter queue. */
  public readonly webhooks: RegistryWebhooks;
  public readonly alarms: cloudwatch.Alarm[];
  /** One page of the registry's health: API, functions, table, workflow, queues, and every alarm. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** How many API requests X-Ray records (`tracingSampling`). */
  public readonly samplingRule: xray.CfnSamplingRule;
  /**
   * The deployment's page-token secret (generated by CloudFormation): every function that issues
   * or accepts page tokens gets the same one, so a token from one instance is good on any other.
   */
  public readonly pageTokenSecret: secretsmanager.Secret;
  /** The deployed web console, when `console` is set. */
  public readonly console?: RegistryConsole;
  private readonly encryptionKey?: kms.IKey;
  private readonly dataKeys: kms.IKey[];

  constructor(scope: Construct, id: string, props: ModelRegistryProps = {}) {
    super(scope, id);
    // Deliver S3 server access logs through a bucket policy (not the LogDeliveryWrite ACL), so both
    // buckets can keep ACLs disabled (BUCKET_OWNER_ENFORCED), whatever flags the app sets.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const settings: Settings = {
      props,
      removalPolicy,
      destroy: removalPolicy === RemovalPolicy.DESTROY,
      logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      ...(props.encryptionKey ? { key: props.encryptionKey } : {}),
      uploadUrlTtl: props.uploadUrlTtl ?? Duration.minutes(15),
      downloadUrlTtl: props.downloadUrlTtl ?? Duration.minutes(15),
      pendingVersionTtl: props.pendingVersionTtl ?? Duration.hours(24),
      deletedArtifactRetention: props.deletedArtifactRetention ?? Duration.days(30),
    };
    validateProps(props, settings);
    // Every customer managed key the functions' data passes through, each granted once.
    this.encryptionKey = settings.key;

    this.table = this.buildTable(settings);
    [this.artifactBucket, this.accessLogsBucket] = this.buildBuckets(settings);
    this.eventBus = this.buildEventBus(settings);
    this.dataKeys = [
      ...new Set([settings.key, this.table.encryptionKey, this.artifactBucket.encryptionKey]),
    ].filter((k): k is kms.IKey => k !== undefined);
    const roles = {} as Record<FunctionName, iam.Role>;
    this.functions = this.buildFunctions(settings, roles);
    this.relayDeadLetterQueue = this.deadLetterQueue('RelayDeadLetterQueue');
    this.approvalDeadLetterQueue = this.deadLetterQueue('ApprovalDeadLetterQueue');
    this.verifyDeadLetterQueue = this.deadLetterQueue('VerifyDeadLetterQueue');
    this.cleanupDeadLetterQueue = this.deadLetterQueue('CleanupDeadLetterQueue');
    this.webhooks = new RegistryWebhooks(this, 'Webhooks', {
      eventBus: this.eventBus,
      deliveryFunction: this.functions.webhooks,
      removalPolicy,
    });
    this.pageTokenSecret = this.buildPageTokenSecret();
    this.configureVerification();
    this.approvalWorkflow = this.buildApprovalWorkflow(settings);
    this.configureEnvironment(settings);
    this.buildRelay(roles);
    [this.startApprovalRule, this.reconcileRule] = this.buildApprovalRules();
    this.retireArtifactsRule = this.buildArtifactRetention();
    this.acknowledgeDeadLetterQueues();
    if (props.smokeTestEvents) this.smokeTestEventQueue = this.buildSmokeTestEvents();
    this.grantRoles(roles);
    this.api = this.buildApi(settings);
    this.methods = this.buildMethods();
    this.alarms = this.buildAlarms(settings);
    this.dashboard = this.buildDashboard();
    this.samplingRule = this.buildSamplingRule(settings);
    if (props.console) this.console = this.buildConsole(settings, props.console);
  }

  /**
   * The deployed web console (lib/registry-console.ts). It tells the functions whose table
   * environment lists CORS_ALLOWED_ORIGINS (the API functions) the console's origin.
   */
  private buildConsole({ removalPolicy }: Settings, consoleProps: RegistryConsoleProps): RegistryConsole {
    return new RegistryConsole(this, 'Console', {
      removalPolicy,
      ...consoleProps,
      registry: {
        api: this.api,
        methods: this.methods,
        apiFunctions: FUNCTION_NAMES.filter((name) =>
          (FUNCTIONS[name].environment as readonly EnvironmentName[]).includes('CORS_ALLOWED_ORIGINS'),
        ).map((name) => this.functions[name]),
        grant: (audience, grantee) => this.grant(audience, grantee),
      },
    });
  }

  // ---------------------------------------------------------------- storage

  /** The table of functions/deployment/table.ts, or the one brought in `props.table`. */
  private buildTable({ props, removalPolicy, destroy, key }: Settings): dynamodb.ITable {
    if (props.table) {
      checkRegistryTable(props.table);
      return props.table;
    }
    return createRegistryTable(this, 'Table', {
      removalPolicy,
      deletionProtection: !destroy,
      ...(key ? { encryptionKey: key } : {}),
    });
  }

  /**
   * The artifact bucket and the bucket its server access logs go to, or the bucket brought in
   * `props.artifactBucket` (with the registry's rules added when the construct can).
   */
  private buildBuckets({
    props,
    removalPolicy,
    destroy,
    key,
    deletedArtifactRetention,
  }: Settings): [s3.IBucket, s3.Bucket | undefined] {
    const rules = {
      noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(30),
      deletedArtifactRetention,
      ...(props.consoleOrigins ? { consoleOrigins: props.consoleOrigins } : {}),
    };
    if (props.artifactBucket) {
      if (isOwnedBucket(props.artifactBucket)) applyArtifactBucketRules(props.artifactBucket, rules);
      else if (!props.acceptResponsibilityForImportedBucket) {
        throw new Error(
          "artifactBucket: an imported bucket cannot get the registry's deny statement, lifecycle and CORS rules from this stack; apply them to the bucket (docs/infrastructure.md) and set acceptResponsibilityForImportedBucket",
        );
      }
      return [props.artifactBucket, undefined];
    }
    const bucketDefaults = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      autoDeleteObjects: destroy,
    };
    const accessLogs = new s3.Bucket(this, 'AccessLogsBucket', {
      ...bucketDefaults,
      // S3 server access logs can only be delivered to an SSE-S3 bucket.
      encryption: s3.BucketEncryption.S3_MANAGED,
    });
    const artifacts = new s3.Bucket(this, 'ArtifactBucket', {
      ...bucketDefaults,
      ...(key
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'artifact-bucket/',
    });
    applyArtifactBucketRules(artifacts, rules);
    return [artifacts, accessLogs];
  }

  /** The bus registry events are published to, with an archive of all of them (or `props.eventBus`). */
  private buildEventBus({ props, removalPolicy }: Settings): events.IEventBus {
    if (props.eventBus) return props.eventBus;
    const bus = new events.EventBus(this, 'EventBus', {
      // With RETAIN the bus outlives the stack: a fixed name would block the next deployment and
      // any second registry in the account. The stack id's UUID is new for every stack instance.
      eventBusName: props.eventBusName ?? `${Aws.STACK_NAME}-model-registry-${stackInstanceId()}`,
      description: 'Model registry events (versions, stage transitions, aliases)',
    });
    bus.applyRemovalPolicy(removalPolicy);
    const archive = bus.archive('EventArchive', {
      description: 'Every model registry event, for replay and audit',
      eventPattern: { account: [Stack.of(this).account] },
      retention: props.eventArchiveRetention ?? Duration.days(365),
    });
    archive.applyRemovalPolicy(removalPolicy);
    return bus;
  }

  // ---------------------------------------------------------------- functions

  /**
   * One function per entry of the function table, each with its own role and log group. Their
   * configuration is set once every resource it names exists (`configureEnvironment`).
   */
  private buildFunctions(settings: Settings, roles: Record<FunctionName, iam.Role>): RegistryFunctions {
    const { logRetention, removalPolicy } = settings;
    const configFile = this.configFileValues(settings);
    const functions = {} as RegistryFunctions;
    for (const name of FUNCTION_NAMES) {
      const spec = FUNCTIONS[name];
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
      functions[name] = new lambda.Function(this, `${Name}Function`, {
        code: functionCode(name, environmentOf(name, configFile) as Record<string, string>),
        handler: 'index.handler',
        description: spec.description,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: settings.props.functionOptions?.[name]?.memorySize ?? spec.memorySize,
        reservedConcurrentExecutions: settings.props.functionOptions?.[name]?.reservedConcurrentExecutions,
        timeout: Duration.seconds(spec.timeoutSeconds),
        tracing: lambda.Tracing.ACTIVE,
        role,
        logGroup,
      });
      roles[name] = role;
      const runtimeReason =
        'The registry targets the nodejs22.x Lambda runtime on purpose (the code is built and tested for Node 22); runtime upgrades are a deliberate change.';
      acknowledge(functions[name], 'AwsSolutions-L1', runtimeReason);
      acknowledge(functions[name], 'Serverless-LambdaLatestVersion', runtimeReason);
      acknowledge(functions[name], 'Serverless-LambdaDLQ', `No Lambda DLQ: ${spec.failures}`);
    }
    return functions;
  }

  /**
   * The documents of the configuration (`CONFIG_FILE_VARIABLES`: the governance policy, the
   * identity trust), known at synth. Each function that receives one gets it in its code asset as
   * `DEPLOYMENT_CONFIG_FILE`, not in its environment: Lambda allows 4 KB of environment in all and a
   * valid policy alone can be ~10 KB (test/infra/limits.test.ts checks the largest one).
   */
  private configFileValues({ props }: Settings): Partial<Record<EnvironmentName, string>> {
    const governance = governancePolicyValue(props.governanceProfile, props.governancePolicy);
    return {
      ...(governance !== undefined ? { GOVERNANCE_POLICY: governance } : {}),
      ...(props.identityTrust ? { IDENTITY_TRUST: identityTrustJson(props.identityTrust) } : {}),
    };
  }

  /**
   * The secret page tokens are authenticated with (an HMAC key, functions/adapters/dynamodb/page-token.ts),
   * generated by CloudFormation and passed to the functions as a dynamic reference.
   */
  private buildPageTokenSecret(): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'PageTokenSecret', {
      description: 'Model registry: authenticates page tokens (the same for every function)',
      generateSecretString: { passwordLength: PAGE_TOKEN_SECRET_LENGTH, excludePunctuation: true },
    });
    acknowledge(
      secret,
      'AwsSolutions-SMG4',
      'Not rotated on purpose: the secret only authenticates page tokens (opaque pagination cursors, valid for minutes), so a rotation would only invalidate the tokens of listings in progress; replace it by hand (a new value on the next deployment) if it is ever exposed.',
    );
    return secret;
  }

  /** The rest: names, ARNs and numbers, set as each function's environment. */
  private environmentValues(settings: Settings): Partial<Record<EnvironmentName, string>> {
    const { props } = settings;
    return {
      TABLE_NAME: this.table.tableName,
      POWERTOOLS_SERVICE_NAME: 'model-registry',
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: 'ModelRegistry',
      NODE_OPTIONS: '--enable-source-maps',
      ARTIFACT_BUCKET: this.artifactBucket.bucketName,
      VERIFY_FUNCTION_NAME: this.functions.verify.functionName,
      UPLOAD_URL_TTL_SECONDS: String(settings.uploadUrlTtl.toSeconds()),
      PENDING_VERSION_TTL_HOURS: String(settings.pendingVersionTtl.toHours()),
      DOWNLOAD_URL_TTL_SECONDS: String(settings.downloadUrlTtl.toSeconds()),
      EVENT_BUS_NAME: this.eventBus.eventBusName,
      RELAY_DEAD_LETTER_QUEUE_URL: this.relayDeadLetterQueue.queueUrl,
      STATE_MACHINE_ARN: this.approvalWorkflow.stateMachineArn,
      WEBHOOK_KMS_KEY_ID: this.webhooks.key.keyArn,
      // A dynamic reference: CloudFormation resolves it when it deploys the function, so the
      // template holds only the secret's ARN, never its value.
      PAGE_TOKEN_SECRET: this.pageTokenSecret.secretValue.unsafeUnwrap(),
    };
  }

  private configureEnvironment(settings: Settings): void {
    const values = this.environmentValues(settings);
    for (const name of FUNCTION_NAMES) {
      for (const [key, value] of Object.entries(environmentOf(name, values))) {
        if (isConfigFileVariable(key as EnvironmentName))
          throw new Error(`${key} belongs in the config file`);
        this.functions[name].addEnvironment(key, value);
      }
    }
  }

  /** Exactly the actions of ROLE_ACTIONS, each on exactly its resources. */
  private grantRoles(roles: Record<FunctionName, iam.Role>): void {
    const stack = Stack.of(this);
    const indexArn = (name: string) => `${this.table.tableArn}/index/${name}`;
    const allIndexes = createTableInput('unused').GlobalSecondaryIndexes.map((i) => i.IndexName);
    const artifactObjects = this.artifactBucket.arnForObjects(`${ARTIFACT_KEY_PREFIX}*`);
    for (const name of FUNCTION_NAMES) {
      const role = roles[name];
      const actions = ROLE_ACTIONS[name];
      const grant = (list: readonly string[], resources: string[]) => {
        if (list.length > 0) role.addToPolicy(new iam.PolicyStatement({ actions: [...list], resources }));
      };
      grant(actions.table, [this.table.tableArn]);
      const indexNames: readonly string[] =
        functionSpec(name).indexNames?.map((i) => INDEXES[i].indexName) ?? allIndexes;
      grant(actions.indexes, indexNames.map(indexArn));
      grant(actions.artifacts, [artifactObjects]);
      grant(actions.artifactBucket, [this.artifactBucket.bucketArn]);
      grant(actions.verifyFunction, [this.functions.verify.functionArn]);
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
      if (actions.deadLetterQueue.length > 0) {
        grant(actions.deadLetterQueue, [this.ownDeadLetterQueue(name).queueArn]);
      }
      if (this.dataKeys.length > 0)
        grant(
          actions.kmsKey,
          this.dataKeys.map((k) => k.keyArn),
        );
      grant(actions.webhookKey, [this.webhooks.key.keyArn]);

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
          `AwsSolutions-IAM5[Resource::${nagResource(this, artifactObjects)}]`,
          'Artifact object keys are created at run time (models/<modelId>/versions/<n>/...); the grant is limited to the models/ prefix of the one artifact bucket.',
        );
      }
    }
  }

  /**
   * Finalize invokes the verify function asynchronously: Lambda retries a failed run twice and
   * then sends the event to the verify dead-letter queue (on-failure destination, sent with the
   * function's role, which holds sqs:SendMessage on that queue only). Meanwhile the version does
   * not expire (finalize removes its TTL), so a slow or lost verification never loses it.
   */
  private configureVerification(): void {
    const queue = this.verifyDeadLetterQueue;
    this.functions.verify.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      // By ARN rather than SqsDestination, which would also grant GetQueueAttributes/GetQueueUrl.
      onFailure: { bind: () => ({ destination: queue.queueArn }) },
    });
  }

  // ---------------------------------------------------------------- governance

  /** The queue a function sends what it finally failed to process to. */
  private ownDeadLetterQueue(name: FunctionName): sqs.Queue {
    if (name === 'relay') return this.relayDeadLetterQueue;
    if (name === 'verify') return this.verifyDeadLetterQueue;
    if (name === 'cleanup') return this.cleanupDeadLetterQueue;
    if (name === 'webhooks') return this.webhooks.deadLetterQueue;
    throw new Error(`The ${name} function has no dead-letter queue of its own`);
  }

  private deadLetterQueue(id: string): sqs.Queue {
    return new sqs.Queue(this, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
  }

  /** The approval state machine: the JSON the local runtime runs, with the workflow function's ARN. */
  private buildApprovalWorkflow({ logRetention, removalPolicy }: Settings): sfn.StateMachine {
    // Under /aws/vendedlogs/: Step Functions (like every vended log source) adds a statement for
    // each group it writes to to the account's CloudWatch Logs resource policy, whose 5,120
    // characters run out after a few state machines, unless the group is under this prefix. The
    // stack id's UUID keeps the name unique, so a retained group never blocks a later deployment.
    const workflowLogs = new logs.LogGroup(this, 'ApprovalWorkflowLogs', {
      logGroupName: `/aws/vendedlogs/states/${Aws.STACK_NAME}-ApprovalWorkflow-${stackInstanceId()}`,
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
        resources: [this.functions.workflow.functionArn],
      }),
    );
    const machine = new sfn.StateMachine(this, 'ApprovalWorkflow', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'Model registry: governed promotion (quality gates, approval by task token, apply)',
      definitionBody: sfn.DefinitionBody.fromString(
        JSON.stringify(approvalWorkflowDefinition(this.functions.workflow.functionArn)),
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
    return machine;
  }

  /**
   * Transactional outbox: every audit entry inserted with a change is published by the relay. The
   * mapping is built by hand rather than with DynamoEventSource/SqsDlq, which would also grant
   * dynamodb:ListStreams on "*" and sqs:GetQueueAttributes/GetQueueUrl; the relay's role gets
   * exactly ROLE_ACTIONS.relay.
   */
  private buildRelay(roles: Record<FunctionName, iam.Role>): void {
    const relayDlq = this.relayDeadLetterQueue;
    const relayMapping = new lambda.EventSourceMapping(this, 'RelayStreamMapping', {
      target: this.functions.relay,
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
  }

  /**
   * Each TransitionRequested event starts the request's execution, named by the request id (the
   * reconcile function does it: an EventBridge target cannot name an execution), so a duplicate
   * delivery is a no-op. A start that is lost anyway is made by the reconciler's schedule, which
   * also brings every approved request to an end: applied or visibly failed, whatever was lost.
   */
  private buildApprovalRules(): [events.Rule, events.Rule] {
    const start = new events.Rule(this, 'StartApprovalRule', {
      eventBus: this.eventBus,
      description: 'Starts the approval workflow for each transition request',
      eventPattern: toCdkEventPattern(RULES.startApproval),
    });
    start.addTarget(
      new eventsTargets.LambdaFunction(this.functions.reconcile, {
        deadLetterQueue: this.approvalDeadLetterQueue,
        retryAttempts: 185,
        maxEventAge: Duration.days(1),
      }),
    );
    const schedule = new events.Rule(this, 'ReconcileSchedule', {
      description: 'Reconciles transition requests (applies or fails approved ones left unapplied)',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new eventsTargets.LambdaFunction(this.functions.reconcile, { retryAttempts: 0 })],
    });
    acknowledge(
      schedule,
      'Serverless-EventBusDLQ',
      'The schedule runs the reconciler every minute without retries on purpose: a lost run is made up by the next one, and a dead-lettered tick would carry nothing to redrive.',
    );
    return [start, schedule];
  }

  /**
   * Each deleted model or version has its files marked by the cleanup function (denied at once,
   * expired after the retention window). EventBridge retries the delivery for a day and Lambda a
   * failed run twice; what still fails lands in the cleanup dead-letter queue, with an alarm.
   */
  private buildArtifactRetention(): events.Rule {
    const queue = this.cleanupDeadLetterQueue;
    this.functions.cleanup.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: { bind: () => ({ destination: queue.queueArn }) },
    });
    const rule = new events.Rule(this, 'RetireArtifactsRule', {
      eventBus: this.eventBus,
      description: 'Marks the files of deleted models and versions (cleanup function)',
      eventPattern: toCdkEventPattern(RULES.retireArtifacts),
    });
    rule.addTarget(
      new eventsTargets.LambdaFunction(this.functions.cleanup, {
        deadLetterQueue: queue,
        retryAttempts: 185,
        maxEventAge: Duration.days(1),
      }),
    );
    return rule;
  }

  /**
   * A rule on the bus with SMOKE_TEST_PATTERN and a queue as its target: what the deployed smoke
   * test reads to see its events on the bus. SQS-managed encryption (EventBridge could not use a
   * customer managed key without a key policy for it); the messages hold only smoke-test models.
   */
  private buildSmokeTestEvents(): sqs.Queue {
    const queue = new sqs.Queue(this, 'SmokeTestEventQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.hours(1),
    });
    const rule = new events.Rule(this, 'SmokeTestEventsRule', {
      eventBus: this.eventBus,
      description: 'Copies the events of smoke-test models to the smoke-test queue',
      eventPattern: toCdkEventPattern(SMOKE_TEST_PATTERN),
    });
    rule.addTarget(new eventsTargets.SqsQueue(queue, { retryAttempts: 2, maxEventAge: Duration.hours(1) }));
    const reason =
      'The smoke-test queue is read by the smoke test only and kept for an hour; an event it misses fails that smoke run, which is the point: a dead-letter queue would hide it.';
    acknowledge(queue, 'AwsSolutions-SQS3', reason);
    acknowledge(queue, 'Serverless-SQSRedrivePolicy', reason);
    acknowledge(rule, 'Serverless-EventBusDLQ', reason);
    return queue;
  }

  private acknowledgeDeadLetterQueues(): void {
    for (const [queue, what] of [
      [this.relayDeadLetterQueue, 'the relay event source mapping (on-failure destination)'],
      [this.approvalDeadLetterQueue, 'the start-approval EventBridge rule target'],
      [this.verifyDeadLetterQueue, "the verify function's asynchronous invocations (on-failure destination)"],
      [
        this.cleanupDeadLetterQueue,
        'the retire-artifacts rule target and the cleanup function (on-failure destination)',
      ],
    ] as const) {
      const reason = `This queue is itself the dead-letter queue of ${what}; its messages are inspected and redriven by an operator (alarm on visible messages), not consumed.`;
      acknowledge(queue, 'AwsSolutions-SQS3', reason);
      acknowledge(queue, 'Serverless-SQSRedrivePolicy', reason);
    }
  }

  // ---------------------------------------------------------------- API

  private buildApi({ props, logRetention, removalPolicy }: Settings): apigw.RestApi {
    const throttle = { rateLimit: 1000, burstLimit: 2000, ...props.throttle };
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logRetention, removalPolicy });
    const api = new apigw.RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-model-registry`,
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
      logGroupName: `API-Gateway-Execution-Logs_${api.restApiId}/${API_STAGE_NAME}`,
      retention: logRetention,
      removalPolicy,
    });
    api.deploymentStage.node.addDependency(executionLogs);

    // API Gateway's own errors in the registry's (and MLflow's) error shape.
    for (const r of GATEWAY_RESPONSES) {
      api.addGatewayResponse(`GatewayResponse${r.type.responseType}`, {
        type: r.type,
        ...(r.status ? { statusCode: r.status } : {}),
        templates: {
          'application/json': `{"error_code":"${r.code}","message":$context.error.messageString}`,
        },
      });
    }

    acknowledge(
      api,
      'AwsSolutions-APIG2',
      'Every handler validates its path, query and body against the contract schemas (zod) and answers 400 itself.',
    );
    acknowledge(
      api.deploymentStage,
      'AwsSolutions-APIG3',
      'Only IAM-authorized principals of the allowed accounts can invoke the API (resource policy + SigV4) and the stage is throttled; attach a WAF web ACL in front if required.',
    );
    const cloudWatchRole = api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledge(
        cloudWatchRole,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'The account-wide API Gateway logging role uses the AWS managed policy API Gateway documents for it; it serves every REST API of the account and region.',
      );
    }
    return api;
  }

  /** One method per route of functions/api/routes.ts, integrated with its API function. */
  private buildMethods(): Record<string, apigw.Method> {
    // One invoke permission per function, for the whole API (execute-api:/*), instead of one per
    // method: the write function alone serves ~40 methods, whose statements (with the console's
    // test-invoke ones, or a second stage) would approach Lambda's 20 KB resource policy limit.
    // Who may call which route is decided by IAM on execute-api, not by this permission.
    const integrations = {} as Record<FunctionGroup, apigw.LambdaIntegration>;
    for (const group of API_FUNCTION_NAMES) {
      integrations[group] = new apigw.LambdaIntegration(this.functions[group], {
        scopePermissionToMethod: false,
      });
    }
    const methods: Record<string, apigw.Method> = {};
    for (const op of ALL_OPERATIONS) {
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
    return methods;
  }

  // ---------------------------------------------------------------- alarms

  private buildAlarms({ props }: Settings): cloudwatch.Alarm[] {
    const alarms: cloudwatch.Alarm[] = [];
    // Default: at least one (count metrics) in one period; with a threshold, above it.
    const alarm = (
      id: string,
      metric: cloudwatch.IMetric,
      description: string,
      above?: number,
      evaluationPeriods = 1,
    ) => {
      const a = new cloudwatch.Alarm(this, id, {
        metric,
        threshold: above ?? 1,
        evaluationPeriods,
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
      const fn = this.functions[name];
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
    alarm(
      'WebhookDeadLetters',
      this.webhooks.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: 'Maximum',
      }),
      'Registry events whose webhook deliveries could not be recorded (EventBridge and Lambda retries exhausted)',
    );
    alarm('Api5xxErrors', this.api.metricServerError({ period, statistic: 'Sum' }), 'API 5XX responses');
    const latency = props.alarmThresholds?.apiLatencyP99 ?? Duration.seconds(3);
    alarm(
      'ApiLatencyP99',
      this.api.metricLatency({ period, statistic: 'p99' }),
      `API p99 latency above ${latency.toHumanString()} for 15 minutes`,
      latency.toMilliseconds(),
      3,
    );
    const rate4xx = props.alarmThresholds?.api4xxRate ?? 0.25;
    alarm(
      'Api4xxRate',
      new cloudwatch.MathExpression({
        // Below 20 requests a period the rate says nothing (one typo is 50% of two requests).
        expression: 'IF(requests >= 20, errors / requests, 0)',
        usingMetrics: {
          errors: this.api.metricClientError({ period, statistic: 'Sum' }),
          requests: this.api.metricCount({ period, statistic: 'Sum' }),
        },
        period,
        label: 'Share of API requests answered 4XX',
      }),
      `More than ${rate4xx * 100}% of API requests answered 4XX for 15 minutes`,
      rate4xx,
      3,
    );
    alarm(
      'TableThrottles',
      new cloudwatch.MathExpression({
        expression: 'reads + writes',
        usingMetrics: {
          reads: this.table.metric('ReadThrottleEvents', { period, statistic: 'Sum' }),
          writes: this.table.metric('WriteThrottleEvents', { period, statistic: 'Sum' }),
        },
        period,
        label: 'Throttled table reads and writes',
      }),
      'DynamoDB throttled reads or writes of the registry table (on-demand: a sudden spike, or the account table limits)',
    );
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
      'VerifyDeadLetters',
      this.verifyDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      'Uploaded versions whose verification failed every attempt: they stay PENDING_REGISTRATION until finalized again',
    );
    alarm(
      'CleanupDeadLetters',
      this.cleanupDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      'Deleted models or versions whose files were not marked: they stay readable until the event is redriven',
    );
    alarm(
      'ApprovalWorkflowFailed',
      this.approvalWorkflow.metricFailed({ period, statistic: 'Sum' }),
      'Approval workflow executions that failed (the request is marked FAILED)',
    );
    alarm(
      'ApprovalWorkflowTimedOut',
      this.approvalWorkflow.metricTimedOut({ period, statistic: 'Sum' }),
      'Approval workflow executions that timed out (the reconciler ends their requests)',
    );
    alarm(
      'ApprovalWorkflowAborted',
      this.approvalWorkflow.metricAborted({ period, statistic: 'Sum' }),
      'Approval workflow executions that were stopped by hand (the reconciler ends or restarts their requests)',
    );
    alarm(
      'RelayIteratorAge',
      this.functions.relay.metric('IteratorAge', { period, statistic: 'Maximum' }),
      'The relay is more than 5 minutes behind the table stream: events are published late',
      Duration.minutes(5).toMilliseconds(),
    );
    return alarms;
  }

  /** The registry's dashboard: what an operator looks at first, alarms on top. */
  private buildDashboard(): cloudwatch.Dashboard {
    const period = Duration.minutes(5);
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = [], width = 8) =>
      new cloudwatch.GraphWidget({ title, left, right, width, height: 6, period });
    const fns = FUNCTION_NAMES.map((name) => ({ name, fn: this.functions[name] }));
    const perFunction = (metric: (fn: lambda.Function) => cloudwatch.Metric): cloudwatch.IMetric[] =>
      fns.map(({ name, fn }) => metric(fn).with({ label: name }));
    const queues: [string, sqs.Queue][] = [
      ['relay', this.relayDeadLetterQueue],
      ['approval', this.approvalDeadLetterQueue],
      ['verify', this.verifyDeadLetterQueue],
      ['cleanup', this.cleanupDeadLetterQueue],
      ['webhooks', this.webhooks.deadLetterQueue],
    ];
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      // Named by CloudFormation: a fixed name would clash with a second registry in the account.
      defaultInterval: Duration.hours(6),
    });
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 24, height: 4 }),
    );
    dashboard.addWidgets(
      graph(
        'API requests',
        [this.api.metricCount({ statistic: 'Sum' })],
        [this.api.metricClientError({ statistic: 'Sum' }), this.api.metricServerError({ statistic: 'Sum' })],
      ),
      graph('API latency (ms)', [
        this.api.metricLatency({ statistic: 'p50' }),
        this.api.metricLatency({ statistic: 'p99' }),
        this.api.metricIntegrationLatency({ statistic: 'p99' }),
      ]),
      graph(
        'Registry table',
        [
          this.table.metricConsumedReadCapacityUnits({ statistic: 'Sum' }),
          this.table.metricConsumedWriteCapacityUnits({ statistic: 'Sum' }),
        ],
        [
          this.table.metric('ReadThrottleEvents', { statistic: 'Sum' }),
          this.table.metric('WriteThrottleEvents', { statistic: 'Sum' }),
        ],
      ),
    );
    dashboard.addWidgets(
      graph(
        'Function invocations',
        perFunction((fn) => fn.metricInvocations({ statistic: 'Sum' })),
      ),
      graph(
        'Function errors',
        perFunction((fn) => fn.metricErrors({ statistic: 'Sum' })),
      ),
      graph(
        'Function duration p99 (ms)',
        perFunction((fn) => fn.metricDuration({ statistic: 'p99' })),
      ),
    );
    dashboard.addWidgets(
      graph(
        'Function throttles',
        perFunction((fn) => fn.metricThrottles({ statistic: 'Sum' })),
      ),
      graph('Approval workflow executions', [
        this.approvalWorkflow.metricStarted({ statistic: 'Sum' }),
        this.approvalWorkflow.metricSucceeded({ statistic: 'Sum' }),
        this.approvalWorkflow.metricFailed({ statistic: 'Sum' }),
        this.approvalWorkflow.metricTimedOut({ statistic: 'Sum' }),
        this.approvalWorkflow.metricAborted({ statistic: 'Sum' }),
      ]),
      graph(
        'Dead letters and relay lag',
        queues.map(([label, q]) =>
          q.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label }),
        ),
        [
          this.functions.relay.metric('IteratorAge', {
            statistic: 'Maximum',
            label: 'relay iterator age (ms)',
          }),
        ],
      ),
    );
    return dashboard;
  }

  /** Samples API requests at `tracingSampling` rather than X-Ray's default rule. */
  private buildSamplingRule({ props }: Settings): xray.CfnSamplingRule {
    const sampling = { reservoirSize: 0, fixedRate: 0.05, ...props.tracingSampling };
    return new xray.CfnSamplingRule(this, 'ApiSamplingRule', {
      samplingRule: {
        // Unique per account and region, at most 32 characters.
        ruleName: Names.uniqueResourceName(this, { maxLength: 32, separator: '-' }),
        // Before X-Ray's default rule (priority 10000).
        priority: 9000,
        reservoirSize: sampling.reservoirSize,
        fixedRate: sampling.fixedRate,
        // API Gateway reports its traces as "<api name>/<stage>"; X-Ray takes at most 64
        // characters here, so a long stack name is cut and matched with a wildcard.
        serviceName: samplingServiceName(this.api.restApiName, API_STAGE_NAME),
        serviceType: 'AWS::ApiGateway::Stage',
        host: '*',
        httpMethod: '*',
        urlPath: '*',
        resourceArn: '*',
        version: 1,
      },
    });
  }

  /**
   * Subscribes `target` to promotions: a rule on the registry's bus matching
   * `ModelVersionStageChanged` events into `stage` (default Production), optionally of one model
   * (`promotionPattern` of functions/deployment/event-rules.ts).
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
