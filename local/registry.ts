/**
 * The whole registry on one machine: DynamoDB Local, the registry table (same definition as the
 * deployed one) and the local API front invoking the same handlers. Used by `npm start`, the tests
 * and the benchmarks.
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FunctionGroup } from '../functions/api/contract';
import { type ApiHandler, buildApiHandler } from '../functions/handlers/api-factory';
import type { Environment, SdkCallObserver } from '../functions/handlers/runtime';
import { buildVerifyHandler } from '../functions/handlers/verify-factory';
import type { VerificationJob } from '../functions/use-cases/ports';
import { ensureTable, LOCAL_AWS, type LocalDynamoDb, startDynamoDbLocal } from './dynamodb';
import { createLocalFront } from './http-front';
import { LOCAL_BUCKET, type LocalS3, startLocalS3 } from './s3';

export const DEFAULT_TABLE_NAME = 'model-registry';

/** The deployed functions, each with its own SDK clients as on Lambda. */
export type LocalFunction = FunctionGroup | 'verify';

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
  /** Sees every AWS SDK command each function sends (tests and benchmarks). */
  readonly observeSdkCalls?: (fn: LocalFunction, call: Parameters<SdkCallObserver>[0]) => void;
}

export interface LocalRegistry {
  readonly url: string;
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  readonly tableName: string;
  readonly env: Environment;
  /** PID of the DynamoDB Local process this registry started (none when it reuses one). */
  readonly dynamoPid?: number;
  /** Resolves once every verification queued so far has finished. */
  settled(): Promise<void>;
  stop(): Promise<void>;
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
      ...options.env,
    };
    const observer = (fn: LocalFunction) =>
      options.observeSdkCalls
        ? (call: Parameters<SdkCallObserver>[0]) => options.observeSdkCalls!(fn, call)
        : undefined;

    // Finalize queues verification; locally it runs in this process, after the request returns,
    // through the same handler the verify function runs on Lambda.
    const verify = buildVerifyHandler(env, observer('verify'));
    const running = new Set<Promise<unknown>>();
    const enqueue = async (job: VerificationJob) => {
      const run = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => verify(job, localContext('verify')))
        .catch((err) => console.error(`Verification of ${job.name} v${job.version} failed:`, err))
        .finally(() => running.delete(run));
      running.add(run);
    };
    const build = (group: FunctionGroup): ApiHandler => {
      const fnObserver = observer(group);
      return buildApiHandler(group, env, {
        ...(fnObserver ? { observe: fnObserver } : {}),
        verificationQueue: () => ({ enqueue }),
      });
    };
    const handlers: Record<FunctionGroup, ApiHandler> = {
      read: build('read'),
      write: build('write'),
      upload: build('upload'),
      download: build('download'),
    };
    let ready = false;
    const server = createLocalFront({ handlers, ready: () => ready });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    ready = true;
    const settled = async () => {
      while (running.size) await Promise.allSettled([...running]);
    };
    return {
      url: `http://127.0.0.1:${port}`,
      dynamoEndpoint,
      s3Endpoint,
      tableName,
      env,
      ...(dynamo ? { dynamoPid: dynamo.pid } : {}),
      settled,
      async stop() {
        ready = false;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await settled();
        await stopEngines();
      },
    };
  } catch (err) {
    await stopEngines();
    throw err;
  }
}

function localContext(functionName: string) {
  return {
    awsRequestId: `local-${Date.now().toString(36)}`,
    functionName,
    callbackWaitsForEmptyEventLoop: false,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_AWS.region}:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 900_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
