/**
 * Every AWS limit of scripts/limits.ts holds for the default registry and for the largest valid
 * one, measured on their synthesized templates with every deploy-time name at its longest; and
 * docs/limits.md shows the current figures.
 */
import { readFileSync } from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { API_FUNCTION_NAMES, FUNCTION_NAMES } from '../../functions/deployment/functions';
import {
  boundedForPublishing,
  PUT_EVENTS_ENTRY_LIMIT,
  putEventsEntry,
  putEventsEntrySize,
} from '../../functions/domain/event-size';
import { governancePolicyJson } from '../../lib/configuration';
import { LocalEventBus } from '../../local/events';
import {
  eventEntrySizes,
  functionFigures,
  LIMITS_FILE,
  largestEvents,
  largestProps,
  limitsSection,
  measuredRegistries,
  measureLimits,
  renderLimitsFile,
} from '../../scripts/limits';

const registries = measuredRegistries();
const rows = measureLimits(registries);
const largest = registries.find((r) => r.label === 'largest')!;

describe('AWS limits', () => {
  it.each(
    rows.map((r) => [r.limit, r] as const),
  )('%s: within the limit for the default and the largest registry', (_, row) => {
    for (const [label, { value, where }] of Object.entries(row.values)) {
      expect(value, `${label} registry, ${where}: ${value} of ${row.max} ${row.unit}`).toBeLessThanOrEqual(
        row.max,
      );
    }
  });

  it('keeps every function far below 4 KB of environment, with the largest governance policy and identity trust', () => {
    const figures = functionFigures(largest);
    for (const name of FUNCTION_NAMES) expect(figures[name].environmentBytes, name).toBeLessThan(1024);
    // The policy alone would not fit: that is why it travels in the asset.
    const policy = governancePolicyJson(largestProps(new Stack()).governancePolicy!);
    expect(Buffer.byteLength(policy)).toBeGreaterThan(4096);
  });

  it('gives each API function one invoke permission whatever the number of routes, far below 20 KB of policy', () => {
    const figures = functionFigures(registries[0]!);
    for (const name of API_FUNCTION_NAMES) {
      expect(figures[name].permissions, name).toBe(1);
      expect(figures[name].resourcePolicyBytes, name).toBeLessThan(1024);
    }
  });

  it('docs/limits.md shows the current figures (npm run docs:limits)', () => {
    const current = readFileSync(LIMITS_FILE, 'utf8');
    expect(current).toBe(renderLimitsFile(current, limitsSection(registries)));
  });
});

describe('events within the PutEvents entry limit', () => {
  const events = largestEvents();
  const created = events.find((e) => e.type === 'RegisteredModelCreated')!;

  it('publishes a model created with the most and longest tags with its largest fields emptied and named, as the audit log does not', () => {
    expect(eventEntrySizes(created).recorded).toBeGreaterThan(PUT_EVENTS_ENTRY_LIMIT);
    const { detail } = boundedForPublishing(created);
    expect(detail.truncated).toBe(true);
    expect(detail.truncated_fields).toContain('data.tags');
    // Identity fields stay.
    expect(detail.event_id).toBe(created.detail.event_id);
    expect(detail.model).toEqual(created.detail.model);
    expect(eventEntrySizes(created).published).toBeLessThan(PUT_EVENTS_ENTRY_LIMIT);
    expect(putEventsEntrySize(putEventsEntry({ type: created.type, detail }))).toBe(
      eventEntrySizes(created).published,
    );
  });

  it('publishes every event that fits whole', () => {
    for (const e of events.filter((e) => e !== created)) {
      expect(eventEntrySizes(e).recorded, e.type).toBeLessThan(PUT_EVENTS_ENTRY_LIMIT);
      expect(boundedForPublishing(e), e.type).toBe(e);
    }
  });

  it('the local bus delivers the same published form', async () => {
    const bus = new LocalEventBus();
    await bus.publish([created]);
    expect(bus.events()[0]!.detail).toEqual(boundedForPublishing(created).detail);
  });
});
