/**
 * The whole registry on one machine: DynamoDB Local, the registry table (same definition as the
 * deployed one) and the local API front invoking the same handlers. Used by `npm start`, the tests
 * and the benchmarks.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { EventPublisher } from '../functions/adapters/eventbridge/publisher';
import { type DeadLetter, deadLetterBody } from '../functions/adapters/sqs/dead-letter';
import type { FunctionGroup } from '../functions/api/contract';
import { type ApiHandler, buildApiHandler } from '../functions/handlers/api-factory';
import { artifactService } from '../functions/handlers/artifact-runtime';
import { buildReconcileHandler } from '../functions/handlers/reconcile-factory';
import { buildRelayHandler } from '../functions/handlers/relay-factory';
import type { Environment, SdkCall, SdkCallObserver, SdkCapacityReport } from '../functions/handlers/runtime';
import { buildVerifyHandler } from '../functions/handlers/verify-factory';
import { buildWebhookDeliveryHandler } from '../functions/handlers/webhooks-factory';
import { buildWorkflowHandler } from '../functions/handlers/workflow-factory';
import type { ApprovalWorkflow, VerificationJob } from '../functions/use-cases/ports';
import { RULES } from '../functions/wiring/event-rules';
import { consoleFallback } from './console';
import { ensureTable, LOCAL_AWS, type LocalDynamoDb, startDynamoDbLocal } from './dynamodb';
import { LocalEventBus } from './events';
import { createLocalFront } from './http-front';
import { lambdaContext } from './lambda-context';
import { startLocalOutbox } from './outbox';
import { LOCAL_BUCKET, type LocalS3, startLocalS3 } from './s3';
import { LocalApprovalWorkflow } from './workflow';

export const DEFAULT_TABLE_NAME = 'model-registry';

/** The deployed functions, each with its own SDK clients as on Lambda. */
export type LocalFunction = FunctionGroup | 'verify' | 'workflow' | 'reconcile' | 'relay' | 'webhooks';

/** How often the local reconciler runs (the deployed schedule runs every minute). */
export const DEFAULT_RECONCILE_INTERVAL_MS = 15_000;

/** How often the local webhook retry pass runs (deployed: every minute). */
export const DEFAULT_WEBHOOK_RETRY_INTERVAL_MS = 5_000;

export interface LocalRegistryOptions {
  /** Port of the API on 127.0.0.1; 0 picks a free one. */
  readonly port?: number;
  /** Keep data here across restarts; omit (or set inMemory) to keep everything in memory. */
  readonly dataDir?: string;
  readonly inMemory?: boolean;
  /** Reuse a running DynamoDB Local instead of starting one (tests share one engine). */
  readonly dynamoEndpoint?: string;
  /** Reuse a running local S3 instead of starting one (tests share one). */
  readonly s3Endpoint?: string;
  readonly tableName?: string;
  /** Function settings to override (e.g. UPLOAD_URL_TTL_SECONDS). */
  readonly env?: Partial<Environment>;
  /** Start with the outbox relay off (tests of a crash between a write and its publication). */
  readonly outboxPaused?: boolean;
  /** Sees every AWS SDK command each function sends (tests and benchmarks). */
  readonly observeSdkCalls?: (fn: LocalFunction, call: SdkCall) => void;
  /**
   * Benchmarks: every DynamoDB command of each function asks for its consumed capacity
   * (`ReturnConsumedCapacity: 'INDEXES'`) and reports it here, failed commands included.
   */
  readonly observeConsumedCapacity?: (fn: LocalFunction, report: SdkCapacityReport) => void;
  /** How often the reconciler runs (0: only at start and on `reconcile()`). */
  readonly reconcileIntervalMs?: number;
  /** How often the webhook retry pass runs (0: only at start and on `retryWebhooks()`). */
  readonly webhookRetryIntervalMs?: number;
  /**
   * Tests only: wraps the approval workflow as the functions see it, to inject faults the local
   * engines cannot produce (a resume that fails, as when a task token timed out).
   */
  readonly wrapApprovalWorkflow?: (workflow: ApprovalWorkflow) => ApprovalWorkflow;
  /**
   * Tests only: wraps what the relay publishes to (the local bus), to inject the faults the local
   * engines cannot produce (EventBridge refusing entries).
   */
  readonly wrapRelayPublisher?: (bus: EventPublisher) => EventPublisher;
  /** The relay's tries per record before it dead-letters it (default 3, 250 ms apart, doubling). */
  readonly relayRetry?: { readonly attempts: number; readonly backoffMs: number };
  /** Serve the web console built in this directory at `/` (local/console.ts). */
  readonly consoleDir?: string;
}

