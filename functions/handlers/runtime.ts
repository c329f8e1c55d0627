/**
 * Module-scope singletons shared by the handlers: configuration read and validated once per cold
 * start, SDK clients, Powertools logger.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { type ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbRegistryRepository } from '../adapters/dynamodb/repository';
import {
  DEPLOYMENT_CONFIG_FILE,
  type Environment,
  type EnvironmentName,
  isConfigFileVariable,
  parseEnvironment,
} from '../deployment/environment';
import { TABLE_NAME_ENV } from '../deployment/table';
import { type GovernancePolicy, parseDeploymentPolicy } from '../domain/governance';
import { type IdentityTrust, parseIdentityTrust } from '../domain/identity';
import { BreakGlassService } from '../use-cases/break-glass';
import { RegistryCore } from '../use-cases/core';
import { DEFAULT_GOVERNANCE_SETTINGS, GovernanceService } from '../use-cases/governance';
import { ModelCardService } from '../use-cases/model-cards';
import { PolicyService } from '../use-cases/policy';
import type { ApprovalWorkflow } from '../use-cases/ports';
import { RegistryService } from '../use-cases/registry';

export const logger = new Logger({ serviceName: 'model-registry' });

/**
 * The configuration the deployment put in the function's asset (`DEPLOYMENT_CONFIG_FILE`, beside
 * the bundle's index.js): the variables too large for Lambda's environment. None when the function
 * runs from source (local runtime, tests) or the deployment has nothing to put there.
 */
export function readDeploymentConfig(dir: string = __dirname): Partial<Record<EnvironmentName, string>> {
  let text: string;
  try {
    text = readFileSync(join(dir, DEPLOYMENT_CONFIG_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  const config: Partial<Record<EnvironmentName, string>> = {};
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!isConfigFileVariable(name as EnvironmentName) || typeof value !== 'string') {
      throw new Error(`Invalid function configuration: ${DEPLOYMENT_CONFIG_FILE} sets '${name}'`);
    }
    config[name as EnvironmentName] = value;
  }
  return config;
}

/** The function's configuration: its environment and the deployment's config file, validated. */
export function readEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  config: Partial<Record<EnvironmentName, string>> = readDeploymentConfig(),
): Environment {
  // Each variable is in one place only (lib/ decides which); the file wins if both had one.
  return parseEnvironment({ ...env, ...config });
}

export { type Environment, parseEnvironment };

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
  /** When the command was sent and when its answer came (performance.now(), ms). */
  readonly sentAt: number;
  readonly answeredAt: number;
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
      const sentAt = performance.now();
      const result = await next({ ...args, input }).catch((error: unknown) => {
        observe({ command, input, consumed: [], error, sentAt, answeredAt: performance.now() });
        throw error;
      });
      const answeredAt = performance.now();
      const consumed: ConsumedCapacity | ConsumedCapacity[] | undefined = result.output?.ConsumedCapacity;
      observe({
        command,
        input,
        consumed: consumed === undefined ? [] : [consumed].flat(),
        sentAt,
        answeredAt,
      });
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
