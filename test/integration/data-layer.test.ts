/**
 * The data layer under contention and at scale, on DynamoDB Local through the handler stack:
 * concurrent creates, renames, alias writes and transitions race and each either applies with its
 * event or is refused with a 4xx; items are bounded in bytes; reads cost what their page costs;
 * malformed input gets a 4xx. Each test is written as the failure it prevents. The indexes and
 * reads behind searches and stage changes are in data-layer-indexes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { dataLayerRegistry } from '../support/data-layer';

const dl = dataLayerRegistry();
const { api, unique, counted, modelOfLargeVersions, model, moveEach, versionsOf } = dl;

describe('version numbers under contention', () => {
  it('numbers 100 concurrent creates on one model exactly 1..100, without errors or transaction retries', async () => {
    const name = unique('burst');
    await model(name);
    const { result: results, commands } = await counted(() =>
      Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          api('POST', `/models/${name}/versions`, { source: `s3://b/${i}` }),
        ),
      ),
    );
    const transactions = commands.filter((c) => c === 'TransactWriteItemsCommand').length;
    expect(results.map((r) => r.status)).toEqual(Array(100).fill(201));
    expect(await versionsOf(name)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // One write of the version and its event per version: creates do not conflict with each other.
    expect(transactions).toBe(100);
  }, 120_000);

  it('never moves the counter back when a rename races creates, nor reuses a deleted number', async () => {
    for (let round = 0; round < 8; round++) {
      const name = unique('race');
      await model(name, 1);
      const renamed = `${name}-renamed`;
      const [renameResult, ...creates] = await Promise.all([
        api('POST', `/models/${name}/rename`, { new_name: renamed }),
        ...Array.from({ length: 8 }, (_, i) =>
          api('POST', `/models/${name}/versions`, { source: `s3://b/${i}` }),
        ),
      ]);
      expect(renameResult.status).toBe(200);
      // A create either landed before the rename (201) or found the name gone (404): never a 5xx.
      for (const c of creates) expect([201, 404]).toContain(c.status);
      const numbers = await versionsOf(renamed);
      const top = Math.max(...numbers);
      expect(new Set(numbers).size).toBe(numbers.length);
      const next = await api('POST', `/models/${renamed}/versions`, { source: 's3://b/next' });
      expect(next.status).toBe(201);
      expect(next.body.model_version.version).toBeGreaterThan(top);
      expect(
        (await api('DELETE', `/models/${renamed}/versions/${next.body.model_version.version}`)).status,
      ).toBe(200);
      const after = await api('POST', `/models/${renamed}/versions`, { source: 's3://b/after' });
      expect(after.body.model_version.version).toBe(next.body.model_version.version + 1);
    }
  }, 120_000);
});

describe('writes that race', () => {
  it('records an event for every alias change when a set races a delete (30 rounds)', async () => {
    const name = unique('alias-race');
    await model(name, 2);
    for (let round = 0; round < 30; round++) {
      const target = (round % 2) + 1;
      await Promise.all([
        api('PUT', `/models/${name}/aliases/prod`, { version: target }),
        api('DELETE', `/models/${name}/aliases/prod`),
      ]);
    }
    await dl.registry.settled();
    const events = dl.registry.events
      .events()
      .filter((e) => e['detail-type'] === 'AliasChanged' && e.detail.model?.name === name)
      .sort((a, b) => a.detail.event_id.localeCompare(b.detail.event_id));
    // Replaying the events gives the alias as it is: nothing changed without its event.
    let replayed: number | null = null;
    for (const e of events) {
      expect(e.detail.data.before).toBe(replayed);
      replayed = e.detail.data.after as number | null;
    }
    const now = await api('GET', `/models/${name}`);
    expect(now.body.registered_model.aliases.prod ?? null).toBe(replayed);
  }, 120_000);

  it('answers a description update racing a rename with its result or a 4xx, never a 5xx (40 rounds)', async () => {
    for (let round = 0; round < 40; round++) {
      const name = unique('update-race');
      await model(name, 1);
      const [update, rename] = await Promise.all([
        api('PATCH', `/models/${name}/versions/1`, { description: `round ${round}` }),
        api('POST', `/models/${name}/rename`, { new_name: `${name}-r` }),
      ]);
      expect(rename.status).toBe(200);
      expect([200, 404, 409]).toContain(update.status);
      if (update.status === 200) {
        expect(update.body.model_version.description).toBe(`round ${round}`);
        const stored = await api('GET', `/models/${name}-r/versions/1`);
        expect(stored.body.model_version.description).toBe(`round ${round}`);
      }
    }
  }, 120_000);

  it('applies 16 concurrent archiving transitions without an error, leaving one version in the stage (5 rounds)', async () => {
    const name = unique('transitions');
    await model(name, 16);
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          api('POST', `/models/${name}/versions/${i + 1}/stage`, {
            stage: 'Staging',
            archive_existing_versions: true,
          }),
        ),
      );
      expect(results.map((r) => (r.status === 200 ? 200 : `${r.status} ${JSON.stringify(r.body)}`))).toEqual(
        Array(16).fill(200),
      );
      const staging = await api(
        'GET',
        `/versions?filter=${encodeURIComponent(`name = '${name}'`)}&max_results=100`,
      );
      const inStaging = staging.body.model_versions.filter(
        (v: { current_stage: string }) => v.current_stage === 'Staging',
      );
      expect(inStaging).toHaveLength(1);
      const latest = await api('GET', `/models/${name}/latest-versions?stages=Staging`);
      expect(latest.body.model_versions.map((v: { version: number }) => v.version)).toEqual([
        inStaging[0].version,
      ]);
    }
  }, 180_000);
});

describe('archive-existing at any size', () => {
  it('archives 60 versions of the target stage, in batches, each with its event', async () => {
    const name = unique('archive-60');
    await model(name, 61);
    await moveEach(name, 1, 60, 'Production');
    const res = await api('POST', `/models/${name}/versions/61/stage`, {
      stage: 'Production',
      archive_existing_versions: true,
    });
    expect(res.status).toBe(200);
    const all = await api(
      'GET',
      `/versions?filter=${encodeURIComponent(`name = '${name}'`)}&max_results=100`,
    );
    const stages = all.body.model_versions.map((v: { current_stage: string }) => v.current_stage);
    expect(stages.filter((s: string) => s === 'Production')).toHaveLength(1);
    expect(stages.filter((s: string) => s === 'Archived')).toHaveLength(60);
    await dl.registry.settled();
    const archived = dl.registry.events
      .events()
      .filter(
        (e) =>
          e.detail.model?.name === name &&
          e['detail-type'] === 'ModelVersionStageChanged' &&
          e.detail.data.to_stage === 'Archived',
      );
    expect(archived).toHaveLength(60);
    const resolved = await api('GET', `/models/${name}/latest-versions?stages=Production&stages=Archived`);
    expect(resolved.body.model_versions.map((v: { version: number }) => v.version)).toEqual([61, 60]);
  }, 180_000);
});

describe('items bounded in bytes', () => {
  const cjk = '模'.repeat(5000); // 15,000 UTF-8 bytes, within the 5,000-character limit

  it('refuses tags whose UTF-8 bytes exceed the item limit with a 4xx, and stores nothing', async () => {
    const name = unique('cjk');
    await model(name, 1);
    // Within every per-value limit (5,000 characters), set one by one: the item fills in bytes.
    const statuses: number[] = [];
    for (let i = 0; i < 28; i++) {
      const res = await api('POST', `/models/${name}/versions/1/tags`, { key: `t${i}`, value: cjk });
      statuses.push(res.status);
      if (res.status !== 200) {
        expect(res.body.error_code).toBe('LIMIT_EXCEEDED');
        expect(res.body.message).toMatch(/bytes/);
      }
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(15);
    expect(statuses.slice(-3)).toEqual([400, 400, 400]);
    const stored = await api('GET', `/models/${name}/versions/1`);
    expect(Object.keys(stored.body.model_version.tags).length).toBe(statuses.filter((s) => s === 200).length);
    // One request body over the API's 256 KB is refused before anything else.
    const tags = Object.fromEntries(Array.from({ length: 28 }, (_, i) => [`t${i}`, cjk]));
    const big = await api('POST', '/models', { name: unique('cjk-model'), tags });
    expect(big.status).toBe(413);
  }, 60_000);

  it('keeps a model whose tags fill it usable: promote, alias and transition still answer', async () => {
    const name = unique('full');
    await model(name, 2);
    let i = 0;
    for (;;) {
      const res = await api('POST', `/models/${name}/tags`, { key: `t${i++}`, value: cjk });
      if (res.status !== 200) {
        expect(res.status).toBe(400);
        expect(res.body.error_code).toBe('LIMIT_EXCEEDED');
        break;
      }
    }
    expect((await api('POST', `/models/${name}/versions/1/stage`, { stage: 'Production' })).status).toBe(200);
    expect((await api('PUT', `/models/${name}/aliases/prod`, { version: 1 })).status).toBe(200);
    const mlflow = await api('POST', '/api/2.0/mlflow/model-versions/transition-stage', {
      name,
      version: '2',
      stage: 'Staging',
      archive_existing_versions: false,
    });
    expect(mlflow.status).toBe(200);
  }, 60_000);
});

describe('reads that follow the page', () => {
  it('gets and resolves a version in at most 2 reads, a page of 100 models or versions in at most 3 calls', async () => {
    const name = unique('reads');
    await model(name, 3);
    expect((await api('PUT', `/models/${name}/aliases/prod`, { version: 2 })).status).toBe(200);
    expect((await api('POST', `/models/${name}/versions/3/stage`, { stage: 'Production' })).status).toBe(200);
    for (let i = 0; i < 100; i++)
      await api('POST', '/models', { name: `${name}-m${String(i).padStart(3, '0')}` });
    const get = await counted(() => api('GET', `/models/${name}/versions/2`));
    expect(get.result.status).toBe(200);
    expect(get.commands.length).toBeLessThanOrEqual(2);
    // The model, and the version with its card, are read together.
    expect(get.roundTrips).toBe(1);
    const alias = await counted(() =>
      api('GET', `/resolve?uri=${encodeURIComponent(`models:/${name}@prod`)}`),
    );
    expect(alias.result.body.model_version.version).toBe(2);
    expect(alias.commands.length).toBeLessThanOrEqual(2);
    const models = await counted(() =>
      api('GET', `/models?filter=${encodeURIComponent(`name LIKE '${name}-m%'`)}&max_results=100`),
    );
    expect(models.result.body.registered_models).toHaveLength(100);
    expect(models.commands.length).toBeLessThanOrEqual(3);
    const versions = await counted(() => api('GET', '/versions?max_results=100'));
    expect(versions.result.body.model_versions.length).toBeGreaterThan(0);
    expect(versions.commands.length).toBeLessThanOrEqual(3);
  }, 120_000);

  it('cuts a page at the byte budget and gives a token for the rest (responses stay far below 6 MB)', async () => {
    const name = unique('bytes');
    await modelOfLargeVersions(name);
    const res = await fetch(`${dl.registry.url}/models/${name}/versions?max_results=10000`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(Buffer.byteLength(text)).toBeLessThan(5 * 1024 * 1024);
    const body = JSON.parse(text);
    expect(body.model_versions.length).toBeLessThan(20);
    expect(body.next_page_token).toBeTruthy();
  }, 120_000);
});

describe('malformed input gets a 4xx', () => {
  it.each([
    ['a name longer than a key in an equality', `name = '${'n'.repeat(3000)}'`],
    ['a name prefix longer than a sort key', `name LIKE '${'n'.repeat(1500)}%'`],
    ['a tag equality with a huge value', `tags.a = '${'v'.repeat(4000)}'`],
    ['a source prefix longer than a sort key', `source_path LIKE '${'s'.repeat(1500)}%'`],
  ])('searching with %s answers (an empty page), never a 5xx', async (_label, filter) => {
    for (const path of ['/versions', '/models']) {
      const res = await api('GET', `${path}?filter=${encodeURIComponent(filter)}`);
      expect(res.status, `${path} ${res.body?.message}`).toBeLessThan(500);
    }
  });

  it('refuses a forged page token (another start key, another secret) with a 400', async () => {
    const forged = `${Buffer.from(JSON.stringify({ v: 1, q: '0'.repeat(16), p: 'gsi3', k: { pk: 'MODEL#zz', sk: 'MODEL' } })).toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAA`;
    for (const path of ['/versions', '/models']) {
      const res = await api('GET', `${path}?page_token=${forged}`);
      expect(res.status).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('refuses a deeply nested body with a 400 on every route that takes one', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const name = unique('deep');
    await model(name, 1);
    for (const [method, path] of [
      ['POST', '/models'],
      ['POST', `/models/${name}/versions`],
      ['PUT', `/models/${name}/policy`],
      ['POST', `/models/${name}/tags`],
      ['POST', '/api/2.0/mlflow/registered-models/create'],
    ] as const) {
      const res = await api(method, path, `{"name": "x", "tags": ${deep}, "policy": ${deep}}`);
      expect(res.status, `${method} ${path}`).toBe(400);
    }
  });

  it('refuses quality gates that are not strings with a 400 naming the field', async () => {
    const name = unique('gates');
    await model(name);
    const res = await api('PUT', `/models/${name}/policy`, {
      policy: { quality_gates: [{ metric: 'auc' }] },
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('quality_gates');
  });
});
