/**
 * MLflow's webhooks API (MLflow 3.3+: create_webhook, list_webhooks, get_webhook, update_webhook,
 * delete_webhook, test_webhook) on the local runtime (DynamoDB Local, the local event bus and the
 * delivery function behind the same rule as deployed), with a real HTTP receiver on 127.0.0.1
 * that checks every request as MLflow documents it: the signature (`X-MLflow-Signature`, `v1,` and
 * the base64 HMAC-SHA256 of `<delivery id>.<timestamp>.<body>`), the delivery id and timestamp
 * headers, and the envelope `{entity, action, timestamp, data}` with MLflow's payload per event.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalRegistry } from '../../local/registry';
import { ensureBinary, runMreg } from '../cli/binary';
import { apiClient, documentClient, localRegistry, tableSnapshot, UNGUARDED } from '../support/engines';
import { type Fields, MlflowRestError, mlflowWire } from './client';

// ---------------------------------------------------------------- a receiver

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly body: any;
  /** Whether the signature verified with the receiver's secret (undefined: no signature header). */
  readonly verified?: boolean;
}

/** What a receiver does, as MLflow's documentation tells receivers to verify a delivery. */
function verify(secret: string, headers: IncomingHttpHeaders, raw: string): boolean | undefined {
  const signature = headers['x-mlflow-signature'];
  if (signature === undefined) return undefined;
  const id = String(headers['x-mlflow-delivery-id']);
  const timestamp = String(headers['x-mlflow-timestamp']);
  const expected = createHmac('sha256', secret).update(`${id}.${timestamp}.${raw}`).digest('base64');
  return signature === `v1,${expected}`;
}

class Receiver {
  readonly received: Received[] = [];
  /** Per path, the statuses to answer with, in turn (then 200). */
  failures = new Map<string, number[]>();
  private server?: Server;
  url = '';

