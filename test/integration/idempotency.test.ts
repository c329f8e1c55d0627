/**
 * Idempotent mutating requests (Idempotency-Key): a retry after a lost answer (a 504 while the
 * function committed) gets the committed result, not "already exists" or "not PENDING"; a
 * duplicate in flight gets 409 IDEMPOTENCY_IN_PROGRESS; a key reused with other parameters gets
 * 422 IDEMPOTENCY_KEY_REUSED. The SDK sends a key on every mutating call and reuses it on its own
 * retries. On the local engines, through the local front and the deployed handler stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRegistry } from '../../local/registry';
import { RegistryClient } from '../../sdk';
import { apiClient, localRegistry } from '../support/engines';

let registry: LocalRegistry;
let alice: ReturnType<typeof apiClient>;
let bob: ReturnType<typeof apiClient>;
/** Resolves the approval a test holds in flight. */
let holdApproval: Promise<void> | undefined;
let approvalsResumed = 0;

beforeAll(async () => {
  // The default policy (Production needs one approver); an approval can be held in flight while
  // it resumes the workflow, as a slow invocation would be when API Gateway times out.
  registry = await localRegistry({
    wrapApprovalWorkflow: (workflow) => ({
      start: (e) => workflow.start(e),
      status: (id) => workflow.status(id),
      fail: (t, e, c) => workflow.fail(t, e, c),
      async succeed(token, output) {
        approvalsResumed++;
        if (holdApproval) await holdApproval;
        return workflow.succeed(token, output);
      },
    }),
  });
  alice = apiClient(registry.url, 'AKIAALICE');
  bob = apiClient(registry.url, 'AKIABOB');
});
afterAll(async () => {
  await registry?.stop();
});

let n = 0;
const uniqueName = () => `idem-${++n}`;
const key = () => `key-${Date.now()}-${Math.random().toString(36).slice(2)}`;

