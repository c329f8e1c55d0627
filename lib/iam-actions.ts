/**
 * The IAM actions behind every AWS SDK command the functions send, and the actions each function's
 * role holds (the `actions` of the function table, functions/deployment/functions.ts). The CDK
 * construct (lib/model-registry.ts) grants `ROLE_ACTIONS`; tests that observe the SDK calls a
 * function really makes (see `SdkCallObserver` in functions/handlers/runtime.ts)
 * map each call with `iamActionsFor` and check it is in the role's list, so a new SDK call cannot
 * ship without its permission, and a permission nobody uses stands out.
 *
 * Plain data only: no aws-cdk-lib import, so runtime tests can use it cheaply.
 */
import {
  FUNCTION_NAMES,
  FUNCTIONS,
  type FunctionName,
  type RoleActions,
} from '../functions/deployment/functions';

export { FUNCTION_NAMES, type FunctionName, type RoleActions };

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
  ListObjectsV2Command: fixed('s3:ListBucket'),
  PutObjectTaggingCommand: fixed('s3:PutObjectTagging'),
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

/** What each function's role may do, and on what: the `actions` of functions/deployment/functions.ts. */
export const ROLE_ACTIONS = Object.fromEntries(
  FUNCTION_NAMES.map((name): [FunctionName, RoleActions] => [name, FUNCTIONS[name].actions]),
) as Readonly<Record<FunctionName, RoleActions>>;

/** Every action a function's role holds on the registry's resources (KMS aside). */
export function allowedActions(fn: FunctionName): Set<string> {
  const r = ROLE_ACTIONS[fn];
  return new Set([
    ...r.table,
    ...r.indexes,
    ...r.artifacts,
    ...r.artifactBucket,
    ...r.verifyFunction,
    ...r.stateMachine,
    ...r.executions,
    ...r.eventBus,
    ...r.tableStream,
    ...r.deadLetterQueue,
  ]);
}
