/**
 * What reaches the bus: every event's PutEvents entry stays under EventBridge's 256 KB (computed as
 * EventBridge computes it), the largest bodies the API accepts included; and a relay failure
 * leaves no permanent gap: the relay dead-letters the record whole (event and table key), and the
 * replay route and `mreg events replay` publish the recorded events of a time range again, with
 * their original ids. On the local engines, with EventBridge's refusal injected into the relay.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventPublisher } from '../../functions/adapters/eventbridge/publisher';
import {
  boundedForPublishing,
  PUT_EVENTS_ENTRY_LIMIT,
  putEventsEntry,
  putEventsEntrySize,
} from '../../functions/domain/event-size';
import { type RegistryEvent, registryEvent } from '../../functions/domain/events';
import { MAX_BODY_BYTES } from '../../functions/handlers/http/request';
import type { LocalRegistry } from '../../local/registry';
import { ensureBinary, runMreg } from '../cli/binary';
import { apiClient, localRegistry, UNGUARDED } from '../support/engines';

let registry: LocalRegistry;
let api: ReturnType<typeof apiClient>;
/** Models whose tag events EventBridge refuses (the fault the relay meets). */
const refusing = new Set<string>();

beforeAll(async () => {
  registry = await localRegistry({
    env: { GOVERNANCE_POLICY: UNGUARDED },
    relayRetry: { attempts: 2, backoffMs: 1 },
    wrapRelayPublisher: (bus: EventPublisher): EventPublisher => ({
      async publish(events: readonly RegistryEvent[]) {
        for (const e of events) {
          if (refusing.has(e.detail.model?.name ?? '') && e.type === 'RegisteredModelTagSet') {
            throw new Error('EventBridge answered InternalFailure');
          }
        }
        await bus.publish(events);
      },
    }),
  });
  api = apiClient(registry.url, 'AKIAOPERATOR');
});
afterAll(async () => {
  await registry?.stop();
});

const delivered = (name: string) => registry.events.events().filter((e) => e.detail.model?.name === name);

describe('the size of every published event', () => {
  it('stays under 256 KB for the largest model create the API accepts (multi-byte tags and description)', async () => {
    const name = 'big-model';
    const value = '€'.repeat(5000); // 15,000 bytes of UTF-8
    const tags: Record<string, string> = {};
    for (let i = 0; i < 17; i++) tags[`tag-${i}`] = value;
    // The description fills the body to exactly the largest the API accepts.
    const room = MAX_BODY_BYTES - Buffer.byteLength(JSON.stringify({ name, description: '', tags }));
    const description = '€'.repeat(Math.floor(room / 3)) + 'x'.repeat(room % 3);
    const body = JSON.stringify({ name, description, tags });
    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
    const created = await api('POST', '/models', body);
    expect(created.status).toBe(201);
    await registry.settled();

    const [event] = delivered(name).filter((e) => e['detail-type'] === 'RegisteredModelCreated');
    expect(event).toBeDefined();
    const entry = putEventsEntry({ type: 'RegisteredModelCreated', detail: event!.detail });
    expect(putEventsEntrySize(entry)).toBeLessThan(PUT_EVENTS_ENTRY_LIMIT);
    expect(event!.detail.truncated).toBe(true);
    expect(event!.detail.truncated_fields).toContain('data.tags');
    expect(registry.relayDeadLetters()).toEqual([]);

    // The full record stays readable: the audit log has the whole event, the model its tags.
    const audit = await api('GET', `/models/${name}/audit`);
    const full = audit.body.entries.find((e: { event_id: string }) => e.event_id === event!.detail.event_id);
    expect(full.data.tags).toEqual(tags);
    expect(full.data.description).toBe(description);
    // Unbounded, the event would have been refused by EventBridge.
    const whole = putEventsEntry({
      type: 'RegisteredModelCreated',
      detail: { ...event!.detail, data: full.data, truncated: undefined, truncated_fields: undefined },
    });
    expect(putEventsEntrySize(whole)).toBeGreaterThan(PUT_EVENTS_ENTRY_LIMIT);
  });

  it('bounds any event with oversized fields, keeping its identity', () => {
    const huge = '😀'.repeat(40_000); // 160,000 bytes
    const event = registryEvent('RegisteredModelUpdated', {
      now: 1,
      actor: { arn: 'arn:aws:iam::1:user/a', person: 'arn:aws:iam::1:user/a' },
      model: { id: 'id-1', name: 'm' },
      reason: huge,
      data: { before: { description: huge }, after: { description: huge } },
    });
    expect(putEventsEntrySize(putEventsEntry(event))).toBeGreaterThan(PUT_EVENTS_ENTRY_LIMIT);
    const bounded = boundedForPublishing(event);
    expect(putEventsEntrySize(putEventsEntry(bounded))).toBeLessThan(PUT_EVENTS_ENTRY_LIMIT);
    expect(bounded.detail).toMatchObject({ event_id: event.detail.event_id, model: event.detail.model });
    expect(bounded.detail.truncated).toBe(true);
    // The event itself is unchanged (the audit log keeps it whole).
    expect(event.detail.truncated).toBeUndefined();
    // Small events are published as they are.
    const small = registryEvent('RegisteredModelTagSet', {
      now: 1,
      actor: { arn: 'a', person: 'a' },
      model: { id: 'i', name: 'm' },
      data: { key: 'k', before: null, after: 'v' },
    });
    expect(boundedForPublishing(small)).toBe(small);
  });
});

