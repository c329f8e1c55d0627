/**
 * Module-scope singletons shared by the handlers: configuration read and validated once per cold
 * start, SDK clients, Powertools logger.
 */

import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { type ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { DynamoDbRegistryRepository } from '../adapters/dynamodb/repository';
import { type GovernancePolicy, parseDeploymentPolicy } from '../domain/governance';
import { type IdentityTrust, parseIdentityTrust } from '../domain/identity';
import { DEFAULT_DELIVERY_SETTINGS } from '../domain/webhooks';
import { DEFAULT_ARTIFACT_SETTINGS } from '../use-cases/artifacts';
import { BreakGlassService } from '../use-cases/break-glass';
import { RegistryCore } from '../use-cases/core';
import { DEFAULT_GOVERNANCE_SETTINGS, GovernanceService } from '../use-cases/governance';
import { ModelCardService } from '../use-cases/model-cards';
import { PolicyService } from '../use-cases/policy';
import type { ApprovalWorkflow } from '../use-cases/ports';
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
   * The deployment's governance policy: a profile name (`governed`, the default, or `mlflow`), or
   * JSON of policy fields over the governed defaults (docs/governance.md).
   */
  GOVERNANCE_POLICY: z.string().optional(),
  /** Who the deployment trusts to name a person (docs/identity.md): JSON, see parseIdentityTrust. */
  IDENTITY_TRUST: z.string().optional(),
  /** The approval state machine (the functions that start or describe its executions). */
  STATE_MACHINE_ARN: z.string().min(1).optional(),
  /**
   * The secret page tokens are authenticated with (per deployment; at least 16 characters). The
   * construct generates one; the local runtime keeps one in its data directory.
   */
  PAGE_TOKEN_SECRET: z.string().min(16).optional(),
  /**
   * Origins of the deployed console (comma-separated, e.g. `https://d111.cloudfront.net`): API
   * answers to a request from one of them carry its CORS headers (lib/registry-console.ts).
   */
  CORS_ALLOWED_ORIGINS: z.string().optional(),
  /** A request left approved (or without a running workflow) this long is reconciled. */
  RECONCILE_AFTER_SECONDS: seconds(DEFAULT_GOVERNANCE_SETTINGS.reconcileAfterMs / 1000, 24 * 3600),
  /** Deployed: the KMS key webhook secrets are sealed with (functions that seal or open them). */
  WEBHOOK_KMS_KEY_ID: z.string().min(1).optional(),
  /** Local mode: the AES-256 key (32 bytes, base64url) webhook secrets are sealed with. */
  WEBHOOK_SECRET_KEY: z.string().min(43).optional(),
  /** Local mode only: deliver to private and loopback addresses. */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: z.enum(['true', 'false']).default('false'),
  /** Attempts of a delivery in all; after the last failed one it is DEAD. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(DEFAULT_DELIVERY_SETTINGS.maxAttempts),
  /** The wait after the first failed attempt (it doubles after each, up to WEBHOOK_RETRY_MAX_MS). */
  WEBHOOK_RETRY_BASE_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(3_600_000)
    .default(DEFAULT_DELIVERY_SETTINGS.baseDelayMs),
  WEBHOOK_RETRY_MAX_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(24 * 3_600_000)
    .default(DEFAULT_DELIVERY_SETTINGS.maxDelayMs),
  /** How long one delivery attempt may take (below the API's 29 s: test_webhook waits for it). */
  WEBHOOK_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(25_000)
    .default(DEFAULT_DELIVERY_SETTINGS.timeoutMs),
  /** How long delivery records are kept. */
  WEBHOOK_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(365)
    .default(DEFAULT_DELIVERY_SETTINGS.retentionDays),
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
  try {
    return parseDeploymentPolicy(env.GOVERNANCE_POLICY);
  } catch (err) {
    throw new Error(`Invalid function configuration: GOVERNANCE_POLICY: ${(err as Error).message}`);
  }
}

/**
 * The page token secret. Deployed, the construct sets PAGE_TOKEN_SECRET; without it (tests and
 * tools that build services directly) tokens are authenticated with a key that lives as long as
 * this process, so a token is refused by another process rather than forged.
 */
let processSecret: string | undefined;
export function pageTokenSecret(settings: { PAGE_TOKEN_SECRET?: string | undefined }): string {
  if (settings.PAGE_TOKEN_SECRET) return settings.PAGE_TOKEN_SECRET;
  processSecret ??= randomBytes(32).toString('base64url');
  return processSecret;
}

export function identityTrust(env: Environment): IdentityTrust {
  try {
    return parseIdentityTrust(env.IDENTITY_TRUST);
  } catch (err) {
    throw new Error(`Invalid function configuration: ${(err as Error).message}`);
  }
}

/**
 * The registry's services on one repository: the core both stand on, the registry (asking
 * governance's gatekeeper before a change of what is served), governance, policy changes, break
 * glass and model cards.
 */
export interface RegistryServices {
  readonly core: RegistryCore;
  readonly registry: RegistryService;
  readonly governance: GovernanceService;
  readonly policies: PolicyService;
  readonly breakGlass: BreakGlassService;
  readonly cards: ModelCardService;
  readonly repo: DynamoDbRegistryRepository;
}

export function registryServices(
  env: Environment,
  db = documentClient(env),
  workflow?: ApprovalWorkflow,
): RegistryServices {
  const settings = parseEnvironment(env);
  const repo = new DynamoDbRegistryRepository(db, settings[TABLE_NAME_ENV], pageTokenSecret(settings));
  const core = new RegistryCore(repo);
  const policy = deploymentPolicy(env);
  const governance = new GovernanceService(core, policy, workflow, {
    ...DEFAULT_GOVERNANCE_SETTINGS,
    reconcileAfterMs: settings.RECONCILE_AFTER_SECONDS * 1000,
  });
  return {
    core,
    registry: new RegistryService(core, governance.gatekeeper, settings.ARTIFACT_BUCKET),
    governance,
    policies: new PolicyService(core, policy),
    breakGlass: new BreakGlassService(core),
    cards: new ModelCardService(core),
    repo,
  };
}

export function registryService(env: Environment, db = documentClient(env)): RegistryService {
  return registryServices(env, db).registry;
}
