/**
 * Registry core benchmark: latency and DynamoDB round trips per operation through the handler
 * stack (local API front → middy handler → use case → DynamoDB Local), and the latency of one
 * search page with 100 versions versus 100,000 versions in the registry.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { versionItem } from '../functions/adapters/dynamodb/codecs';
import type { ModelVersion } from '../functions/domain/model';
import { documentClient } from '../functions/handlers/runtime';
import { startLocalRegistry } from '../local/registry';

interface Sample {
  readonly ms: number;
  readonly roundTrips: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const p95 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!;
};

export async function benchRegistry(options: {
  iterations: number;
  largeVersions: number;
}): Promise<string[]> {
  let calls = 0;
  // The core operations, measured with every governance guard off (transitions apply at once).
  const registry = await startLocalRegistry({
    inMemory: true,
    env: { GOVERNANCE_POLICY: 'mlflow' },
    observeSdkCalls: () => calls++,
  });
  const lines: string[] = [];
  try {
    const call = async (method: string, path: string, body?: unknown): Promise<Sample & { body: any }> => {
      const before = calls;
      const start = performance.now();
      const res = await fetch(`${registry.url}${path}`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const json = await res.json();
      const ms = performance.now() - start;
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return { ms, roundTrips: calls - before, body: json };
    };

    const results = new Map<string, Sample[]>();
    const record = (op: string, s: Sample) => {
      if (!results.has(op)) results.set(op, []);
      results.get(op)!.push(s);
    };
    // Warm up the handlers and the engine.
    await call('POST', '/models', { name: 'warmup' });
    await call('POST', '/models/warmup/versions', { source: 's3://b/w' });

    for (let i = 0; i < options.iterations; i++) {
      const name = `bench-${i}`;
      record('create model', await call('POST', '/models', { name }));
      for (let v = 0; v < 3; v++) {
        record(
          'create version',
          await call('POST', `/models/${name}/versions`, {
            source: `s3://bench/${name}/${v}`,
            metrics: { accuracy: 0.9 },
            client_token: `t-${i}-${v}`,
          }),
        );
      }
      record('get model', await call('GET', `/models/${name}`));
      record('get version', await call('GET', `/models/${name}/versions/2`));
      await call('POST', `/models/${name}/versions/1/stage`, { stage: 'Production' });
      record(
        'transition with archive',
        await call('POST', `/models/${name}/versions/2/stage`, {
          stage: 'Production',
          archive_existing_versions: true,
        }),
      );
      record('set alias', await call('PUT', `/models/${name}/aliases/champion`, { version: 2 }));
      record('resolve alias', await call('GET', `/models/${name}/aliases/champion`));
      record(
        'search page (versions of a model)',
        await call('GET', `/versions?filter=${encodeURIComponent(`name = '${name}'`)}`),
      );
      record('search page (models, 100)', await call('GET', '/models?max_results=100'));
    }

    lines.push(`Registry operations through the handler stack (${options.iterations} runs each; ms)`);
    lines.push('| operation | median ms | p95 ms | DynamoDB round trips |');
    lines.push('| --- | ---: | ---: | ---: |');
    for (const [op, samples] of results) {
      const trips = [...new Set(samples.map((s) => s.roundTrips))].sort((a, b) => a - b).join('–');
      lines.push(
        `| ${op} | ${median(samples.map((s) => s.ms)).toFixed(1)} | ${p95(samples.map((s) => s.ms)).toFixed(1)} | ${trips} |`,
      );
    }

    // Search cost versus registry size.
    const db = documentClient(registry.env);
    const pageMs = async () => {
      const samples: Sample[] = [];
      for (let i = 0; i < 30; i++) samples.push(await call('GET', '/versions?max_results=100'));
      return { ms: median(samples.map((s) => s.ms)), trips: median(samples.map((s) => s.roundTrips)) };
    };
    const seed = async (from: number, to: number) => {
      const now = Date.now();
      const perModel = 100;
      const items: Record<string, unknown>[] = [];
      for (let i = from; i < to; i++) {
        const modelIndex = Math.floor(i / perModel);
        const version: ModelVersion = {
          name: `scale-${modelIndex}`,
          modelId: `scale-model-${modelIndex}`,
          version: (i % perModel) + 1,
          source: `s3://bench/scale/${i}`,
          parameters: {},
          metrics: { accuracy: Math.random() },
          description: '',
          tags: {},
          status: 'READY',
          stage: 'None',
          createdBy: 'bench',
          creationTimestamp: now - (to - i),
          lastUpdatedTimestamp: now - (to - i),
        };
        items.push(versionItem(version));
      }
      const batches: Record<string, unknown>[][] = [];
      for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
      const workers = Array.from({ length: 8 }, async () => {
        for (let batch = batches.shift(); batch; batch = batches.shift()) {
          let pending = batch.map((Item) => ({ PutRequest: { Item } }));
          while (pending.length) {
            const out = await db.send(
              new BatchWriteCommand({ RequestItems: { [registry.tableName]: pending } }),
            );
            pending = (out.UnprocessedItems?.[registry.tableName] ?? []) as typeof pending;
          }
        }
      });
      await Promise.all(workers);
    };

    const existing = (await call('GET', '/versions?max_results=10000')).body.model_versions.length as number;
    await seed(0, Math.max(0, 100 - existing));
    const small = await pageMs();
    const start = performance.now();
    await seed(100, options.largeVersions);
    const seedSeconds = ((performance.now() - start) / 1000).toFixed(0);
    const large = await pageMs();
    lines.push('');
    lines.push(
      `Search page of 100 versions (default order: last updated first), median of 30 (seeded in ${seedSeconds} s)`,
    );
    lines.push('| versions in registry | median ms | DynamoDB round trips |');
    lines.push('| ---: | ---: | ---: |');
    lines.push(`| 100 | ${small.ms.toFixed(1)} | ${small.trips} |`);
    lines.push(`| ${options.largeVersions.toLocaleString('en')} | ${large.ms.toFixed(1)} | ${large.trips} |`);
    lines.push(`ratio: ${(large.ms / small.ms).toFixed(2)}×`);
  } finally {
    await registry.stop();
  }
  return lines;
}
