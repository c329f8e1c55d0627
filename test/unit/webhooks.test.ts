/**
 * The webhook domain: MLflow's event names and payloads, the signature, delivery ids, the retry
 * schedule and the address rules that keep deployed deliveries off private networks.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkTarget,
  NodeWebhookTransport,
  type Resolver,
} from '../../functions/adapters/http/webhook-transport';
import { addressLiteral, nonPublicReason } from '../../functions/domain/addresses';
import { InvalidParameterError } from '../../functions/domain/errors';
import { PROMPT_TAG, REGISTRY_ACTOR, registryEvent } from '../../functions/domain/events';
import {
  afterFailure,
  assertWebhookName,
  assertWebhookUrl,
  DEFAULT_DELIVERY_SETTINGS,
  deliveryHeaders,
  deliveryIdFor,
  isoTimestamp,
  parseWebhookEvent,
  parseWebhookEventName,
  retryDelayMs,
  signWebhook,
  UUID_PATTERN,
  verifyWebhookSignature,
  WEBHOOK_EVENT_NAMES,
  webhookBody,
  webhookMessage,
} from '../../functions/domain/webhooks';

const hostOf = (url: string) => addressLiteral(new URL(url).hostname) ?? new URL(url).hostname;

describe('target addresses', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'carrier-grade'],
    ['0.0.0.0', 'this network'],
    ['255.255.255.255', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'unique local'],
    ['fd00:ec2::254', 'unique local'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:7f00:1::', 'loopback'],
    ['2001:db8::1', 'documentation'],
  ])('refuses %s (%s)', (address, why) => {
    expect(nonPublicReason(address)).toContain(why);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ])('accepts the public address %s', (address) => {
    expect(nonPublicReason(address)).toBeUndefined();
  });

  it('reads decimal, hexadecimal, octal and IPv4-mapped hosts as the address they are', () => {
    for (const url of [
      'http://2130706433/hook',
      'http://0x7f.1/hook',
      'http://0177.0.0.1/hook',
      'http://127.1/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://[0:0:0:0:0:ffff:7f00:1]/hook',
    ]) {
      expect(nonPublicReason(hostOf(url)), url).toContain('loopback');
    }
    expect(nonPublicReason('not-an-ip')).toBe('not an IP address');
  });

  it('checks every address a name resolves to, and allows private ones only when told (local mode)', async () => {
    const resolver =
      (...addresses: string[]): Resolver =>
      async () =>
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    const url = new URL('https://hooks.example.com/x');
    expect(await checkTarget(url, { allowPrivateTargets: false, resolve: resolver('8.8.8.8') })).toEqual({
      addresses: [{ address: '8.8.8.8', family: 4 }],
    });
    const mixed = await checkTarget(url, {
      allowPrivateTargets: false,
      resolve: resolver('8.8.8.8', '10.0.0.5'),
    });
    expect(mixed).toEqual({ refused: expect.stringContaining("'hooks.example.com' resolves to 10.0.0.5") });
    expect(
      await checkTarget(url, { allowPrivateTargets: true, resolve: resolver('10.0.0.5') }),
    ).toMatchObject({ addresses: [{ address: '10.0.0.5' }] });
    const unresolvable = await checkTarget(url, {
      allowPrivateTargets: false,
      resolve: () => Promise.reject(new Error('ENOTFOUND')),
    });
    expect(unresolvable).toEqual({ refused: expect.stringContaining('Cannot resolve') });
  });

  it('deployed, refuses 127.0.0.1 without connecting; it connects to the address it checked', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(String(req.headers.host));
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      const deployed = new NodeWebhookTransport({ timeoutMs: 2000, allowPrivateTargets: false });
      const refused = await deployed.post(`http://127.0.0.1:${port}/x`, {}, '{}');
      expect(refused).toEqual({ kind: 'error', error: expect.stringContaining('non-public IP address') });
      // A name that resolves to a private address (DNS rebinding) is refused at delivery too.
      const rebinding = new NodeWebhookTransport({
        timeoutMs: 2000,
        allowPrivateTargets: false,
        resolve: async () => [{ address: '127.0.0.1', family: 4 }],
      });
      expect(await rebinding.post(`http://rebind.example:${port}/x`, {}, '{}')).toMatchObject({
        kind: 'error',
      });
      expect(seen).toEqual([]);
      // Local mode: the name is connected to the address the resolver gave (the Host header stays).
      const local = new NodeWebhookTransport({
        timeoutMs: 2000,
        allowPrivateTargets: true,
        resolve: async () => [{ address: '127.0.0.1', family: 4 }],
      });
      expect(await local.post(`http://receiver.example:${port}/x`, {}, '{}')).toEqual({
        kind: 'response',
        status: 200,
        body: 'ok',
      });
      expect(seen).toEqual([`receiver.example:${port}`]);
    } finally {
      server.close();
    }
  });
});

describe('webhook fields', () => {
  it("accepts MLflow's names and refuses others with its message", () => {
    for (const name of ['a', 'hook-1', 'my.hook_name', 'A1', 'registered_model_created', 'x'.repeat(63)]) {
      expect(assertWebhookName(name)).toBe(name);
    }
    for (const name of ['', '-abc', 'abc-', '.x', 'a b', 'x'.repeat(64), 'naïve']) {
      expect(() => assertWebhookName(name)).toThrow(/must start and end with a letter or digit/);
    }
  });

  it('takes http(s) URLs with a host and no credentials', () => {
    expect(assertWebhookUrl('https://example.com/hook').hostname).toBe('example.com');
    expect(() => assertWebhookUrl('ftp://example.com/x')).toThrow("Invalid webhook URL scheme: 'ftp'");
    expect(() => assertWebhookUrl('   ')).toThrow('cannot be empty or just whitespace');
    expect(() => assertWebhookUrl('https://user:pw@example.com/')).toThrow(/credentials/);
    expect(() => assertWebhookUrl(`https://example.com/${'x'.repeat(500)}`)).toThrow(/limit is 500/);
  });

  it("parses events in MLflow's two spellings and refuses pairs MLflow has no event for", () => {
    expect(parseWebhookEvent('MODEL_VERSION_ALIAS', 'CREATED')).toBe('model_version_alias.created');
    expect(parseWebhookEventName('prompt_tag.deleted')).toBe('prompt_tag.deleted');
    expect(() => parseWebhookEvent('REGISTERED_MODEL', 'DELETED')).toThrow(
      "Invalid action 'deleted' for entity 'registered_model'. Valid actions are: ['created']",
    );
    expect(() => parseWebhookEventName('nope')).toThrow(InvalidParameterError);
    expect(WEBHOOK_EVENT_NAMES).toHaveLength(14);
  });
});

describe('signature', () => {
  /** MLflow's documented receiver check (tests/webhooks/app.py), written out independently. */
  const mlflowVerify = (secret: string, signature: string, id: string, ts: string, body: string) => {
    if (!signature.startsWith('v1,')) return false;
    const expected = createHmac('sha256', secret).update(`${id}.${ts}.${body}`).digest('base64');
    return signature.slice(3) === expected;
  };

  it('is v1,<base64 HMAC-SHA256 of "id.timestamp.body"> and verifies as MLflow documents', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.uuid(), fc.string(), (secret, id, body) => {
        const headers = deliveryHeaders(id, body, 1_700_000_000_123, secret);
        expect(headers['X-MLflow-Timestamp']).toBe('1700000000');
        expect(headers['X-MLflow-Delivery-Id']).toBe(id);
        const signature = headers['X-MLflow-Signature']!;
        return (
          mlflowVerify(secret, signature, id, '1700000000', body) &&
          verifyWebhookSignature(secret, signature, id, '1700000000', body) &&
          !verifyWebhookSignature(secret, signature, id, '1700000001', body) &&
          !verifyWebhookSignature(`${secret}x`, signature, id, '1700000000', body)
        );
      }),
    );
  });

  it('is left out without a secret', () => {
    expect(deliveryHeaders('id', '{}', 0)).not.toHaveProperty('X-MLflow-Signature');
    expect(signWebhook('k', 'i', '1', 'b')).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });
});