describe('a relay failure', () => {
  it('is dead-lettered whole, and replay closes the gap with the original event ids', async () => {
    const name = 'gap-model';
    const from = Date.now() - 1;
    expect((await api('POST', '/models', { name })).status).toBe(201);
    refusing.add(name);
    expect((await api('POST', `/models/${name}/tags`, { key: 'team', value: 'growth' })).status).toBe(200);
    await registry.settled();
    refusing.delete(name);
    expect((await api('PATCH', `/models/${name}`, { description: 'after the gap' })).status).toBe(200);
    await registry.settled();
    const to = Date.now() + 1;

    // The relay moved on, and its dead letter carries the whole event and its table key.
    const types = delivered(name).map((e) => e['detail-type']);
    expect(types).toEqual(['RegisteredModelCreated', 'RegisteredModelUpdated']);
    const letters = registry.relayDeadLetters().filter((l) => l.model?.name === name);
    expect(letters).toHaveLength(1);
    const letter = letters[0]!;
    expect(letter.event_type).toBe('RegisteredModelTagSet');
    expect(letter.event?.detail.event_id).toBe(letter.event_id);
    expect(letter.table_key.sk).toContain(letter.event_id);
    const audit = await api('GET', `/models/${name}/audit`);
    const recorded = audit.body.entries.map((e: { event_id: string }) => e.event_id);
    expect(recorded).toContain(letter.event_id);

    // A dry run lists the range and publishes nothing.
    const before = registry.events.events().length;
    const dry = await api('POST', '/events/replay', { from, to, model_name: name, dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.body.dry_run).toBe(true);
    expect(dry.body.published).toBe(0);
    expect(dry.body.events.map((e: { event_type: string }) => e.event_type)).toEqual([
      'RegisteredModelCreated',
      'RegisteredModelTagSet',
      'RegisteredModelUpdated',
    ]);
    await registry.settled();
    expect(registry.events.events().length).toBe(before);

    // The replay publishes them again, each with its original id: the gap is closed.
    const replay = await api('POST', '/events/replay', { from, to, model_name: name });
    expect(replay.status).toBe(200);
    expect(replay.body.published).toBe(3);
    await registry.settled();
    const ids = new Set(delivered(name).map((e) => e.detail.event_id));
    expect([...ids].sort()).toEqual([...recorded].sort());
    const replayed = delivered(name).find((e) => e.detail.event_id === letter.event_id);
    expect(replayed?.detail).toEqual(letter.event?.detail);
  });

  it('is replayable across every model by time range alone, page by page', async () => {
    const from = Date.now() - 1;
    for (const name of ['range-a', 'range-b']) {
      expect((await api('POST', '/models', { name })).status).toBe(201);
    }
    await registry.settled();
    const to = Date.now() + 1;
    const res = await api('POST', '/events/replay', { from, to, dry_run: true });
    expect(res.status).toBe(200);
    const names = res.body.events.map((e: { model: { name: string } }) => e.model.name);
    expect(names).toEqual(expect.arrayContaining(['range-a', 'range-b']));
    expect(
      res.body.events.every((e: { occurred_at: number }) => e.occurred_at >= from && e.occurred_at < to),
    ).toBe(true);
    const bad = await api('POST', '/events/replay', { from: to, to: from });
    expect(bad.status).toBe(400);
  });

  it('is replayed by `mreg events replay`, and --dry-run publishes nothing', async () => {
    await ensureBinary();
    const work = mkdtempSync(join(tmpdir(), 'mreg-replay-'));
    const name = 'cli-replay';
    const from = Date.now() - 1;
    expect((await api('POST', '/models', { name })).status).toBe(201);
    await registry.settled();
    const to = Date.now() + 1;
    const env = { MREG_ENDPOINT: registry.url };
    const args = [
      'events',
      'replay',
      '--from',
      String(from),
      '--to',
      new Date(to).toISOString(),
      '--model',
      name,
    ];
    const before = delivered(name).length;
    const dry = await runMreg([...args, '--dry-run', '--json'], work, env);
    expect(dry.code).toBe(0);
    const dryOut = JSON.parse(dry.stdout);
    expect(dryOut).toMatchObject({ published: 0, dry_run: true });
    expect(dryOut.events).toHaveLength(1);
    await registry.settled();
    expect(delivered(name).length).toBe(before);
    const real = await runMreg(['--output', 'table', ...args], work, env);
    expect(real.code).toBe(0);
    expect(real.stdout).toContain('Published 1 event again');
    await registry.settled();
    const all = delivered(name);
    expect(all.length).toBe(before + 1);
    expect(new Set(all.map((e) => e.detail.event_id)).size).toBe(1);
  });
});