export interface LocalRegistry {
  readonly url: string;
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  readonly tableName: string;
  readonly env: Environment;
  /** PID of the DynamoDB Local process this registry started (none when it reuses one). */
  readonly dynamoPid?: number;
  /** The local event bus: every published event, and the local rules. */
  readonly events: LocalEventBus;
  /**
   * Resolves once the background work caused so far has finished: verifications, the relay of
   * recorded events, the rules they trigger, and workflow steps (up to waiting for a decision).
   */
  settled(): Promise<void>;
  /** What the relay dead-lettered (deployed: the relay's SQS dead-letter queue), oldest first. */
  relayDeadLetters(): readonly DeadLetter[];
  /** Runs the reconciler now (as its schedule does) and waits for it. */
  reconcile(): Promise<Record<string, unknown>>;
  /** Runs the webhook retry pass now (as its schedule does) and waits for it. */
  retryWebhooks(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * The page token secret of this local registry: kept in the data directory (so tokens survive a
 * restart), or made for this process when nothing is kept.
 */
function pageTokenSecret(dataDir: string | undefined): string {
  if (!dataDir) return randomBytes(32).toString('base64url');
  const file = join(dataDir, 'page-token-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/**
 * The key webhook secrets are sealed with (AES-256-GCM): kept in the data directory beside the
 * page token secret, so secrets survive a restart; made for this process when nothing is kept.
 */
function webhookSecretKey(dataDir: string | undefined): string {
  if (!dataDir) return randomBytes(32).toString('base64url');
  const file = join(dataDir, 'webhook-secret-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, key, { mode: 0o600 });
  return key;
}

/** Makes the AWS SDK in this process talk to the local engines with the local credentials. */
function useLocalCredentials(): void {
  process.env.AWS_REGION ??= LOCAL_AWS.region;
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_AWS.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_AWS.credentials.secretAccessKey;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.POWERTOOLS_DEV ??= 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
}

export async function startLocalRegistry(options: LocalRegistryOptions = {}): Promise<LocalRegistry> {
  useLocalCredentials();
  const tableName = options.tableName ?? DEFAULT_TABLE_NAME;
  const persistent = !options.inMemory && options.dataDir ? options.dataDir : undefined;
  let dynamo: LocalDynamoDb | undefined;
  let s3: LocalS3 | undefined;
  let stopBackground = async () => {};
  const stopEngines = async () => {
    await s3?.stop();
    await dynamo?.stop();
  };
  try {
    if (!options.dynamoEndpoint) {
      dynamo = await startDynamoDbLocal(persistent ? { dataDir: join(persistent, 'dynamodb') } : {});
    }
    if (!options.s3Endpoint) s3 = await startLocalS3(persistent ? { dataDir: join(persistent, 's3') } : {});
    const dynamoEndpoint = options.dynamoEndpoint ?? dynamo!.endpoint;
    const s3Endpoint = options.s3Endpoint ?? s3!.endpoint;
    await ensureTable(dynamoEndpoint, tableName);
    const env: Environment = {
      TABLE_NAME: tableName,
      DYNAMODB_ENDPOINT: dynamoEndpoint,
      ARTIFACT_BUCKET: LOCAL_BUCKET,
      S3_ENDPOINT: s3Endpoint,
      PAGE_TOKEN_SECRET: pageTokenSecret(persistent),
      WEBHOOK_SECRET_KEY: webhookSecretKey(persistent),
      // Local mode delivers to 127.0.0.1 and other private addresses (deployed: refused).
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      ...options.env,
    };
    const observer = (fn: LocalFunction): SdkCallObserver | undefined => {
      const { observeSdkCalls: calls, observeConsumedCapacity: capacity } = options;
      if (!calls && !capacity) return undefined;
      const observe = (call: SdkCall) => calls?.(fn, call);
      return capacity
        ? Object.assign(observe, { consumedCapacity: (report: SdkCapacityReport) => capacity(fn, report) })
        : observe;
    };

    // Finalize queues verification; locally it runs in this process, after the request returns,
    // through the same handler the verify function runs on Lambda.
    const verify = buildVerifyHandler(env, observer('verify'));
    const running = new Set<Promise<unknown>>();
    const enqueue = async (job: VerificationJob) => {
      const run = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => verify(job, lambdaContext('verify', { timeoutMs: 900_000 })))
        .catch((err) => console.error(`Verification of ${job.name} v${job.version} failed:`, err))
        .finally(() => running.delete(run));
      running.add(run);
    };

    // Governance: the approval workflow, the reconcile function (started by the deployed rule's
    // pattern, and on a timer as by the deployed schedule), the event bus, and the outbox relay on
    // the table's stream.
    const localWorkflow = new LocalApprovalWorkflow(buildWorkflowHandler(env, observer('workflow')));
    const workflow = options.wrapApprovalWorkflow?.(localWorkflow) ?? localWorkflow;
    const reconcileHandler = buildReconcileHandler(env, workflow, observer('reconcile'));
    const reconcileRuns = new Set<Promise<unknown>>();
    const reconcile = (event: Record<string, unknown>) => {
      const run = reconcileHandler(event, lambdaContext('reconcile', { timeoutMs: 60_000 })).finally(() =>
        reconcileRuns.delete(run),
      );
      reconcileRuns.add(run);
      return run;
    };
    const scheduled = (reconcileAll = false) => ({
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
      detail: reconcileAll ? { reconcile_all: true } : {},
    });
    const events = new LocalEventBus(persistent ? join(persistent, 'events.jsonl') : undefined);
    events.addRule({
      name: 'start-approval',
      pattern: RULES.startApproval,
      target: (e) =>
        void reconcile(e as unknown as Record<string, unknown>).catch((err) =>
          console.error('Starting an approval workflow failed (the reconciler retries):', err),
        ),
    });
    // Webhooks: the delivery function behind the same rule as deployed (durable: the relay
    // publishes an event only once its deliveries are recorded), and its retry pass on a timer.
    const webhookHandler = buildWebhookDeliveryHandler(env, {
      ...(observer('webhooks') ? { observe: observer('webhooks')! } : {}),
    });
    const webhookRuns = new Set<Promise<unknown>>();
    const runWebhooks = (event: Record<string, unknown>) => {
      const run = webhookHandler(event, lambdaContext('webhooks', { timeoutMs: 60_000 })).finally(() =>
        webhookRuns.delete(run),
      );
      webhookRuns.add(run);
      return run;
    };
    events.addRule({
      name: 'deliver-webhooks',
      pattern: RULES.deliverWebhooks,
      durable: true,
      target: async (e) => {
        await runWebhooks(e as unknown as Record<string, unknown>);
      },
    });
    // The relay's dead-letter queue: kept in memory and, with a data directory, in a JSON-lines file.
    const deadLetters: DeadLetter[] = [];
    const deadLetterFile = persistent ? join(persistent, 'relay-dead-letters.jsonl') : undefined;
    const relay = buildRelayHandler(env, options.wrapRelayPublisher?.(events) ?? events, {
      deadLetter: {
        async send(letter) {
          deadLetters.push(letter);
          if (deadLetterFile) appendFileSync(deadLetterFile, `${deadLetterBody(letter)}\n`);
        },
      },
      ...(options.relayRetry ?? {}),
    });
    const outbox = options.outboxPaused
      ? undefined
      : await startLocalOutbox({
          endpoint: dynamoEndpoint,
          tableName,
          relay,
          ...(persistent ? { checkpointFile: join(persistent, 'outbox-checkpoint.json') } : {}),
        });
    let timer: NodeJS.Timeout | undefined;
    let webhookTimer: NodeJS.Timeout | undefined;
    stopBackground = async () => {
      if (timer) clearInterval(timer);
      if (webhookTimer) clearInterval(webhookTimer);
      await outbox?.stop();
      await Promise.allSettled([...reconcileRuns, ...webhookRuns]);
      localWorkflow.stop();
    };

    const build = (group: FunctionGroup): ApiHandler => {
      const fnObserver = observer(group);
      return buildApiHandler(group, env, {
        // Every response is checked against its schema locally (and so in tests); deployed
        // functions skip the check (functions/handlers/http/api-handler.ts).
        validateResponses: true,
        ...(fnObserver ? { observe: fnObserver } : {}),
        verificationQueue: () => ({ enqueue }),
        approvalWorkflow: () => workflow,
        eventPublisher: () => events,
        artifacts: (services, queue) => artifactService(env, services, queue, fnObserver),
        ...(group === 'read'
          ? { openApiDocument: async () => (await import('../docs/openapi.json')).default }
          : {}),
      });
    };
    const handlers: Record<FunctionGroup, ApiHandler> = {
      read: build('read'),
      write: build('write'),
      upload: build('upload'),
      download: build('download'),
      approve: build('approve'),
    };
    // No execution outlives this process: requests that were open when the registry last stopped
    // get a fresh execution, and those approved but not applied are applied now.
    await reconcile(scheduled(true));
    const interval = options.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS;
    if (interval > 0) {
      timer = setInterval(() => {
        if (reconcileRuns.size === 0) {
          void reconcile(scheduled()).catch((err) => console.error('Local reconciler:', err));
        }
      }, interval);
      timer.unref();
    }
    // Deliveries due while the registry was stopped are attempted at start, then on a timer.
    await runWebhooks(scheduled());
    const webhookInterval = options.webhookRetryIntervalMs ?? DEFAULT_WEBHOOK_RETRY_INTERVAL_MS;
    if (webhookInterval > 0) {
      webhookTimer = setInterval(() => {
        if (webhookRuns.size === 0) {
          void runWebhooks(scheduled()).catch((err) => console.error('Local webhook retry pass:', err));
        }
      }, webhookInterval);
      webhookTimer.unref();
    }
    let ready = false;
    const server = createLocalFront({
      handlers,
      ready: () => ready,
      extra: async (req, res, url) => {
        if (url.pathname !== '/local/events' || req.method !== 'GET') return false;
        const type = url.searchParams.get('type');
        const list = events.events().filter((e) => !type || e['detail-type'] === type);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ events: list }));
        return true;
      },
      ...(options.consoleDir ? { fallback: consoleFallback(options.consoleDir) } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    ready = true;
    const settled = async () => {
      for (let quiet = 0; quiet < 2; ) {
        const busy =
          running.size > 0 ||
          reconcileRuns.size > 0 ||
          webhookRuns.size > 0 ||
          !events.idle() ||
          !localWorkflow.idle();
        while (running.size) await Promise.allSettled([...running]);
        await Promise.allSettled([...reconcileRuns, ...webhookRuns]);
        await outbox?.drain();
        await new Promise((r) => setTimeout(r, 15));
        quiet =
          busy ||
          running.size > 0 ||
          reconcileRuns.size > 0 ||
          webhookRuns.size > 0 ||
          !events.idle() ||
          !localWorkflow.idle()
            ? 0
            : quiet + 1;
      }
    };
    return {
      url: `http://127.0.0.1:${port}`,
      dynamoEndpoint,
      s3Endpoint,
      tableName,
      env,
      ...(dynamo ? { dynamoPid: dynamo.pid } : {}),
      events,
      settled,
      relayDeadLetters: () => [...deadLetters],
      reconcile: () => reconcile(scheduled()) as Promise<Record<string, unknown>>,
      retryWebhooks: () => runWebhooks(scheduled()),
      async stop() {
        ready = false;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        while (running.size) await Promise.allSettled([...running]);
        await stopBackground();
        await stopEngines();
      },
    };
  } catch (err) {
    await stopBackground();
    await stopEngines();
    throw err;
  }
}
