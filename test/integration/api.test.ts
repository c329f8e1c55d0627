/**
 * The HTTP API through the local front (API Gateway proxy events, the same middy handlers) on
 * DynamoDB Local. Bad input gets a 4xx with a stable code and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRegistry } from '../../local/registry';
import { apiClient, documentClient, localRegistry, tableSnapshot, UNGUARDED } from '../support/engines';

let registry: LocalRegistry;
let api: ReturnType<typeof apiClient>;
let asBob: ReturnType<typeof apiClient>;

beforeAll(async () => {
  // Core API behaviour with every guard off (governance.test.ts covers the guarded default).
  registry = await localRegistry({ env: { GOVERNANCE_POLICY: UNGUARDED } });
  api = apiClient(registry.url, 'AKIAALICE');
  asBob = apiClient(registry.url, 'AKIABOB');
});
afterAll(async () => {
  await registry?.stop();
});

const snapshot = () => tableSnapshot(documentClient(), registry.tableName);
let n = 0;
const uniqueName = () => `api-model-${++n}`;

async function seed(name: string, versions = 1) {
  expect((await api('POST', '/models', { name })).status).toBe(201);
  for (let i = 0; i < versions; i++) {
    expect((await api('POST', `/models/${name}/versions`, { source: `s3://b/${name}/${i}` })).status).toBe(
      201,
    );
  }
}

describe('local front', () => {
  it('answers /health with 200 once ready', async () => {
    const res = await api('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('serves the OpenAPI document generated from the schemas', async () => {
    const res = await api('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(Object.keys(res.body.paths)).toContain('/models/{name}/versions/{version}/stage');
  });
});

describe('main flow over HTTP', () => {
  it('creates, versions, promotes, aliases and resolves a model, recording the signed caller', async () => {
    const name = uniqueName();
    const created = await api('POST', '/models', { name, description: 'churn', tags: { team: 'growth' } });
    expect(created.status).toBe(201);
    expect(created.body.registered_model).toMatchObject({
      name,
      description: 'churn',
      tags: { team: 'growth' },
      created_by: 'arn:aws:iam::000000000000:user/AKIAALICE',
    });
    const v1 = await asBob('POST', `/models/${name}/versions`, {
      source: 's3://models/churn/1',
      run_id: 'r1',
      metrics: { accuracy: 0.91 },
      parameters: { depth: '6' },
      dataset: { digest: 'sha256:00ff' },
    });
    expect(v1.status).toBe(201);
    expect(v1.body.model_version).toMatchObject({
      name,
      version: 1,
      status: 'READY',
      current_stage: 'None',
      created_by: 'arn:aws:iam::000000000000:user/AKIABOB',
      metrics: { accuracy: 0.91 },
    });
    const staged = await api('POST', `/models/${name}/versions/1/stage`, { stage: 'production' });
    expect(staged.status).toBe(200);
    expect(staged.body.model_version.current_stage).toBe('Production');
    expect((await api('PUT', `/models/${name}/aliases/champion`, { version: 1 })).status).toBe(200);
    const byAlias = await api('GET', `/models/${name}/aliases/champion`);
    expect(byAlias.body.model_version).toMatchObject({ version: 1, aliases: ['champion'] });
    const model = await api('GET', `/models/${name}`);
    expect(model.body.registered_model.latest_versions).toEqual([
      expect.objectContaining({ version: 1, current_stage: 'Production' }),
    ]);
    const latest = await api('GET', `/models/${name}/latest-versions?stages=Production&stages=Staging`);
    expect(latest.body.model_versions.map((v: { version: number }) => v.version)).toEqual([1]);
    const transitions = await api('GET', `/models/${name}/transitions`);
    expect(transitions.body.transitions[0]).toMatchObject({
      version: 1,
      from_stage: 'None',
      to_stage: 'Production',
      actor: 'arn:aws:iam::000000000000:user/AKIAALICE',
    });
  });

  it('returns the same version for a retried create with the same client_token', async () => {
    const name = uniqueName();
    await seed(name, 0);
    const body = { source: 's3://b/k', client_token: 'retry-me' };
    const first = await api('POST', `/models/${name}/versions`, body);
    const second = await api('POST', `/models/${name}/versions`, body);
    expect(second.body.model_version.version).toBe(first.body.model_version.version);
  });

  it('pages through a search with opaque tokens', async () => {
    const prefix = `paged-${Date.now()}`;
    for (let i = 0; i < 5; i++) await api('POST', '/models', { name: `${prefix}-${i}` });
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const q = new URLSearchParams({ filter: `name LIKE '${prefix}%'`, max_results: '2' });
      if (token) q.set('page_token', token);
      const res = await api('GET', `/models?${q}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.registered_models.map((m: { name: string }) => m.name));
      token = res.body.next_page_token;
    } while (token);
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `${prefix}-${i}`));
  });

  it('lists the versions of one model, newest first', async () => {
    const name = uniqueName();
    await seed(name, 3);
    const res = await api('GET', `/models/${name}/versions`);
    expect(res.body.model_versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
  });
});

describe('bad input gets a 4xx with a stable code and changes nothing', () => {
  const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
    ['malformed JSON', () => api('POST', '/models', '{"name": "x",'), 400, 'MALFORMED_REQUEST'],
    ['a JSON array body', () => api('POST', '/models', '[]'), 400, 'MALFORMED_REQUEST'],
    ['a wrong type', () => api('POST', '/models', { name: 42 }), 400, 'INVALID_PARAMETER_VALUE'],
    [
      'an unknown field',
      () => api('POST', '/models', { name: 'ok-name', colour: 'red' }),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    ['a missing field', () => api('POST', '/models', {}), 400, 'INVALID_PARAMETER_VALUE'],
    [
      'a non-JSON content type',
      () => api('POST', '/models', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'an oversized body',
      () => api('POST', '/models', { name: 'big', description: 'x'.repeat(300_000) }),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    ['an empty name', () => api('POST', '/models', { name: '' }), 400, 'INVALID_PARAMETER_VALUE'],
    [
      'a name that is not valid Unicode',
      () => api('POST', '/models', { name: 'a\ud800b' }),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'the name-in-query segment without the name',
      () => api('GET', '/models/~/versions'),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'a bad percent-encoding in the path',
      () => api('GET', '/models/%E0%A4%A'),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'a control character name',
      () => api('POST', '/models', { name: 'a\u0007b' }),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'a 10 kB name',
      () => api('POST', '/models', { name: 'n'.repeat(10_000) }),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'a 10 kB name in the path',
      () => api('GET', `/models/${'n'.repeat(10_000)}`),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'a bad filter',
      () => api('GET', `/models?filter=${encodeURIComponent("name = 'a' OR name = 'b'")}`),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'an unknown filter key',
      () => api('GET', `/versions?filter=${encodeURIComponent("colour = 'red'")}`),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    ['a bad order_by', () => api('GET', '/models?order_by=colour'), 400, 'INVALID_PARAMETER_VALUE'],
    [
      'a forged page token',
      () => api('GET', '/models?page_token=eyJ2IjoxLCJxIjoiMDAwMDAwMDAwMDAwMDAwMCIsInAiOiJnc2kxIn0'),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    ['a garbage page token', () => api('GET', '/models?page_token=%%%'), 400, 'INVALID_PARAMETER_VALUE'],
    [
      'max_results out of range',
      () => api('GET', '/models?max_results=100000'),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    ['max_results not a number', () => api('GET', '/models?max_results=ten'), 400, 'INVALID_PARAMETER_VALUE'],
    [
      'a repeated scalar query parameter',
      () => api('GET', '/models?filter=a&filter=b'),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'a non-integer version',
      () => api('GET', '/models/seeded/versions/abc'),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'an unknown stage',
      () => api('POST', '/models/seeded/versions/1/stage', { stage: 'Prod' }),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'a reserved alias',
      () => api('PUT', '/models/seeded/aliases/latest', { version: 1 }),
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    ['an unknown route', () => api('GET', '/nothing-here'), 404, 'ENDPOINT_NOT_FOUND'],
    ['a wrong method', () => api('PUT', '/models'), 405, 'METHOD_NOT_ALLOWED'],
    ['a duplicate model', () => api('POST', '/models', { name: 'seeded' }), 409, 'RESOURCE_ALREADY_EXISTS'],
    ['a missing model', () => api('GET', '/models/absent-model'), 404, 'RESOURCE_DOES_NOT_EXIST'],
  ];

  beforeAll(async () => {
    await seed('seeded', 1);
  });

  it.each(cases)('%s', async (_label, call, status, code) => {
    const before = await snapshot();
    const res = await call();
    expect(res.status).toBe(status);
    expect(res.body.error_code).toBe(code);
    expect(typeof res.body.message).toBe('string');
    expect(res.body.message.length).toBeGreaterThan(10);
    expect(await snapshot()).toEqual(before);
  });

  it('a page token from one query is refused by another', async () => {
    for (let i = 0; i < 3; i++) await api('POST', '/models', { name: `tok-${i}` });
    const first = await api('GET', '/models?max_results=1');
    expect(first.body.next_page_token).toBeDefined();
    const other = await api(
      'GET',
      `/models?max_results=1&order_by=creation_timestamp&page_token=${first.body.next_page_token}`,
    );
    expect(other.status).toBe(400);
  });

  it('no route changes a version’s source, lineage or creator', async () => {
    await api('POST', '/models', { name: 'immutable' });
    await api('POST', '/models/immutable/versions', { source: 's3://b/orig', run_id: 'r' });
    const res = await api('PATCH', '/models/immutable/versions/1', {
      description: 'ok',
      source: 's3://evil',
    });
    expect(res.status).toBe(400);
    const after = await api('GET', '/models/immutable/versions/1');
    expect(after.body.model_version).toMatchObject({ source: 's3://b/orig', run_id: 'r', description: '' });
  });
});
