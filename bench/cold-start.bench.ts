/**
 * Bundle size and cold start of each Lambda function: every entry point is bundled as the CDK
 * stack bundles it (lib/bundling.ts: esbuild, minified, Node 22), then, in a fresh Node process per run,
 * the bundle is imported (clients built, configuration read) and handles one request against
 * DynamoDB Local and the local S3. Median of several runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { FUNCTIONS } from '../functions/deployment/functions';
import { functionBundleOptions } from '../lib/bundling';
import { LOCAL_AWS } from '../local/dynamodb';
import { startLocalRegistry } from '../local/registry';

const root = join(__dirname, '..');

/** Each function's entry and one representative event (a cold request). */
const COLD_STARTS: Record<string, { entry: string; event: (name: string) => unknown }> = {
  read: {
    entry: FUNCTIONS.read.entry,
    event: (n) => api('GET', '/models/{name}', `/models/${n}`, { name: n }),
  },
  write: {
    entry: FUNCTIONS.write.entry,
    event: (n) => api('POST', '/models', '/models', {}, { name: `${n}-${Date.now()}-${Math.random()}` }),
  },
  upload: {
    entry: FUNCTIONS.upload.entry,
    event: (n) =>
      api('POST', '/models/{name}/versions', `/models/${n}/versions`, { name: n }, { source: 's3://b/k' }),
  },
  download: {
    entry: FUNCTIONS.download.entry,
    event: (n) =>
      api('GET', '/models/{name}/versions/{version}/download', `/models/${n}/versions/1/download`, {
        name: n,
        version: '1',
      }),
  },
  approve: {
    entry: FUNCTIONS.approve.entry,
    event: (n) =>
      api(
        'POST',
        '/models/{name}/transition-requests/{request_id}/approve',
        `/models/${n}/transition-requests/x/approve`,
        {
          name: n,
          request_id: 'tr-00000000-0000-0000-0000-000000000000',
        },
        {},
      ),
  },
  verify: { entry: FUNCTIONS.verify.entry, event: (n) => ({ name: n, modelId: 'none', version: 1 }) },
  workflow: {
    entry: FUNCTIONS.workflow.entry,
    event: (n) => ({
      action: 'expire',
      modelId: 'none',
      name: n,
      requestId: 'tr-00000000-0000-0000-0000-000000000000',
    }),
  },
  relay: { entry: FUNCTIONS.relay.entry, event: () => ({ Records: [] }) },
};

function api(
  method: string,
  resource: string,
  path: string,
  pathParameters: Record<string, string>,
  body?: unknown,
) {
  return {
    httpMethod: method,
    resource,
    path,
    pathParameters,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : null,
    isBase64Encoded: false,
    requestContext: {
      requestId: 'bench',
      identity: { userArn: 'arn:aws:iam::000000000000:user/bench', caller: 'bench' },
    },
  };
}

const CHILD = `
const start = performance.now();
const mod = require(process.argv[2]);
const imported = performance.now();
const event = JSON.parse(process.argv[3]);
Promise.resolve(mod.handler(event, { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 30000 }))
  .catch(() => undefined)
  .then(() => {
    const done = performance.now();
    process.stdout.write(JSON.stringify({ importMs: imported - start, firstRequestMs: done - imported }));
  });
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchColdStart(options: { runs: number }): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mreg-cold-'));
  const registry = await startLocalRegistry({ inMemory: true });
  try {
    const child = join(dir, 'child.js');
    writeFileSync(child, CHILD);
    const env = {
      ...process.env,
      ...registry.env,
      VERIFY_FUNCTION_NAME: 'model-registry-verify',
      EVENT_BUS_NAME: 'model-registry',
      AWS_REGION: LOCAL_AWS.region,
      AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      NODE_OPTIONS: '',
    } as Record<string, string>;
    const lines = [
      '',
      `## Lambda bundles and cold start (median of ${options.runs} fresh processes, node ${process.version})`,
      '',
      '| function | bundle | import (ms) | first request (ms) |',
      '| --- | ---: | ---: | ---: |',
    ];
    for (const [name, fn] of Object.entries(COLD_STARTS)) {
      const outfile = join(dir, name, 'index.js');
      await build({ ...functionBundleOptions(join(root, fn.entry), outfile), logLevel: 'silent' });
      const imports: number[] = [];
      const firsts: number[] = [];
      for (let i = 0; i < options.runs; i++) {
        const out = execFileSync(process.execPath, [child, outfile, JSON.stringify(fn.event('cold-start'))], {
          env,
          encoding: 'utf8',
        });
        const { importMs, firstRequestMs } = JSON.parse(out) as { importMs: number; firstRequestMs: number };
        imports.push(importMs);
        firsts.push(firstRequestMs);
      }
      const kib = statSync(outfile).size / 1024;
      lines.push(
        `| ${name} | ${kib.toFixed(0)} KiB | ${median(imports).toFixed(0)} | ${median(firsts).toFixed(0)} |`,
      );
    }
    return lines;
  } finally {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