describe('a retried create after a lost answer', () => {
  it('returns the created model (same status and body) instead of RESOURCE_ALREADY_EXISTS', async () => {
    const name = uniqueName();
    const k = key();
    const first = await alice('POST', '/models', { name, tags: { a: 'b' } }, { 'Idempotency-Key': k });
    expect(first.status).toBe(201);
    // The client never saw `first` (a 504): it retries with the same key.
    const retry = await alice('POST', '/models', { name, tags: { a: 'b' } }, { 'Idempotency-Key': k });
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    await registry.settled();
    const created = registry.events
      .events()
      .filter((e) => e.detail.model?.name === name && e['detail-type'] === 'RegisteredModelCreated');
    expect(created).toHaveLength(1);
  });

  it('returns the same version for a retried create version, and a key is per caller', async () => {
    const name = uniqueName();
    expect((await alice('POST', '/models', { name })).status).toBe(201);
    const k = key();
    const body = { source: `s3://b/${name}` };
    const first = await alice('POST', `/models/${name}/versions`, body, { 'Idempotency-Key': k });
    const retry = await alice('POST', `/models/${name}/versions`, body, { 'Idempotency-Key': k });
    expect(first.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    // Another caller with the same key is another request.
    const other = await bob('POST', `/models/${name}/versions`, body, { 'Idempotency-Key': k });
    expect(other.status).toBe(201);
    expect(other.body.model_version.version).toBe(first.body.model_version.version + 1);
    const list = await alice('GET', `/models/${name}/versions`);
    expect(list.body.model_versions).toHaveLength(2);
  });

  it('keeps the body client_token working without a header', async () => {
    const name = uniqueName();
    expect((await alice('POST', '/models', { name })).status).toBe(201);
    const body = { source: `s3://b/${name}`, client_token: 'tok-1' };
    const first = await alice('POST', `/models/${name}/versions`, body);
    const retry = await alice('POST', `/models/${name}/versions`, body);
    expect(retry.body.model_version.version).toBe(first.body.model_version.version);
  });

  it('does not create a second MLflow version when an MLflow create is retried with a key', async () => {
    const name = uniqueName();
    expect((await alice('POST', '/api/2.0/mlflow/registered-models/create', { name })).status).toBe(200);
    const k = key();
    const body = { name, source: 's3://b/m' };
    const first = await alice('POST', '/api/2.0/mlflow/model-versions/create', body, {
      'Idempotency-Key': k,
    });
    const retry = await alice('POST', '/api/2.0/mlflow/model-versions/create', body, {
      'Idempotency-Key': k,
    });
    expect(first.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    const search = await alice(
      'GET',
      `/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent(`name='${name}'`)}`,
    );
    expect(search.body.model_versions).toHaveLength(1);
  });
});

describe('a key reused', () => {
  it('with another body is refused with 422 IDEMPOTENCY_KEY_REUSED and changes nothing', async () => {
    const name = uniqueName();
    const k = key();
    expect((await alice('POST', '/models', { name }, { 'Idempotency-Key': k })).status).toBe(201);
    const other = await alice('POST', '/models', { name: `${name}-other` }, { 'Idempotency-Key': k });
    expect(other.status).toBe(422);
    expect(other.body.error_code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await alice('GET', `/models/${name}-other`)).status).toBe(404);
  });

  it('after a refused request runs again (a refusal is not recorded)', async () => {
    const name = uniqueName();
    const k = key();
    const refused = await alice('PATCH', `/models/${name}`, { description: 'x' }, { 'Idempotency-Key': k });
    expect(refused.status).toBe(404);
    expect((await alice('POST', '/models', { name })).status).toBe(201);
    const again = await alice('PATCH', `/models/${name}`, { description: 'x' }, { 'Idempotency-Key': k });
    expect(again.status).toBe(200);
  });

  it('must be a printable token', async () => {
    const res = await alice('POST', '/models', { name: uniqueName() }, { 'Idempotency-Key': 'a b' });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  });
});

describe('an approval retried after a timeout', () => {
  it('answers 409 IDEMPOTENCY_IN_PROGRESS while the first runs, then the committed result instead of "not PENDING"', async () => {
    const a = apiClient(registry.url, 'AKIAALICE');
    const b = apiClient(registry.url, 'AKIABOB');
    const name = uniqueName();
    expect((await a('POST', '/models', { name })).status).toBe(201);
    expect((await a('POST', `/models/${name}/versions`, { source: 's3://b/m' })).status).toBe(201);
    const requested = await a('POST', `/models/${name}/versions/1/stage`, { stage: 'Production' });
    expect(requested.status).toBe(202);
    await registry.settled();
    const id = requested.body.transition_request.id;
    const k = key();
    let release!: () => void;
    holdApproval = new Promise((resolve) => {
      release = resolve;
    });
    const resumedBefore = approvalsResumed;
    const path = `/models/${name}/transition-requests/${id}/approve`;
    const first = b('POST', path, { comment: 'ok' }, { 'Idempotency-Key': k });
    for (let i = 0; approvalsResumed === resumedBefore && i < 500; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(approvalsResumed).toBe(resumedBefore + 1);
    // The client's first call timed out; its retry arrives while the first is still running.
    const duplicate = await b('POST', path, { comment: 'ok' }, { 'Idempotency-Key': k });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error_code).toBe('IDEMPOTENCY_IN_PROGRESS');
    expect(duplicate.headers.get('retry-after')).toBe('1');
    release();
    holdApproval = undefined;
    const done = await first;
    expect(done.status).toBe(200);
    await registry.settled();
    const retry = await b('POST', path, { comment: 'ok' }, { 'Idempotency-Key': k });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(done.body);
    // Without the key, the same retry is a second approval of a request no longer pending.
    const unkeyed = await b('POST', path, { comment: 'ok' });
    expect(unkeyed.status).toBe(409);
  });
});

describe('the SDK', () => {
  it('sends an Idempotency-Key on mutating calls and reuses it when it retries a lost answer', async () => {
    const keys: string[] = [];
    let dropped = false;
    const client = new RegistryClient({
      endpoint: registry.url,
      retryBaseDelayMs: 1,
      async fetch(input, init) {
        const headers = new Headers(init?.headers);
        if (init?.method && init.method !== 'GET') keys.push(headers.get('idempotency-key') ?? '');
        const res = await fetch(input, init);
        if (init?.method === 'POST' && !dropped) {
          // The registry committed, but the answer never reaches the client (a timeout).
          dropped = true;
          await res.text();
          throw new TypeError('fetch failed');
        }
        return res;
      },
    });
    const name = uniqueName();
    const model = await client.createRegisteredModel(name, { description: 'd' });
    expect(model.name).toBe(name);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    // A new call is a new request, with a new key.
    await client.updateRegisteredModel(name, 'e');
    expect(keys[2]).not.toBe(keys[0]);
  });
});
