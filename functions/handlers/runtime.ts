/**
 * Module-scope singletons shared by the handlers: configuration read and validated once per cold
 * start, SDK clients, Powertools logger.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { type ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { DynamoDbRegistryRepository } from '../adapters/dynamodb/registry-repository';
import {
  DEFAULT_POLICY,
  effectivePolicy,
  type GovernancePolicy,
  parsePolicyOverride,
} from '../domain/governance';
import { DEFAULT_ARTIFACT_SETTINGS } from '../use-cases/artifacts';
import { type ApprovalTasks, GovernanceService } from '../use-cases/governance';
import { RegistryService } from '../use-cases/registry';
import { TABLE_NAME_ENV } from '../wiring/table';

export const logger = new Logger({ serviceName: 'model-registry' });

const seconds = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

const envSchema = z.object({
  [TABLE_NAME_ENV]: z.string().min(1),
  /** Only set by the local runtime and tests: the DynamoDB Local endpoint. */
  DYNAMODB_ENDPOINT: z.string().url().optional(),
  /** The artifact bucket (functions that handle registry-managed files). */
  ARTIFACT_BUCKET: z.string().min(1).optional(),
  /** Only set by the local runtime and tests: the local S3 endpoint. */
  S3_ENDPOINT: z.string().url().optional(),
  /** The function that verifies uploaded files (invoked asynchronously by finalize). */
  VERIFY_FUNCTION_NAME: z.string().min(1).optional(),
  UPLOAD_URL_TTL_SECONDS: seconds(DEFAULT_ARTIFACT_SETTINGS.uploadUrlTtlSeconds, 3600),
  DOWNLOAD_URL_TTL_SECONDS: seconds(DEFAULT_ARTIFACT_SETTINGS.downloadUrlTtlSeconds, 12 * 3600),
  MULTIPART_THRESHOLD_BYTES: z.coerce
    .number()
    .int()
    .min(5 * 1024 ** 2)
    .max(5 * 1024 ** 3)
    .default(DEFAULT_ARTIFACT_SETTINGS.multipartThresholdBytes),
  MULTIPART_PART_SIZE_BYTES: z.coerce
    .number()
    .int()
    .min(5 * 1024 ** 2)
    .max(5 * 1024 ** 3)
    .default(DEFAULT_ARTIFACT_SETTINGS.partSizeBytes),
  PENDING_VERSION_TTL_HOURS: z.coerce
    .number()
    .min(1)
    .max(24 * 30)
    .default(24),
  /**
   * The deployment's governance policy: JSON with any of guarded_stages, required_approvals,
   * requester_may_approve, request_ttl_hours, protect_live_versions, quality_gates (defaults:
   * Production guarded, 1 approver other than the requester, 7 days, live versions protected).
   */
  GOVERNANCE_POLICY: z.string().optional(),
});

export type Environment = z.input<typeof envSchema>;
type Settings = z.output<typeof envSchema>;

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  return parseEnvironment(env);
}

