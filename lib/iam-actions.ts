/**
 * The IAM actions behind every AWS SDK command the functions send, and the actions each function's
 * role holds. The CDK construct (lib/model-registry.ts) grants `ROLE_ACTIONS`; tests that observe
 * the SDK calls a function really makes (see `SdkCallObserver` in functions/handlers/runtime.ts)
 * map each call with `iamActionsFor` and check it is in the role's list, so a new SDK call cannot
 * ship without its permission, and a permission nobody uses stands out.
 *
 * Plain data only: no aws-cdk-lib import, so runtime tests can use it cheaply.
 */

/**
 * The Lambda functions of the stack: the API groups of functions/api/contract.ts (`FunctionGroup`),
 * `verify` (artifact verification), `workflow` (the Task states of the approval state machine) and
 * `relay` (the transactional outbox: table stream → event bus).
 */
export type FunctionName =
  | 'read'
  | 'write'
  | 'upload'
  | 'download'
  | 'approve'
  | 'verify'
  | 'workflow'
  | 'reconcile'
  | 'relay';

export const FUNCTION_NAMES: readonly FunctionName[] = [
  'read',
  'write',
  'upload',
  'download',
  'approve',
  'verify',
  'workflow',
  'reconcile',
  'relay',
];

type ActionsFor = (input: unknown) => string[];

const fixed =
  (...actions: string[]): ActionsFor =>
  () =>
    actions;

/**
 * TransactWriteItems is authorized per contained item: a `Put` needs dynamodb:PutItem, an
 * `Update` dynamodb:UpdateItem, a `Delete` dynamodb:DeleteItem, a `ConditionCheck`
 * dynamodb:ConditionCheckItem (there is no dynamodb:TransactWriteItems action).
 */
const TRANSACT_WRITE_ITEM_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

function transactWriteActions(input: unknown): string[] {
  const items = (input as { TransactItems?: unknown } | undefined)?.TransactItems;
  if (!Array.isArray(items) || items.length === 0) {
    throw new Error('TransactWriteItems without TransactItems: cannot tell which actions it needs');
  }
  const actions = new Set<string>();
  for (const item of items) {
    const kinds = Object.keys((item ?? {}) as object).filter((k) => (item as Record<string, unknown>)[k]);
    if (kinds.length !== 1 || !(kinds[0] in TRANSACT_WRITE_ITEM_ACTIONS)) {
      throw new Error(`Unknown TransactWriteItems entry with keys [${kinds.join(', ')}]`);
    }
    actions.add(TRANSACT_WRITE_ITEM_ACTIONS[kinds[0]]);
  }
  return [...actions].sort();
}

/**
 * Command name (as `context.commandName` reports it: lib-dynamodb's DocumentClient names such as
 * `GetCommand`, the low-level client's `GetItemCommand`, S3's `GetObjectCommand`, ...) to the IAM
 * actions it needs.
 */
const COMMAND_ACTIONS: Record<string, ActionsFor> = {
  // DynamoDB, DocumentClient (@aws-sdk/lib-dynamodb) names
  GetCommand: fixed('dynamodb:GetItem'),
  PutCommand: fixed('dynamodb:PutItem'),
  UpdateCommand: fixed('dynamodb:UpdateItem'),
  DeleteCommand: fixed('dynamodb:DeleteItem'),
  QueryCommand: fixed('dynamodb:Query'),
  ScanCommand: fixed('dynamodb:Scan'),
  BatchGetCommand: fixed('dynamodb:BatchGetItem'),
  BatchWriteCommand: fixed('dynamodb:BatchWriteItem'),
  TransactWriteCommand: transactWriteActions,
  TransactGetCommand: fixed('dynamodb:GetItem'),
  // DynamoDB, low-level client (@aws-sdk/client-dynamodb) names (QueryCommand/ScanCommand as above)
  GetItemCommand: fixed('dynamodb:GetItem'),
  PutItemCommand: fixed('dynamodb:PutItem'),
  UpdateItemCommand: fixed('dynamodb:UpdateItem'),
  DeleteItemCommand: fixed('dynamodb:DeleteItem'),
  BatchGetItemCommand: fixed('dynamodb:BatchGetItem'),
  BatchWriteItemCommand: fixed('dynamodb:BatchWriteItem'),
  TransactWriteItemsCommand: transactWriteActions,
  TransactGetItemsCommand: fixed('dynamodb:GetItem'),
  // S3
  GetObjectCommand: fixed('s3:GetObject'),
  HeadObjectCommand: fixed('s3:GetObject'),
  PutObjectCommand: fixed('s3:PutObject'),
  CreateMultipartUploadCommand: fixed('s3:PutObject'),
  UploadPartCommand: fixed('s3:PutObject'),
  CompleteMultipartUploadCommand: fixed('s3:PutObject'),
  ListPartsCommand: fixed('s3:ListMultipartUploadParts'),
  AbortMultipartUploadCommand: fixed('s3:AbortMultipartUpload'),
  DeleteObjectCommand: fixed('s3:DeleteObject'),
  DeleteObjectsCommand: fixed('s3:DeleteObject'),
  // Lambda
  InvokeCommand: fixed('lambda:InvokeFunction'),
  // KMS (webhook secrets, lib/webhooks.ts)
  EncryptCommand: fixed('kms:Encrypt'),
  DecryptCommand: fixed('kms:Decrypt'),
  // EventBridge
  PutEventsCommand: fixed('events:PutEvents'),
  // Step Functions (task tokens of the approval workflow)
  SendTaskSuccessCommand: fixed('states:SendTaskSuccess'),
  SendTaskFailureCommand: fixed('states:SendTaskFailure'),
  StartExecutionCommand: fixed('states:StartExecution'),
  DescribeExecutionCommand: fixed('states:DescribeExecution'),
};

