/**
 * The registry's Lambda functions, in one table: what each one runs, its size, the configuration
 * it receives (variables of the handlers' environment schema), what its handler is built with, and
 * the IAM actions its role holds. The CDK construct creates, configures and grants every function
 * from it; the local runtime builds every handler and its environment from it; the API routes name
 * their function by its key.
 *
 * Plain data (no AWS SDK, no aws-cdk-lib): lib/ imports it at synth time, tests cheaply.
 */
import type { EnvironmentName } from './environment';
import type { INDEXES } from './table';

/** What a handler is built with, beyond the table and its configuration. */
export type Capability =
  /** Handles registry-managed files: an S3 artifact store (and the bucket name). */
  | 'artifacts'
  /** Queues verifications of finalized uploads (invokes the verify function). */
  | 'queueVerification'
  /** Resumes or ends the approval task of a request (SendTaskSuccess / SendTaskFailure). */
  | 'resumeApproval'
  /** Starts and describes approval workflow executions. */
  | 'startApproval'
  /** Serves the OpenAPI document. */
  | 'openApiDocument'
  /** Replays recorded events of a time range to the registry's bus (POST /events/replay). */
  | 'replayEvents';

/** IAM actions of a function's role, by the resource they apply to. */
export interface RoleActions {
  /** On the table itself. */
  readonly table: readonly string[];
  /** On the table's global secondary indexes (each index ARN, from table.ts). */
  readonly indexes: readonly string[];
  /** On the artifact objects (`<bucket arn>/models/*`). */
  readonly artifacts: readonly string[];
  /** On the artifact bucket itself (listing its objects). */
  readonly artifactBucket: readonly string[];
  /** On the verify function. */
  readonly verifyFunction: readonly string[];
  /** On the approval state machine (starting executions, its task tokens). */
  readonly stateMachine: readonly string[];
  /** On the executions of the approval state machine. */
  readonly executions: readonly string[];
  /** On the registry's event bus. */
  readonly eventBus: readonly string[];
  /** On the table's stream (the outbox the relay reads). */
  readonly tableStream: readonly string[];
  /**
   * On the function's own dead-letter queue: the on-failure destination of the relay's event
   * source mapping, or of the verify function's asynchronous invocations (Lambda sends to either
   * with the function's role).
   */
  readonly deadLetterQueue: readonly string[];
  /**
   * On the customer managed KMS key of the table and bucket, only when one is configured (the
   * services call KMS on the caller's behalf: reads need Decrypt, writes also GenerateDataKey).
   */
  readonly kmsKey: readonly string[];
  /** On the KMS key that seals webhook secrets (lib/webhooks.ts). */
  readonly webhookKey: readonly string[];
}

export interface FunctionSpec {
  /** The Lambda entry point (exports `handler`), from the repository root. */
  readonly entry: string;
  readonly description: string;
  /** Default memory in MB (a construct prop may change it). */
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  /** Serves the API routes whose `group` is this function's name. */
  readonly api: boolean;
  /** The configuration it receives: nothing else is set on it. */
  readonly environment: readonly EnvironmentName[];
  readonly capabilities: readonly Capability[];
  readonly actions: RoleActions;
  /** The indexes `actions.indexes` apply to. @default - every index of the table */
  readonly indexNames?: readonly (keyof typeof INDEXES)[];
  /** What becomes of an invocation that fails for good (why it needs, or has, no Lambda DLQ). */
  readonly failures: string;
}

const KMS_READ = ['kms:Decrypt'];
const KMS_WRITE = ['kms:Decrypt', 'kms:GenerateDataKey'];

const TABLE_READ = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'];
const TABLE_WRITE = [
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];

/** What Lambda needs to poll a DynamoDB stream for an event source mapping. */
const STREAM_READ = [
  'dynamodb:DescribeStream',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:ListStreams',
];

const NOTHING = {
  table: [],
  indexes: [],
  artifacts: [],
  artifactBucket: [],
  verifyFunction: [],
  stateMachine: [],
  executions: [],
  eventBus: [],
  tableStream: [],
  deadLetterQueue: [],
  kmsKey: [],
  webhookKey: [],
} as const satisfies RoleActions;