export function parseEnvironment(env: Environment | NodeJS.ProcessEnv): Settings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `Invalid function configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')} (${i.message})`).join(', ')}`,
    );
  }
  return parsed.data;
}

/** One AWS SDK command as a function sends it. */
export interface SdkCall {
  readonly command: string;
  readonly input: unknown;
}

/**
 * One DynamoDB command and what it consumed, as DynamoDB reported it (`ReturnConsumedCapacity:
 * 'INDEXES'`): one entry per table for batch and transactional commands; none when the command
 * failed or cannot report capacity.
 */
export interface SdkCapacityReport extends SdkCall {
  readonly consumed: readonly ConsumedCapacity[];
  /** The error the command failed with (its capacity is not reported). */
  readonly error?: unknown;
}

/**
 * Sees every AWS SDK command a function sends (local runtime, tests and benchmarks only). With
 * `consumedCapacity` (benchmarks), every DynamoDB command is also reported there once it has
 * completed, and those that can report their consumed capacity ask for it; without it, requests
 * are sent exactly as in production.
 */
export interface SdkCallObserver {
  (call: SdkCall): void;
  readonly consumedCapacity?: (report: SdkCapacityReport) => void;
}

// biome-ignore lint/suspicious/noExplicitAny: any SDK v3 client (their middleware stacks differ in types only)
type ObservableClient = { middlewareStack: { add(middleware: any, options: any): void } };

export function observeCalls<C extends ObservableClient>(client: C, observe?: SdkCallObserver): C {
  if (observe) {
    client.middlewareStack.add(
      // biome-ignore lint/suspicious/noExplicitAny: see ObservableClient
      (next: any, context: any) => async (args: any) => {
        observe({ command: String(context.commandName ?? 'unknown'), input: args.input });
        return next(args);
      },
      { step: 'initialize', name: 'observeSdkCalls' },
    );
  }
  return client;
}

/** Reports each DynamoDB command with the capacity it consumed (see SdkCallObserver). */
function observeConsumedCapacity(
  client: DynamoDBClient,
  observe: NonNullable<SdkCallObserver['consumedCapacity']>,
): void {
  // The commands that accept ReturnConsumedCapacity.
  const reporting: ReadonlySet<string> = new Set([
    'GetItemCommand',
    'PutItemCommand',
    'UpdateItemCommand',
    'DeleteItemCommand',
    'QueryCommand',
    'ScanCommand',
    'BatchGetItemCommand',
    'BatchWriteItemCommand',
    'TransactGetItemsCommand',
    'TransactWriteItemsCommand',
  ]);
  client.middlewareStack.add(
    // biome-ignore lint/suspicious/noExplicitAny: see ObservableClient
    (next: any, context: any) => async (args: any) => {
      const command = String(context.commandName ?? 'unknown');
      const input = reporting.has(command)
        ? { ...args.input, ReturnConsumedCapacity: 'INDEXES' }
        : args.input;
      const result = await next({ ...args, input }).catch((error: unknown) => {
        observe({ command, input, consumed: [], error });
        throw error;
      });
      const consumed: ConsumedCapacity | ConsumedCapacity[] | undefined = result.output?.ConsumedCapacity;
      observe({ command, input, consumed: consumed === undefined ? [] : [consumed].flat() });
      return result;
    },
    { step: 'initialize', name: 'observeConsumedCapacity' },
  );
}

export function documentClient(env: Environment, observe?: SdkCallObserver): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    ...(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}),
    maxAttempts: 4,
  });
  observeCalls(client, observe);
  if (observe?.consumedCapacity) observeConsumedCapacity(client, observe.consumedCapacity);
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
}

export function deploymentPolicy(env: Environment): GovernancePolicy {
  if (!env.GOVERNANCE_POLICY) return DEFAULT_POLICY;
  let parsed: unknown;
  try {
    parsed = JSON.parse(env.GOVERNANCE_POLICY);
  } catch {
    throw new Error('Invalid function configuration: GOVERNANCE_POLICY is not JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('Invalid function configuration: GOVERNANCE_POLICY must be a JSON object');
  }
  return effectivePolicy(DEFAULT_POLICY, parsePolicyOverride(parsed as Record<string, unknown>));
}

/** The registry and its governance, wired together (the registry asks governance before a transition). */
export interface RegistryServices {
  readonly registry: RegistryService;
  readonly governance: GovernanceService;
  readonly repo: DynamoDbRegistryRepository;
}

export function registryServices(
  env: Environment,
  db = documentClient(env),
  tasks?: ApprovalTasks,
): RegistryServices {
  const repo = new DynamoDbRegistryRepository(db, env[TABLE_NAME_ENV]);
  const governance = new GovernanceService(repo, deploymentPolicy(env), tasks);
  const registry = new RegistryService(repo, governance.transitionPolicy);
  governance.attach(registry);
  return { registry, governance, repo };
}

export function registryService(env: Environment, db = documentClient(env)): RegistryService {
  return registryServices(env, db).registry;
}