/**
 * The IAM actions an SDK command needs. Throws for a command this table does not know, so a new
 * SDK call fails the permission tests until it is added here (and, if needed, to `ROLE_ACTIONS`).
 */
export function iamActionsFor(command: string, input: unknown): string[] {
  const actionsFor = Object.hasOwn(COMMAND_ACTIONS, command) ? COMMAND_ACTIONS[command] : undefined;
  if (!actionsFor) {
    throw new Error(`No IAM mapping for SDK command '${command}': add it to lib/iam-actions.ts`);
  }
  return actionsFor(input);
}

/** The commands `iamActionsFor` knows. */
export const KNOWN_COMMANDS: readonly string[] = Object.keys(COMMAND_ACTIONS);

export interface RoleActions {
  /** On the table itself. */
  readonly table: readonly string[];
  /** On the table's global secondary indexes (each index ARN, from functions/wiring/table.ts). */
  readonly indexes: readonly string[];
  /** On the artifact objects (`<bucket arn>/models/*`). */
  readonly artifacts: readonly string[];
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
  /** On the relay's dead-letter queue (the event source mapping's on-failure destination). */
  readonly deadLetterQueue: readonly string[];
  /**
   * On the customer managed KMS key of the table and bucket, only when one is configured (the
   * services call KMS on the caller's behalf: reads need Decrypt, writes also GenerateDataKey).
   */
  readonly kmsKey: readonly string[];
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
  verifyFunction: [],
  stateMachine: [],
  executions: [],
  eventBus: [],
  tableStream: [],
  deadLetterQueue: [],
  kmsKey: [],
} as const satisfies RoleActions;

/**
 * What each function's role may do, and on what. Nothing else is granted (besides writing its own
 * log group and X-Ray traces).
 */
export const ROLE_ACTIONS: Record<FunctionName, RoleActions> = {
  read: { ...NOTHING, table: TABLE_READ, indexes: ['dynamodb:Query'], kmsKey: KMS_READ },
  // Also replays recorded events (POST /events/replay): scans the table for audit entries in a
  // time range and publishes them to the bus.
  write: {
    ...NOTHING,
    table: [...TABLE_WRITE, 'dynamodb:Scan'].sort(),
    indexes: ['dynamodb:Query'],
    eventBus: ['events:PutEvents'],
    kmsKey: KMS_WRITE,
  },
  upload: {
    ...NOTHING,
    table: TABLE_WRITE,
    indexes: ['dynamodb:Query'],
    artifacts: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
    verifyFunction: ['lambda:InvokeFunction'],
    kmsKey: KMS_WRITE,
  },
  download: {
    ...NOTHING,
    table: TABLE_READ,
    indexes: ['dynamodb:Query'],
    artifacts: ['s3:GetObject'],
    kmsKey: KMS_READ,
  },
  // The only function that may resume (or end) a waiting approval task.
  approve: {
    ...NOTHING,
    table: TABLE_WRITE,
    indexes: ['dynamodb:Query'],
    stateMachine: ['states:SendTaskFailure', 'states:SendTaskSuccess'],
    kmsKey: KMS_WRITE,
  },
  // Records the version's new status with its audit entry (the outbox) in one transaction.
  verify: {
    ...NOTHING,
    table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    artifacts: ['s3:GetObject'],
    kmsKey: KMS_WRITE,
  },
  // Invoked by the state machine; it records the workflow's steps but cannot drive the workflow.
  workflow: { ...NOTHING, table: TABLE_WRITE, indexes: ['dynamodb:Query'], kmsKey: KMS_WRITE },
  // Starts each request's execution (named by the request id) and, on its schedule, applies or
  // fails requests left approved, restarts lost executions and ends their waiting tasks.
  reconcile: {
    ...NOTHING,
    table: TABLE_WRITE,
    indexes: ['dynamodb:Query'],
    stateMachine: ['states:SendTaskFailure', 'states:SendTaskSuccess', 'states:StartExecution'],
    executions: ['states:DescribeExecution'],
    kmsKey: KMS_WRITE,
  },
  // Reads the stream (Lambda polls it with the function's role), publishes, dead-letters; no table
  // access. With a customer managed key, stream records are decrypted with it.
  relay: {
    ...NOTHING,
    tableStream: STREAM_READ,
    eventBus: ['events:PutEvents'],
    deadLetterQueue: ['sqs:SendMessage'],
    kmsKey: KMS_READ,
  },
};

/** Every action a function's role holds on the registry's resources (KMS aside). */
export function allowedActions(fn: FunctionName): Set<string> {
  const r = ROLE_ACTIONS[fn];
  return new Set([
    ...r.table,
    ...r.indexes,
    ...r.artifacts,
    ...r.verifyFunction,
    ...r.stateMachine,
    ...r.executions,
    ...r.eventBus,
    ...r.tableStream,
    ...r.deadLetterQueue,
  ]);
}