describe('delivery ids and retries', () => {
  it('derives one stable UUID per (webhook, event), ordered by the time of the event', () => {
    fc.assert(
      fc.property(
        fc.uuid(),
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        fc.integer({ min: 0, max: 2 ** 47 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        (webhook, e1, e2, t, dt) => {
          const a = deliveryIdFor(webhook, e1, t);
          expect(a).toMatch(UUID_PATTERN);
          expect(a[14]).toBe('8');
          expect(deliveryIdFor(webhook, e1, t)).toBe(a);
          if (e1 !== e2) expect(deliveryIdFor(webhook, e2, t)).not.toBe(a);
          expect(deliveryIdFor(`${webhook}x`, e1, t)).not.toBe(a);
          expect(deliveryIdFor(webhook, e2, t + dt) > a).toBe(true);
        },
      ),
    );
  });

  it('backs off exponentially with jitter, capped, then gives up after the last attempt', () => {
    const settings = { ...DEFAULT_DELIVERY_SETTINGS, baseDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 5 };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (n, r) => {
          const full = Math.min(60_000, 1000 * 2 ** (n - 1));
          const delay = retryDelayMs(n, settings, () => r);
          return delay >= full / 2 - 1 && delay <= full + 1;
        },
      ),
    );
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, settings, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(afterFailure(4, 100, settings, () => 0)).toEqual({ status: 'FAILED', nextAttemptAt: 100 + 4000 });
    expect(afterFailure(5, 100, settings)).toEqual({ status: 'DEAD' });
  });
});

