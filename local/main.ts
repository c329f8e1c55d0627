/**
 * `npm start`: runs the registry locally. Data lives in ./.data (MREG_DATA_DIR) unless
 * MREG_IN_MEMORY=1 or --in-memory is given; the API listens on 127.0.0.1:$PORT (default 5000).
 * The deployment-wide governance policy is `--policy <profile|JSON>` or GOVERNANCE_POLICY
 * (`mlflow` behaves exactly as MLflow's registry; the default is `governed`).
 */
import { resolve } from 'node:path';
import { CONSOLE_DIST, ensureConsoleBuilt } from './console';
import { describePolicy, PolicyOptionError, policyOption } from './policy';
import { startLocalRegistry } from './registry';

async function main(): Promise<void> {
  const inMemory = process.argv.includes('--in-memory') || process.env.MREG_IN_MEMORY === '1';
  const port = Number(process.env.PORT ?? 5000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${process.env.PORT}`);
  const dataDir = resolve(process.env.MREG_DATA_DIR ?? '.data');
  // Refused before anything starts: an unknown profile or invalid JSON says what to give instead.
  const policy = policyOption(process.argv.slice(2), process.env);
  // MREG_OUTBOX_PAUSED=1 holds recorded events back (to show that a crash loses none of them).
  const outboxPaused = process.env.MREG_OUTBOX_PAUSED === '1';
  // The web console: built on first start (and again after its sources change).
  const webConsole = await ensureConsoleBuilt();
  const registry = await startLocalRegistry({
    ...(webConsole.available ? { consoleDir: CONSOLE_DIST } : {}),
    port,
    ...(inMemory ? { inMemory: true } : { dataDir }),
    ...(outboxPaused ? { outboxPaused } : {}),
    ...(policy ? { env: { GOVERNANCE_POLICY: policy.text } } : {}),
  });
  console.log(`Model registry running at ${registry.url}`);
  if (webConsole.error) console.warn(`Building the console failed: ${webConsole.error}`);
  console.log(
    webConsole.available
      ? `Console: ${registry.url}/${webConsole.built ? ' (built just now)' : ''}`
      : 'Console: not available (install the development dependencies: npm ci)',
  );
  console.log(inMemory ? 'Data: in memory (lost on exit)' : `Data: ${dataDir}`);
  console.log(`Governance: ${describePolicy(policy)}`);
  console.log(
    `S3 (local): ${registry.s3Endpoint} (bucket model-registry-artifacts, credentials local/local)`,
  );
  console.log(`Events: GET ${registry.url}/local/events${inMemory ? '' : ` and ${dataDir}/events.jsonl`}`);
  if (outboxPaused)
    console.log('Outbox relay paused (MREG_OUTBOX_PAUSED=1): events are recorded, not published.');
  console.log(`DynamoDB Local: ${registry.dynamoEndpoint} (pid ${registry.dynamoPid})`);
  console.log('Local mode: requests are not authenticated; the SigV4 access key id names the caller.');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    await registry.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  if ((err as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
    const port = process.env.PORT ?? 5000;
    console.error(
      `Port ${port} on 127.0.0.1 is already in use (another npm start?). Stop what is using it, or pick another port: PORT=${Number(port) + 1} npm start`,
    );
    process.exit(1);
  }
  console.error(err instanceof Error ? err.message : err);
  // A bad option is a usage error (2), anything else a failure to start (1).
  process.exit(err instanceof PolicyOptionError ? 2 : 1);
});