/** What every function receives: the table, and Powertools' and Node's own settings. */
const BASE = [
  'TABLE_NAME',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_LOG_LEVEL',
  'POWERTOOLS_METRICS_NAMESPACE',
  'NODE_OPTIONS',
] as const satisfies readonly EnvironmentName[];

/**
 * What every API function receives: the policy it enforces, whom it trusts to name a person, the
 * deployment's page-token secret (a token one function issues, another accepts) and, with a
 * deployed console, the origins its CORS headers allow.
 */
const API = [
  ...BASE,
  'GOVERNANCE_POLICY',
  'IDENTITY_TRUST',
  'PAGE_TOKEN_SECRET',
  'CORS_ALLOWED_ORIGINS',
] as const satisfies readonly EnvironmentName[];

/**
 * What the functions that deliver webhooks (the write function tests and redelivers) receive: the
 * key that seals their secrets (deployed) or the local one, and the delivery settings.
 */
const WEBHOOKS = [
  'WEBHOOK_KMS_KEY_ID',
  'WEBHOOK_SECRET_KEY',
  'WEBHOOK_ALLOW_PRIVATE_TARGETS',
  'WEBHOOK_MAX_ATTEMPTS',
  'WEBHOOK_RETRY_BASE_MS',
  'WEBHOOK_RETRY_MAX_MS',
  'WEBHOOK_TIMEOUT_MS',
  'WEBHOOK_RETENTION_DAYS',
] as const satisfies readonly EnvironmentName[];

/** The API functions answer within API Gateway's 29-second integration timeout. */
const API_TIMEOUT_SECONDS = 29;

