/**
 * Event routing shared by the CDK stack and the local runtime: the outbox filter on the
 * table's stream, and the rules' event patterns. The deployed rules are built from these patterns
 * and the local event router matches with the same ones (local/events.ts), so both route alike.
 */
import { auditKey } from '../adapters/dynamodb/keys';
import { EVENT_SOURCE, type EventType } from '../domain/events';
import type { Stage } from '../domain/model';
import { WEBHOOK_SOURCE_EVENTS } from '../domain/webhooks';

/**
 * Audit entries are the outbox: the relay publishes every inserted item whose sort key starts so.
 * The audit key builder owns the prefix; the stream filter and the relay only follow it.
 */
export const OUTBOX_SORT_KEY_PREFIX = auditKey.prefix;

/** The stream filter of the relay (Lambda event source mapping FilterCriteria). */
export const OUTBOX_STREAM_FILTER = {
  eventName: ['INSERT'],
  dynamodb: { NewImage: { sk: { S: [{ prefix: OUTBOX_SORT_KEY_PREFIX }] } } },
};

export type EventPattern = {
  readonly source: readonly string[];
  readonly 'detail-type'?: readonly string[];
  readonly detail?: Record<string, unknown>;
};

/** The rules of the registry itself. */
export const RULES = {
  /** Starts the approval state machine for each new transition request. */
  startApproval: {
    source: [EVENT_SOURCE],
    'detail-type': ['TransitionRequested' satisfies EventType],
  },
  /** Marks the files of each deleted model or version deleted (the cleanup function). */
  retireArtifacts: {
    source: [EVENT_SOURCE],
    'detail-type': ['RegisteredModelDeleted', 'ModelVersionDeleted'] satisfies EventType[],
  },
  /** Delivers webhooks (the webhook delivery function) for the events MLflow has webhook events for. */
  deliverWebhooks: {
    source: [EVENT_SOURCE],
    'detail-type': [...WEBHOOK_SOURCE_EVENTS],
  },
} as const satisfies Record<string, EventPattern>;

/**
 * Models the deployed smoke test (scripts/smoke.ts) registers are named with this prefix, and
 * only their events go to the construct's smoke-test queue.
 */
export const SMOKE_TEST_MODEL_PREFIX = 'smoke-test-';

/**
 * Every event of a smoke-test model: the rule of the construct's smoke-test queue
 * (`smokeTestEvents`), and the filter the smoke test applies to the local event log.
 */
export const SMOKE_TEST_PATTERN = {
  source: [EVENT_SOURCE],
  detail: { model: { name: [{ prefix: SMOKE_TEST_MODEL_PREFIX }] } },
} as const satisfies EventPattern;

/** What a deploy pipeline subscribes to: a version reached `stage` (default Production). */
export function promotionPattern(stage: Stage = 'Production', modelName?: string): EventPattern {
  return {
    source: [EVENT_SOURCE],
    'detail-type': ['ModelVersionStageChanged' satisfies EventType],
    detail: {
      data: { to_stage: [stage] },
      ...(modelName ? { model: { name: [modelName] } } : {}),
    },
  };
}

/**
 * EventBridge pattern matching for the patterns used here: arrays of exact values, `prefix`,
 * `anything-but` and nested objects (every field must match; arrays in the event match if any
 * element does).
 */
export function matchesPattern(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  for (const [field, expected] of Object.entries(pattern)) {
    const actual = event[field];
    if (Array.isArray(expected)) {
      const values = Array.isArray(actual) ? actual : [actual];
      if (!values.some((value) => expected.some((e) => matchesValue(e, value)))) return false;
    } else if (expected && typeof expected === 'object') {
      if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return false;
      if (!matchesPattern(expected as Record<string, unknown>, actual as Record<string, unknown>))
        return false;
    } else {
      return false;
    }
  }
  return true;
}

function matchesValue(expected: unknown, value: unknown): boolean {
  if (expected && typeof expected === 'object') {
    const rule = expected as Record<string, unknown>;
    if ('prefix' in rule) return typeof value === 'string' && value.startsWith(String(rule.prefix));
    if ('anything-but' in rule) {
      const but = rule['anything-but'];
      return value !== undefined && !(Array.isArray(but) ? but : [but]).includes(value);
    }
    if ('exists' in rule) return (value !== undefined) === rule.exists;
    return false;
  }
  return expected === value;
}