describe('event mapping', () => {
  const actor = REGISTRY_ACTOR;
  const model = (name: string, prompt = false) => ({
    id: 'm-1',
    name,
    tags: (prompt ? { [PROMPT_TAG]: 'true' } : {}) as Record<string, string>,
  });

  it('maps version tag and alias events to MLflow events with exactly its payloads (prompts to prompt_*)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.string({ minLength: 1 }),
        fc.string(),
        fc.boolean(),
        (name, version, key, value, prompt) => {
          const p = prompt ? 'prompt' : 'model';
          const tagSet = registryEvent('ModelVersionTagSet', {
            now: 1,
            actor,
            model: model(name, prompt),
            version,
            data: { key, before: null, after: value },
          });
          expect(webhookMessage(tagSet)).toEqual({
            event: `${p}_version_tag.set`,
            payload: { name, version: String(version), key, value },
          });
          const alias = registryEvent('AliasChanged', {
            now: 1,
            actor,
            model: model(name, prompt),
            version,
            data: { alias: key, before: null, after: version },
          });
          expect(webhookMessage(alias)).toEqual({
            event: prompt ? 'prompt_alias.created' : 'model_version_alias.created',
            payload: { name, alias: key, version: String(version) },
          });
          const removed = registryEvent('AliasChanged', {
            now: 1,
            actor,
            model: model(name, prompt),
            version,
            data: { alias: key, before: version, after: null },
          });
          expect(webhookMessage(removed)).toEqual({
            event: prompt ? 'prompt_alias.deleted' : 'model_version_alias.deleted',
            payload: { name, alias: key },
          });
          // Pure: the same event, the same message.
          expect(webhookMessage(tagSet)).toEqual(webhookMessage(tagSet));
        },
      ),
    );
  });

  it('sends model_version.created for READY versions only, with run_id and description null when absent', () => {
    const created = (status: string, extra: Record<string, unknown> = {}) =>
      registryEvent('ModelVersionCreated', {
        now: 1,
        actor,
        model: model('m'),
        version: 3,
        data: {
          version: 3,
          stage: 'None',
          status,
          source: 's3://b/k',
          metrics: {},
          managed_files: 0,
          tags: { a: 'b' },
          description: '',
          ...extra,
        },
      });
    expect(webhookMessage(created('READY'))).toEqual({
      event: 'model_version.created',
      payload: {
        name: 'm',
        version: '3',
        source: 's3://b/k',
        run_id: null,
        tags: { a: 'b' },
        description: null,
      },
    });
    expect(webhookMessage(created('PENDING_REGISTRATION'))).toBeUndefined();
    const prompt = created('READY', { tags: { [PROMPT_TAG]: 'true', 'mlflow.prompt.text': 'Hi {{x}}' } });
    expect(webhookMessage(prompt)).toMatchObject({
      event: 'prompt_version.created',
      payload: { template: 'Hi {{x}}' },
    });
  });

  it('sends nothing for events MLflow has no webhook event for', () => {
    const updated = registryEvent('RegisteredModelTagSet', {
      now: 1,
      actor,
      model: model('m'),
      data: { key: 'k', before: null, after: 'v' },
    });
    expect(webhookMessage(updated)).toBeUndefined();
    expect(
      webhookMessage({
        ...updated,
        detail: { ...updated.detail, model: { id: 'm', name: 'm', prompt: true } },
      }),
    ).toEqual({ event: 'prompt_tag.set', payload: { name: 'm', key: 'k', value: 'v' } });
  });

  it("wraps the payload in MLflow's envelope, stamped with the time of the change", () => {
    const body = JSON.parse(
      webhookBody('model_version_tag.deleted', { name: 'm' }, Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
    );
    expect(body).toEqual({
      entity: 'model_version_tag',
      action: 'deleted',
      timestamp: '2026-01-02T03:04:05.006000+00:00',
      data: { name: 'm' },
    });
    expect(isoTimestamp(0)).toBe('1970-01-01T00:00:00.000000+00:00');
  });
});