export const FUNCTIONS = {
  read: {
    entry: 'functions/handlers/read.ts',
    description: 'Model registry API: read routes (table read-only)',
    memorySize: 512,
    timeoutSeconds: API_TIMEOUT_SECONDS,
    api: true,
    environment: API,
    capabilities: ['openApiDocument'],
    failures:
      'Invoked synchronously by API Gateway: the caller gets the error and retries; there is no event to keep.',
    actions: { ...NOTHING, table: TABLE_READ, indexes: ['dynamodb:Query'], kmsKey: KMS_READ },
  },
  // Also replays recorded events (POST /events/replay): scans the table for audit entries in a
  // time range and publishes them to the bus; and seals (create, update) and opens (test,
  // redeliver) webhook secrets with the webhook key.
  write: {
    entry: 'functions/handlers/write.ts',
    description: 'Model registry API: mutations (table read-write), webhooks and event replay',
    memorySize: 512,
    timeoutSeconds: API_TIMEOUT_SECONDS,
    api: true,
    // ARTIFACT_BUCKET: creating a version refuses a source in another model's managed files.
    environment: [...API, 'ARTIFACT_BUCKET', 'EVENT_BUS_NAME', ...WEBHOOKS],
    capabilities: ['replayEvents'],
    failures:
      'Invoked synchronously by API Gateway: the caller gets the error and retries; there is no event to keep.',
    actions: {
      ...NOTHING,
      table: [...TABLE_WRITE, 'dynamodb:Scan'].sort(),
      indexes: ['dynamodb:Query'],
      eventBus: ['events:PutEvents'],
      kmsKey: KMS_WRITE,
      webhookKey: ['kms:Decrypt', 'kms:Encrypt'],
    },
  },
  upload: {
    entry: 'functions/handlers/upload.ts',
    description: 'Model registry API: version creation and artifact upload',
    memorySize: 512,
    timeoutSeconds: API_TIMEOUT_SECONDS,
    api: true,
    environment: [
      ...API,
      'ARTIFACT_BUCKET',
      'VERIFY_FUNCTION_NAME',
      'UPLOAD_URL_TTL_SECONDS',
      'PENDING_VERSION_TTL_HOURS',
      'MULTIPART_THRESHOLD_BYTES',
      'MULTIPART_PART_SIZE_BYTES',
    ],
    capabilities: ['artifacts', 'queueVerification'],
    failures:
      'Invoked synchronously by API Gateway: the caller gets the error and retries; there is no event to keep.',
    actions: {
      ...NOTHING,
      table: TABLE_WRITE,
      indexes: ['dynamodb:Query'],
      artifacts: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
      verifyFunction: ['lambda:InvokeFunction'],
      kmsKey: KMS_WRITE,
    },
  },
  download: {
    entry: 'functions/handlers/download.ts',
    description: 'Model registry API: presigned artifact downloads',
    memorySize: 512,
    timeoutSeconds: API_TIMEOUT_SECONDS,
    api: true,
    environment: [...API, 'ARTIFACT_BUCKET', 'DOWNLOAD_URL_TTL_SECONDS'],
    capabilities: ['artifacts'],
    failures:
      'Invoked synchronously by API Gateway: the caller gets the error and retries; there is no event to keep.',
    actions: {
      ...NOTHING,
      table: TABLE_READ,
      indexes: ['dynamodb:Query'],
      artifacts: ['s3:GetObject'],
      kmsKey: KMS_READ,
    },
  },
  // The only API function that may resume (or end) a waiting approval task.
  approve: {
    entry: 'functions/handlers/approve.ts',
    description: 'Model registry API: approve, reject and cancel transition requests',
    memorySize: 512,
    timeoutSeconds: API_TIMEOUT_SECONDS,
    api: true,
    environment: API,
    capabilities: ['resumeApproval'],
    failures:
      'Invoked synchronously by API Gateway: the caller gets the error and retries; there is no event to keep.',
    actions: {
      ...NOTHING,
      table: TABLE_WRITE,
      indexes: ['dynamodb:Query'],
      stateMachine: ['states:SendTaskFailure', 'states:SendTaskSuccess'],
      kmsKey: KMS_WRITE,
    },
  },
  // Records the version's new status with its audit entry (the outbox) in one transaction. Invoked
  // asynchronously: Lambda retries a failed run twice, then sends the job to its dead-letter queue.
  verify: {
    entry: 'functions/handlers/verify.ts',
    description: 'Model registry: verifies uploaded artifacts (invoked asynchronously by upload)',
    // 1,769 MB is one full vCPU: hashing is CPU-bound.
    memorySize: 1769,
    timeoutSeconds: 900,
    api: false,
    environment: [...BASE, 'ARTIFACT_BUCKET', 'MULTIPART_THRESHOLD_BYTES', 'MULTIPART_PART_SIZE_BYTES'],
    capabilities: ['artifacts'],
    failures:
      'Invoked asynchronously by finalize: two retries, then an on-failure destination (the verify dead-letter queue, with the error) rather than a Lambda DLQ.',
    actions: {
      ...NOTHING,
      table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      artifacts: ['s3:GetObject'],
      deadLetterQueue: ['sqs:SendMessage'],
      kmsKey: KMS_WRITE,
    },
  },
  // Invoked by the state machine; it records the workflow's steps but cannot drive the workflow.
  workflow: {
    entry: 'functions/handlers/workflow.ts',
    description: 'Model registry: the steps of the approval state machine (quality gates, apply, expire)',
    memorySize: 512,
    // Below the 60 s TimeoutSeconds of the state machine's Task states.
    timeoutSeconds: 30,
    api: false,
    environment: [...BASE, 'GOVERNANCE_POLICY'],
    capabilities: [],
    failures:
      'Invoked synchronously by the state machine, whose Retry and Catch record the failure on the request.',
    actions: { ...NOTHING, table: TABLE_WRITE, indexes: ['dynamodb:Query'], kmsKey: KMS_WRITE },
  },
  // Starts each request's execution (named by the request id) and, on its schedule, applies or
  // fails requests left approved, restarts lost executions and ends their waiting tasks.
  reconcile: {
    entry: 'functions/handlers/reconcile.ts',
    description:
      'Model registry: starts approval workflows and reconciles requests (applies or fails approved ones left unapplied)',
    memorySize: 512,
    timeoutSeconds: 60,
    api: false,
    environment: [...BASE, 'GOVERNANCE_POLICY', 'STATE_MACHINE_ARN', 'RECONCILE_AFTER_SECONDS'],
    capabilities: ['startApproval', 'resumeApproval'],
    failures:
      'Invoked by the start-approval rule (EventBridge retries, then its dead-letter queue) and every minute by the schedule (the next run retries).',
    actions: {
      ...NOTHING,
      table: TABLE_WRITE,
      indexes: ['dynamodb:Query'],
      stateMachine: ['states:SendTaskFailure', 'states:SendTaskSuccess', 'states:StartExecution'],
      executions: ['states:DescribeExecution'],
      kmsKey: KMS_WRITE,
    },
  },
  // Invoked by the rule RULES.retireArtifacts for each deleted model or version: tags its objects
  // so the bucket policy denies reading them and the lifecycle rule expires them. No table access.
  cleanup: {
    entry: 'functions/handlers/cleanup.ts',
    description:
      'Model registry: marks the files of deleted models and versions (denied at once, expired later)',
    memorySize: 256,
    timeoutSeconds: 900,
    api: false,
    environment: [...BASE, 'ARTIFACT_BUCKET'],
    capabilities: ['artifacts'],
    failures:
      'Invoked by the retire-artifacts rule: EventBridge and Lambda retries, then the cleanup dead-letter queue (target DLQ and on-failure destination).',
    actions: {
      ...NOTHING,
      artifacts: ['s3:PutObjectTagging'],
      artifactBucket: ['s3:ListBucket'],
      deadLetterQueue: ['sqs:SendMessage'],
    },
  },
  // Reads the stream (Lambda polls it with the function's role), publishes, dead-letters; no table
  // access. With a customer managed key, stream records are decrypted with it.
  relay: {
    entry: 'functions/handlers/relay.ts',
    description: 'Model registry: publishes recorded events (outbox entries of the table stream) to the bus',
    memorySize: 256,
    timeoutSeconds: 60,
    api: false,
    environment: [...BASE, 'EVENT_BUS_NAME', 'RELAY_DEAD_LETTER_QUEUE_URL'],
    capabilities: [],
    failures:
      'Invoked by the table stream mapping: a record it cannot publish is sent whole to the relay dead-letter queue (SendMessage); if that fails too, retries with bisection, then the on-failure destination (the same queue).',
    actions: {
      ...NOTHING,
      tableStream: STREAM_READ,
      eventBus: ['events:PutEvents'],
      deadLetterQueue: ['sqs:SendMessage'],
      kmsKey: KMS_READ,
    },
  },
  // Webhook delivery (MLflow's webhooks API, delivered from the outbox): invoked by the
  // deliverWebhooks rule for each event MLflow has a webhook event for (records one delivery per
  // matching webhook and attempts it) and every minute by its schedule (the retry pass). Reads
  // webhooks and due deliveries through the one sparse index (gsi6) and opens their secrets.
  webhooks: {
    entry: 'functions/handlers/webhooks.ts',
    description: 'Model registry: delivers webhooks (MLflow webhooks API) and retries failed deliveries',
    memorySize: 256,
    timeoutSeconds: 60,
    api: false,
    environment: [...BASE, ...WEBHOOKS],
    capabilities: [],
    failures:
      'Invoked by the deliver-webhooks rule (EventBridge retries, then the webhook dead-letter queue) and by Lambda asynchronously (two retries, then the same queue as on-failure destination); the schedule runs without retries (the next run retries).',
    actions: {
      ...NOTHING,
      table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      indexes: ['dynamodb:Query'],
      deadLetterQueue: ['sqs:SendMessage'],
      kmsKey: KMS_WRITE,
      webhookKey: ['kms:Decrypt'],
    },
    indexNames: ['byOpenRequest'],
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof FUNCTIONS;

/** The functions that serve API routes (the `group` of each route in functions/api/contract.ts). */
export type ApiFunctionName = {
  [K in FunctionName]: (typeof FUNCTIONS)[K]['api'] extends true ? K : never;
}[FunctionName];

export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

export const API_FUNCTION_NAMES = FUNCTION_NAMES.filter((n) => FUNCTIONS[n].api) as ApiFunctionName[];

export function functionSpec(name: FunctionName): FunctionSpec {
  return FUNCTIONS[name];
}

export function hasCapability(name: FunctionName, capability: Capability): boolean {
  return (FUNCTIONS[name].capabilities as readonly Capability[]).includes(capability);
}

/** The variables `name` receives, out of a full set of values (unset ones left out). */
export function environmentOf<V>(
  name: FunctionName,
  values: Partial<Record<EnvironmentName, V>>,
): Partial<Record<EnvironmentName, V>> {
  const out: Partial<Record<EnvironmentName, V>> = {};
  for (const key of FUNCTIONS[name].environment) {
    if (values[key] !== undefined) out[key] = values[key];
  }
  return out;
}
