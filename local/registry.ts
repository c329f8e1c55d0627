/**
 * The whole registry on one machine: DynamoDB Local, the registry table (same definition as the
 * deployed one) and the local API front invoking the same handlers. Used by `npm start`, the tests
 * and the benchmarks.
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildApiHandlers } from '../functions/handlers/api-factory';
import type { Environment } from '../functions/handlers/runtime';
import { ensureTable, LOCAL_AWS, type LocalDynamoDb, startDynamoDbLocal } from './dynamodb';
import { createLocalFront } from './http-front';

export const DEFAULT_TABLE_NAME = 'model-registry';

export interface LocalRegistryOptions {
  /** Port of the API on 127.0.0.1; 0 picks a free one. */
  readonly port?: number;
  /** Keep data here across restarts; omit (or set inMemory) to keep everything in memory. */
  readonly dataDir?: string;
  readonly inMemory?: boolean;
  /** Reuse a running DynamoDB Local instead of starting one (tests share one engine). */
  readonly dynamoEndpoint?: string;
  readonly tableName?: string;
  /** Sees every AWS SDK command each function group sends (tests and benchmarks). */
  readonly observeSdkCalls?: Parameters<typeof buildApiHandlers>[1];
}

export interface LocalRegistry {
  readonly url: string;
  readonly dynamoEndpoint: string;
  readonly tableName: string;
  readonly env: Environment;
  /** PID of the DynamoDB Local process this registry started (none when it reuses one). */
  readonly dynamoPid?: number;
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
  const dynamo: LocalDynamoDb | undefined = options.dynamoEndpoint
    ? undefined
    : await startDynamoDbLocal(
        options.inMemory || !options.dataDir ? {} : { dataDir: join(options.dataDir, 'dynamodb') },
      );
  const dynamoEndpoint = options.dynamoEndpoint ?? dynamo!.endpoint;
  let ready = false;
  try {
    await ensureTable(dynamoEndpoint, tableName);
    const env: Environment = { TABLE_NAME: tableName, DYNAMODB_ENDPOINT: dynamoEndpoint };
    const handlers = buildApiHandlers(env, options.observeSdkCalls);
    const server = createLocalFront({ handlers, ready: () => ready });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    ready = true;
    return {
      url: `http://127.0.0.1:${port}`,
      dynamoEndpoint,
      tableName,
      env,
      ...(dynamo ? { dynamoPid: dynamo.pid } : {}),
      async stop() {
        ready = false;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await dynamo?.stop();
      },
    };
  } catch (err) {
    await dynamo?.stop();
    throw err;
  }
}
