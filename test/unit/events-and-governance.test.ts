/** Event schemas, the shared event patterns, the outbox record, and the governance rules. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditItem } from '../../functions/adapters/dynamodb/table';
import {
  entryBytes,
  PUT_EVENTS_MAX_BYTES,
  putEventsBatches,
} from '../../functions/adapters/eventbridge/publisher';
import { eventDocs } from '../../functions/domain/event-docs';
import { EVENT_SOURCE, EVENT_TYPES, newEventId, registryEvent } from '../../functions/domain/events';
import {
  DEFAULT_POLICY,
  effectivePolicy,
  failedGates,
  parseGate,
  parsePolicyOverride,
} from '../../functions/domain/governance';
import { outboxEvent } from '../../functions/handlers/relay-factory';
import { matchesPattern, promotionPattern, RULES } from '../../functions/wiring/event-rules';

const model = { id: 'id-1', name: 'churn' };
const delivered = (type: string, data: Record<string, unknown>, name = 'churn') => ({
  source: EVENT_SOURCE,
  'detail-type': type,
  detail: { model: { id: 'x', name }, data },
});

describe('events', () => {
  it('are published in order, in PutEvents calls of at most 10 entries and under 256 KB', () => {
    const entry = (i: number, bytes: number) => ({
      Source: EVENT_SOURCE,
      DetailType: 'ModelCardUpdated',
      Detail: JSON.stringify({ i, pad: 'x'.repeat(bytes) }),
      Time: new Date(0),
    });
    const small = Array.from({ length: 23 }, (_, i) => entry(i, 100));
    expect(putEventsBatches(small).map((b) => b.length)).toEqual([10, 10, 3]);
    // Edits of big model cards: about 80 KB each, so three per call.
    const big = Array.from({ length: 7 }, (_, i) => entry(i, 80_000));
    const batches = putEventsBatches(big);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
    for (const b of batches) {
      expect(b.reduce((n, e) => n + entryBytes(e), 0)).toBeLessThan(PUT_EVENTS_MAX_BYTES);
    }
    expect(batches.flat().map((e) => JSON.parse(e.Detail).i)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(entryBytes(entry(0, 0))).toBe(
      14 + EVENT_SOURCE.length + 'ModelCardUpdated'.length + '{"i":0,"pad":""}'.length,
    );
  });

  it('committed docs/events.md is the one the schemas generate (run npm run docs:events)', () => {
    expect(readFileSync(join(__dirname, '..', '..', 'docs', 'events.md'), 'utf8')).toBe(eventDocs());
    for (const type of EVENT_TYPES) expect(eventDocs()).toContain(`### ${type}`);
  });

  it('validates the data of each event against its schema', () => {
    const e = registryEvent('AliasChanged', {
      now: 5,
      actor: { person: 'me', arn: 'me' },
      model,
      version: 3,
      data: { alias: 'champion', before: null, after: 3 },
    });
    expect(e.detail).toMatchObject({
      schema_version: '1',
      occurred_at: 5,
      actor: 'me',
      person: 'me',
      model,
      version: 3,
    });
    expect(() =>
      registryEvent('AliasChanged', {
        now: 5,
        actor: { person: 'me', arn: 'me' },
        model,
        data: { alias: 'x', before: 'one', after: 3 } as never,
      }),
    ).toThrow();
  });

  it('gives every event a unique id that sorts by time', () => {
    const ids = [newEventId(1000), newEventId(1000), newEventId(2000)];
    expect(new Set(ids).size).toBe(3);
    expect(ids[0]! < ids[2]!).toBe(true);
  });

  it('relays exactly the inserted audit entries, as recorded', () => {
    const e = registryEvent('RegisteredModelCreated', {
      now: 1,
      actor: { person: 'me', arn: 'me' },
      model,
      data: { description: '', tags: {} },
    });
    const item = auditItem(e);
    const image = Object.fromEntries(
      Object.entries(item).map(([k, v]) => [k, typeof v === 'string' ? { S: v } : { M: {} }]),
    );
    expect(outboxEvent({ eventName: 'INSERT', dynamodb: { NewImage: image } } as never)).toEqual(e);
    expect(outboxEvent({ eventName: 'MODIFY', dynamodb: { NewImage: image } } as never)).toBeUndefined();
    expect(
      outboxEvent({ eventName: 'INSERT', dynamodb: { NewImage: { ...image, sk: { S: 'V#1' } } } } as never),
    ).toBeUndefined();
  });

  it('matches rules as EventBridge does: the approval rule and promotion subscriptions', () => {
    expect(matchesPattern(RULES.startApproval, delivered('TransitionRequested', {}))).toBe(true);
    expect(matchesPattern(RULES.startApproval, delivered('TransitionApproved', {}))).toBe(false);
    expect(
      matchesPattern(RULES.startApproval, { ...delivered('TransitionRequested', {}), source: 'other' }),
    ).toBe(false);
    const toProduction = promotionPattern('Production', 'churn');
    expect(
      matchesPattern(toProduction, delivered('ModelVersionStageChanged', { to_stage: 'Production' })),
    ).toBe(true);
    expect(matchesPattern(toProduction, delivered('ModelVersionStageChanged', { to_stage: 'Staging' }))).toBe(
      false,
    );
    expect(
      matchesPattern(
        toProduction,
        delivered('ModelVersionStageChanged', { to_stage: 'Production' }, 'other'),
      ),
    ).toBe(false);
    expect(matchesPattern({ detail: { model: { name: [{ prefix: 'ch' }] } } }, delivered('X', {}))).toBe(
      true,
    );
    expect(
      matchesPattern({ detail: { model: { name: [{ 'anything-but': ['churn'] }] } } }, delivered('X', {})),
    ).toBe(false);
  });
});

describe('governance rules', () => {
  it('parses quality gates and names each failing metric', () => {
    expect(parseGate(' accuracy >= 0.9 ')).toEqual({ metric: 'accuracy', operator: '>=', threshold: 0.9 });
    expect(parseGate('val/loss < 1e-2')).toEqual({ metric: 'val/loss', operator: '<', threshold: 0.01 });
    expect(() => parseGate('accuracy ~ 1')).toThrow("Invalid quality gate 'accuracy ~ 1'");
    const gates = ['accuracy >= 0.9', 'f1 > 0.88', 'latency_ms <= 50'].map(parseGate);
    expect(failedGates({ accuracy: 0.95, f1: 0.9, latency_ms: 40 }, gates)).toEqual([]);
    expect(failedGates({ accuracy: 0.85, latency_ms: 70 }, gates)).toEqual([
      'accuracy = 0.85 (needs accuracy >= 0.9)',
      'f1 is missing (needs f1 > 0.88)',
      'latency_ms = 70 (needs latency_ms <= 50)',
    ]);
  });

  it('validates policy overrides and layers them on the deployment policy', () => {
    const override = parsePolicyOverride({
      guarded_stages: ['staging', 'PRODUCTION'],
      required_approvals: 2,
    });
    expect(effectivePolicy(DEFAULT_POLICY, override)).toMatchObject({
      guardedStages: ['Staging', 'Production'],
      requiredApprovals: 2,
      requesterMayApprove: false,
      protectLiveVersions: true,
    });
    expect(() => parsePolicyOverride({ guarded_stages: ['None'] })).toThrow(
      "policy.guarded_stages.0: 'None' is not a stage that can be guarded",
    );
    expect(() => parsePolicyOverride({ required_approvals: 0 })).toThrow('policy.required_approvals');
    expect(() => parsePolicyOverride({ approvers: 2 })).toThrow("policy: unknown field 'approvers'");
  });
});