  constructor(readonly secret: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: unknown = raw;
        try {
          body = JSON.parse(raw);
        } catch {
          // keep the text
        }
        const verified = verify(this.secret, req.headers, raw);
        this.received.push({
          path: req.url ?? '',
          headers: req.headers,
          raw,
          body,
          ...(verified !== undefined ? { verified } : {}),
        });
        const status = this.failures.get(req.url ?? '')?.shift() ?? 200;
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status === 200 ? 'ok' : 'down');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests for a path, in arrival order. */
  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

// ---------------------------------------------------------------- the registry

const SECRET = 'whsec-test-0123456789';
let registry: LocalRegistry;
let mlflow: ReturnType<typeof mlflowWire>;
let call: (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', endpoint: string, fields?: Fields) => Promise<any>;
let native: ReturnType<typeof apiClient>;
const receiver = new Receiver(SECRET);

beforeAll(async () => {
  await receiver.start();
  registry = await localRegistry({
    // MLflow's behaviour (no guarded stages); quick retries, three attempts, no retry timer: the
    // tests run the retry pass themselves.
    env: { GOVERNANCE_POLICY: UNGUARDED, WEBHOOK_RETRY_BASE_MS: '10', WEBHOOK_MAX_ATTEMPTS: '3' },
    webhookRetryIntervalMs: 0,
  });
  mlflow = mlflowWire(registry.url);
  call = mlflow.call;
  native = apiClient(registry.url, 'AKIAMLFLOW');
});
afterAll(async () => {
  await registry?.stop();
  await receiver.stop();
});

let counter = 0;
const unique = (prefix = 'wh') => `${prefix}-${Date.now().toString(36)}-${++counter}`;

async function expectError(promise: Promise<unknown>, status: number, code: string, message?: RegExp) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected an MLflow error').toBeInstanceOf(MlflowRestError);
  const rest = err as MlflowRestError;
  expect({ status: rest.status, code: rest.errorCode }).toEqual({ status, code });
  if (message) expect(rest.message).toMatch(message);
}

/** MLflow's event names as the client sends them: `{entity, action}`, enum names. */
const ev = (name: string) => {
  const [entity, action] = name.split('.') as [string, string];
  return { entity: entity.toUpperCase(), action: action.toUpperCase() };
};

const MODEL_EVENTS = [
  'registered_model.created',
  'model_version.created',
  'model_version_tag.set',
  'model_version_tag.deleted',
  'model_version_alias.created',
  'model_version_alias.deleted',
];
const PROMPT_EVENTS = [
  'prompt.created',
  'prompt_version.created',
  'prompt_tag.set',
  'prompt_tag.deleted',
  'prompt_version_tag.set',
  'prompt_version_tag.deleted',
  'prompt_alias.created',
  'prompt_alias.deleted',
];

async function createWebhook(path: string, events: string[], fields: Fields = {}) {
  const { webhook } = await call('POST', 'webhooks', {
    name: unique(),
    url: `${receiver.url}${path}`,
    events: events.map(ev),
    secret: SECRET,
    ...fields,
  });
  return webhook;
}

const isoPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Checks one delivered request as a receiver would, and returns `{entity, action, data}`. */
function checked(r: Received) {
  expect(r.headers['content-type']).toBe('application/json');
  expect(r.verified, 'signature').toBe(true);
  expect(String(r.headers['x-mlflow-delivery-id'])).toMatch(uuidPattern);
  const ts = Number(r.headers['x-mlflow-timestamp']);
  expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(120);
  expect(Object.keys(r.body)).toEqual(['entity', 'action', 'timestamp', 'data']);
  expect(r.body.timestamp).toMatch(isoPattern);
  return { entity: r.body.entity, action: r.body.action, data: r.body.data };
}

beforeEach(() => {
  receiver.failures.clear();
});

// ---------------------------------------------------------------------------------------------

describe('managing webhooks (MLflow WebhookService)', () => {
  it('creates a webhook and answers with MLflow Webhook message, never its secret', async () => {
    const name = unique('create');
    const res = await mlflow.raw('POST', 'webhooks', {
      name,
      url: `${receiver.url}/create`,
      events: [ev('model_version.created'), { entity: 'model_version_alias', action: 'created' }],
      description: 'CI trigger',
      secret: SECRET,
    });
    expect(res.status).toBe(200);
    const w = res.body.webhook;
    expect(w).toEqual({
      webhook_id: expect.stringMatching(uuidPattern),
      name,
      description: 'CI trigger',
      url: `${receiver.url}/create`,
      events: [
        { entity: 'MODEL_VERSION', action: 'CREATED' },
        { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' },
      ],
      status: 'ACTIVE',
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: w.creation_timestamp,
    });
    const got = await call('GET', `webhooks/${w.webhook_id}`);
    expect(got).toEqual({ webhook: w });
    const listed = await call('GET', 'webhooks', { max_results: 1000 });
    expect(listed.webhooks).toContainEqual(w);
    // Never returned, and not stored as given: the table holds it sealed only.
    for (const body of [res.body, got, listed]) expect(JSON.stringify(body)).not.toContain(SECRET);
    const items = await tableSnapshot(documentClient(), registry.tableName);
    expect(JSON.stringify(items)).not.toContain(SECRET);
    // The registry's own route says whether a secret is set, and nothing more.
    const own = await native('GET', `/webhooks/${w.webhook_id}`);
    expect(own.body.webhook.has_secret).toBe(true);
    expect(JSON.stringify(own.body)).not.toContain(SECRET);
  });

  it('pages the list with max_results and an opaque next_page_token', async () => {
    for (let i = 0; i < 3; i++) await createWebhook('/paged', ['registered_model.created']);
    const seen = new Set<string>();
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await call('GET', 'webhooks', { max_results: 2, page_token: token });
      expect(page.webhooks.length).toBeLessThanOrEqual(2);
      for (const w of page.webhooks) {
        expect(seen.has(w.webhook_id)).toBe(false);
        seen.add(w.webhook_id);
      }
      token = page.next_page_token;
      pages++;
    } while (token);
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect(pages).toBeGreaterThanOrEqual(2);
  });

  it('refuses what MLflow refuses, with its error codes and messages', async () => {
    const url = `${receiver.url}/refused`;
    const events = [ev('registered_model.created')];
    await expectError(call('POST', 'webhooks', { url, events }), 400, 'INVALID_PARAMETER_VALUE', /name/);
    await expectError(
      call('POST', 'webhooks', { name: '-bad-', url, events }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Webhook name '-bad-' is invalid/,
    );
    await expectError(
      call('POST', 'webhooks', { name: unique(), url: 'ftp://example.com/x', events }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Invalid webhook URL scheme: 'ftp'/,
    );
    await expectError(
      call('POST', 'webhooks', { name: unique(), url, events: [] }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    await expectError(
      call('POST', 'webhooks', {
        name: unique(),
        url,
        events: [{ entity: 'REGISTERED_MODEL', action: 'DELETED' }],
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Invalid action 'deleted' for entity 'registered_model'. Valid actions are: \['created'\]/,
    );
    await expectError(
      call('POST', 'webhooks', { name: unique(), url: 'http://user:pw@127.0.0.1/x', events }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    const missing = '00000000-0000-4000-8000-000000000000';
    await expectError(call('GET', `webhooks/${missing}`), 404, 'RESOURCE_DOES_NOT_EXIST');
    await expectError(call('PATCH', `webhooks/${missing}`, { name: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    await expectError(call('DELETE', `webhooks/${missing}`), 404, 'RESOURCE_DOES_NOT_EXIST');
    await expectError(call('POST', `webhooks/${missing}/test`, {}), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('updates only the fields given, and deletes', async () => {
    const w = await createWebhook('/update', ['registered_model.created'], { description: 'first' });
    await new Promise((r) => setTimeout(r, 5));
    const { webhook: updated } = await call('PATCH', `webhooks/${w.webhook_id}`, {
      events: [ev('model_version_tag.set'), ev('model_version_tag.deleted')],
      status: 'DISABLED',
    });
    expect(updated).toEqual({
      ...w,
      events: [
        { entity: 'MODEL_VERSION_TAG', action: 'SET' },
        { entity: 'MODEL_VERSION_TAG', action: 'DELETED' },
      ],
      status: 'DISABLED',
      last_updated_timestamp: expect.any(Number),
    });
    expect(updated.last_updated_timestamp).toBeGreaterThan(w.last_updated_timestamp);
    const renamed = (await call('PATCH', `webhooks/${w.webhook_id}`, { name: `${w.name}-2` })).webhook;
    expect(renamed).toMatchObject({ name: `${w.name}-2`, description: 'first', status: 'DISABLED' });
    expect(await call('DELETE', `webhooks/${w.webhook_id}`)).toEqual({});
    await expectError(call('GET', `webhooks/${w.webhook_id}`), 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});

describe('test_webhook', () => {
  it("sends the event's example payload, signed, and reports the receiver's answer", async () => {
    const w = await createWebhook('/test', ['model_version.created', 'model_version_alias.created']);
    const before = receiver.at('/test').length;
    // No event: the webhook's first one.
    const first = await call('POST', `webhooks/${w.webhook_id}/test`, {});
    expect(first).toEqual({ result: { success: true, response_status: 200, response_body: 'ok' } });
    const alias = await call('POST', `webhooks/${w.webhook_id}/test`, {
      event: ev('model_version_alias.created'),
    });
    expect(alias.result.success).toBe(true);
    const [a, b] = receiver.at('/test').slice(before);
    expect(checked(a!)).toEqual({
      entity: 'model_version',
      action: 'created',
      data: {
        name: 'example_model',
        version: '1',
        source: 'models:/123',
        run_id: 'abcd1234abcd5678',
        tags: { example_key: 'example_value' },
        description: 'An example model version',
      },
    });
    expect(checked(b!)).toEqual({
      entity: 'model_version_alias',
      action: 'created',
      data: { name: 'example_model', alias: 'example_alias', version: '1' },
    });
    // Tests are not deliveries: nothing is logged.
    expect((await native('GET', `/webhooks/${w.webhook_id}/deliveries`)).body.deliveries).toEqual([]);
  });

  it('reports a failing receiver as success=false with its status and body', async () => {
    const w = await createWebhook('/test-down', ['registered_model.created']);
    receiver.failures.set('/test-down', [503]);
    const res = await call('POST', `webhooks/${w.webhook_id}/test`, {});
    expect(res).toEqual({ result: { success: false, response_status: 503, response_body: 'down' } });
  });

  it('reports an unreachable receiver with an error message', async () => {
    const closed = new Receiver(SECRET);
    await closed.start();
    const url = `${closed.url}/gone`;
    await closed.stop();
    const { webhook } = await call('POST', 'webhooks', {
      name: unique(),
      url,
      events: [ev('registered_model.created')],
    });
    const res = await call('POST', `webhooks/${webhook.webhook_id}/test`, {});
    expect(res.result.success).toBe(false);
    expect(res.result.error_message).toMatch(/^Failed to test webhook: .*ECONNREFUSED/);
  });
});

describe('delivery of registry changes', () => {
  it('delivers each model event MLflow defines, with exactly its payload, signed', async () => {
    const w = await createWebhook('/models', MODEL_EVENTS);
    const name = unique('delivered');
    await call('POST', 'registered-models/create', {
      name,
      description: 'fraud model',
      tags: [{ key: 'team', value: 'risk' }],
    });
    // MLflow has no webhook event for a registered model's tags: nothing is sent for this one.
    await call('POST', 'registered-models/set-tag', { name, key: 'k', value: 'v' });
    await call('POST', 'model-versions/create', {
      name,
      source: 's3://bucket/fraud/1',
      run_id: 'run-1',
      tags: [{ key: 'framework', value: 'sklearn' }],
    });
    await call('POST', 'model-versions/create', { name, source: 's3://bucket/fraud/2' });
    await call('POST', 'model-versions/set-tag', { name, version: '1', key: 'validated', value: 'yes' });
    await call('DELETE', 'model-versions/delete-tag', { name, version: '1', key: 'validated' });
    await call('POST', 'registered-models/alias', { name, alias: 'champion', version: '1' });
    await call('DELETE', 'registered-models/alias', { name, alias: 'champion' });
    await registry.settled();

    const got = receiver.at('/models').map(checked);
    // Order across events is not promised (each event is delivered on its own).
    const byKind = (entity: string, action: string) =>
      got.filter((g) => g.entity === entity && g.action === action).map((g) => g.data);
    expect(got).toHaveLength(7);
    expect(byKind('registered_model', 'created')).toEqual([
      { name, tags: { team: 'risk' }, description: 'fraud model' },
    ]);
    expect(byKind('model_version', 'created')).toEqual(
      expect.arrayContaining([
        {
          name,
          version: '1',
          source: 's3://bucket/fraud/1',
          run_id: 'run-1',
          tags: { framework: 'sklearn' },
          description: null,
        },
        {
          name,
          version: '2',
          source: 's3://bucket/fraud/2',
          run_id: null,
          tags: {},
          description: null,
        },
      ]),
    );
    expect(byKind('model_version_tag', 'set')).toEqual([
      { name, version: '1', key: 'validated', value: 'yes' },
    ]);
    expect(byKind('model_version_tag', 'deleted')).toEqual([{ name, version: '1', key: 'validated' }]);
    expect(byKind('model_version_alias', 'created')).toEqual([{ name, alias: 'champion', version: '1' }]);
    expect(byKind('model_version_alias', 'deleted')).toEqual([{ name, alias: 'champion' }]);

    // One delivery id per delivery, each logged as SUCCEEDED after one attempt.
    const ids = receiver.at('/models').map((r) => String(r.headers['x-mlflow-delivery-id']));
    expect(new Set(ids).size).toBe(7);
    const log = (await native('GET', `/webhooks/${w.webhook_id}/deliveries`)).body.deliveries;
    expect(log.map((d: any) => d.delivery_id).sort()).toEqual([...ids].sort());
    for (const d of log)
      expect(d).toMatchObject({ status: 'SUCCEEDED', attempts: 1, last_response_status: 200 });
  });

  it('delivers prompt events (MLflow 3 prompt registry) to prompt subscribers only', async () => {
    const prompts = await createWebhook('/prompts', PROMPT_EVENTS);
    const models = await createWebhook('/models-only', MODEL_EVENTS);
    const name = unique('prompt');
    const isPrompt = { key: 'mlflow.prompt.is_prompt', value: 'true' };
    await call('POST', 'registered-models/create', { name, tags: [isPrompt], description: 'greeting' });
    await call('POST', 'model-versions/create', {
      name,
      source: `s3://bucket/${name}/1`,
      description: 'first',
      tags: [isPrompt, { key: 'mlflow.prompt.text', value: 'Hello {{name}}!' }],
    });
    await call('POST', 'registered-models/set-tag', { name, key: 'owner', value: 'ml' });
    await call('DELETE', 'registered-models/delete-tag', { name, key: 'owner' });
    await call('POST', 'model-versions/set-tag', { name, version: '1', key: 'reviewed', value: 'yes' });
    await call('DELETE', 'model-versions/delete-tag', { name, version: '1', key: 'reviewed' });
    await call('POST', 'registered-models/alias', { name, alias: 'production', version: '1' });
    await call('DELETE', 'registered-models/alias', { name, alias: 'production' });
    await registry.settled();

    const got = receiver.at('/prompts').map(checked);
    const kinds = got.map((g) => `${g.entity}.${g.action}`).sort();
    expect(kinds).toEqual([...PROMPT_EVENTS].sort());
    const data = (kind: string) => got.find((g) => `${g.entity}.${g.action}` === kind)!.data;
    expect(data('prompt.created')).toEqual({
      name,
      tags: { 'mlflow.prompt.is_prompt': 'true' },
      description: 'greeting',
    });
    expect(data('prompt_version.created')).toEqual({
      name,
      version: '1',
      template: 'Hello {{name}}!',
      tags: { 'mlflow.prompt.is_prompt': 'true', 'mlflow.prompt.text': 'Hello {{name}}!' },
      description: 'first',
    });
    expect(data('prompt_tag.set')).toEqual({ name, key: 'owner', value: 'ml' });
    expect(data('prompt_tag.deleted')).toEqual({ name, key: 'owner' });
    expect(data('prompt_version_tag.set')).toEqual({ name, version: '1', key: 'reviewed', value: 'yes' });
    expect(data('prompt_version_tag.deleted')).toEqual({ name, version: '1', key: 'reviewed' });
    expect(data('prompt_alias.created')).toEqual({ name, alias: 'production', version: '1' });
    expect(data('prompt_alias.deleted')).toEqual({ name, alias: 'production' });
    // A model_* subscriber hears nothing of prompts.
    expect(receiver.at('/models-only').filter((r) => JSON.stringify(r.body.data).includes(name))).toEqual([]);
    await call('DELETE', `webhooks/${prompts.webhook_id}`);
    await call('DELETE', `webhooks/${models.webhook_id}`);
  });

  it('sends nothing to a DISABLED webhook, or for changes made before it existed', async () => {
    const name = unique('before');
    await call('POST', 'registered-models/create', { name });
    await registry.settled();
    const w = await createWebhook('/disabled', ['registered_model.created', 'model_version.created']);
    await registry.settled();
    expect(receiver.at('/disabled')).toEqual([]);
    await call('PATCH', `webhooks/${w.webhook_id}`, { status: 'DISABLED' });
    await call('POST', 'model-versions/create', { name, source: 's3://bucket/before/1' });
    await registry.settled();
    expect(receiver.at('/disabled')).toEqual([]);
    expect((await native('GET', `/webhooks/${w.webhook_id}/deliveries`)).body.deliveries).toEqual([]);
  });

  it('retries a failed delivery with backoff, with the same id and body, until the receiver takes it', async () => {
    const w = await createWebhook('/flaky', ['registered_model.created']);
    receiver.failures.set('/flaky', [500, 502]);
    const name = unique('flaky');
    await call('POST', 'registered-models/create', { name });
    await registry.settled();
    const logOf = async () => (await native('GET', `/webhooks/${w.webhook_id}/deliveries`)).body.deliveries;
    let [d] = await logOf();
    expect(d).toMatchObject({
      event: 'registered_model.created',
      event_type: 'RegisteredModelCreated',
      status: 'FAILED',
      attempts: 1,
      last_response_status: 500,
      next_attempt_timestamp: expect.any(Number),
      last_error: 'The receiver answered 500: down',
    });
    for (let i = 0; i < 50 && d.status !== 'SUCCEEDED'; i++) {
      await new Promise((r) => setTimeout(r, 30));
      await registry.retryWebhooks();
      [d] = await logOf();
    }
    expect(d).toMatchObject({ status: 'SUCCEEDED', attempts: 3, last_response_status: 200 });
    const attempts = receiver.at('/flaky');
    expect(attempts).toHaveLength(3);
    for (const a of attempts) checked(a);
    expect(new Set(attempts.map((a) => a.headers['x-mlflow-delivery-id']))).toEqual(new Set([d.delivery_id]));
    expect(new Set(attempts.map((a) => a.raw)).size).toBe(1);
    expect(d.payload).toEqual(attempts[0]!.body);
  });

  it('marks a delivery DEAD after its last attempt; redelivery sends it again with the same id', async () => {
    const w = await createWebhook('/dead', ['registered_model.created']);
    receiver.failures.set('/dead', [500, 500, 500]);
    await call('POST', 'registered-models/create', { name: unique('dead') });
    await registry.settled();
    const logOf = async () => (await native('GET', `/webhooks/${w.webhook_id}/deliveries`)).body.deliveries;
    let [d] = await logOf();
    for (let i = 0; i < 50 && d.status !== 'DEAD'; i++) {
      await new Promise((r) => setTimeout(r, 30));
      await registry.retryWebhooks();
      [d] = await logOf();
    }
    expect(d).toMatchObject({ status: 'DEAD', attempts: 3, last_response_status: 500 });
    expect(d.next_attempt_timestamp).toBeUndefined();
    // The retry pass leaves it alone now.
    await registry.retryWebhooks();
    expect(receiver.at('/dead')).toHaveLength(3);

    const redelivered = await native(
      'POST',
      `/webhooks/${w.webhook_id}/deliveries/${d.delivery_id}/redeliver`,
    );
    expect(redelivered.status).toBe(200);
    expect(redelivered.body.delivery).toMatchObject({
      delivery_id: d.delivery_id,
      status: 'SUCCEEDED',
      attempts: 1,
    });
    const all = receiver.at('/dead');
    expect(all).toHaveLength(4);
    expect(all[3]!.headers['x-mlflow-delivery-id']).toBe(d.delivery_id);
    expect(checked(all[3]!)).toEqual(checked(all[0]!));
    // Only FAILED or DEAD deliveries can be redelivered.
    const again = await native('POST', `/webhooks/${w.webhook_id}/deliveries/${d.delivery_id}/redeliver`);
    expect(again.status).toBe(400);
  });

  it('signs with the secret of the moment, and not at all without one', async () => {
    const { webhook: w } = await call('POST', 'webhooks', {
      name: unique(),
      url: `${receiver.url}/unsigned`,
      events: [ev('registered_model.created')],
    });
    await call('POST', 'registered-models/create', { name: unique('unsigned') });
    await registry.settled();
    const [unsigned] = receiver.at('/unsigned');
    expect(unsigned!.headers['x-mlflow-signature']).toBeUndefined();
    expect(unsigned!.headers['x-mlflow-delivery-id']).toMatch(uuidPattern);
    await call('PATCH', `webhooks/${w.webhook_id}`, { secret: SECRET });
    await call('POST', 'registered-models/create', { name: unique('signed') });
    await registry.settled();
    expect(checked(receiver.at('/unsigned')[1]!).entity).toBe('registered_model');
  });
});

describe('deployed target rules', () => {
  let deployed: LocalRegistry;
  beforeAll(async () => {
    // As deployed: private, loopback, link-local and metadata addresses refused, https only.
    deployed = await localRegistry({
      env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' },
      webhookRetryIntervalMs: 0,
    });
  });
  afterAll(async () => {
    await deployed?.stop();
  });

  it.each([
    ['http://127.0.0.1:8080/hook', /must use https/],
    ['https://127.0.0.1/hook', /non-public IP address/],
    ['https://169.254.169.254/latest/meta-data/', /non-public IP address.*169\.254\.169\.254/],
    ['https://[fd00:ec2::254]/', /non-public IP address/],
    ['https://10.0.0.8/hook', /non-public IP address/],
    ['https://0x7f000001/hook', /non-public IP address/],
    ['https://localhost/hook', /non-public IP address/],
    ['http://8.8.8.8/hook', /must use https/],
  ])('refuses %s', async (url, message) => {
    const res = await mlflowWire(deployed.url).raw('POST', 'webhooks', {
      name: unique(),
      url,
      events: [ev('registered_model.created')],
    });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(res.body.message).toMatch(message);
  });
});

describe('mreg webhooks (the CLI)', () => {
  it('creates, tests, lists the delivery log, redelivers and deletes', async () => {
    await ensureBinary();
    const work = mkdtempSync(join(tmpdir(), 'mreg-hooks-'));
    const mreg = async (args: string[]) => {
      const run = await runMreg(['--json', ...args], work, {
        MREG_ENDPOINT: registry.url,
        AWS_ACCESS_KEY_ID: 'AKIACLI',
        AWS_SECRET_ACCESS_KEY: 'local',
      });
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout);
    };
    try {
      const name = unique('cli');
      const { webhook } = await mreg([
        'webhooks',
        'create',
        name,
        `${receiver.url}/cli`,
        '--event',
        'registered_model.created',
        '--event',
        'model_version.created',
        '--secret',
        SECRET,
      ]);
      expect(webhook).toMatchObject({
        name,
        events: ['registered_model.created', 'model_version.created'],
        status: 'ACTIVE',
        has_secret: true,
      });
      expect(JSON.stringify(webhook)).not.toContain(SECRET);
      expect((await mreg(['webhooks', 'test', webhook.webhook_id])).result).toMatchObject({
        success: true,
        response_status: 200,
      });
      receiver.failures.set('/cli', [500, 500, 500]);
      await call('POST', 'registered-models/create', { name: unique('cli-model') });
      await registry.settled();
      const { deliveries } = await mreg(['webhooks', 'deliveries', webhook.webhook_id]);
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0]).toMatchObject({ status: 'FAILED', attempts: 1, last_response_status: 500 });
      receiver.failures.delete('/cli');
      const { delivery } = await mreg([
        'webhooks',
        'redeliver',
        webhook.webhook_id,
        deliveries[0].delivery_id,
      ]);
      expect(delivery).toMatchObject({ delivery_id: deliveries[0].delivery_id, status: 'SUCCEEDED' });
      const updated = await mreg(['webhooks', 'update', webhook.webhook_id, '--status', 'DISABLED']);
      expect(updated.webhook.status).toBe('DISABLED');
      expect((await mreg(['webhooks', 'list', '--all'])).webhooks.map((w: any) => w.name)).toContain(name);
      await mreg(['webhooks', 'delete', webhook.webhook_id]);
      const gone = await runMreg(['webhooks', 'get', webhook.webhook_id], work, {
        MREG_ENDPOINT: registry.url,
        AWS_ACCESS_KEY_ID: 'AKIACLI',
        AWS_SECRET_ACCESS_KEY: 'local',
      });
      expect(gone.code).not.toBe(0);
      expect(gone.stderr).toMatch(/not found/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
