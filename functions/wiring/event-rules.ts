/**
 * Event wiring shared by the CDK stack and the local runtime: the bus, the outbox filter on the
 * table's stream, and the rules' event patterns. The deployed rules are built from these patterns
 * and the local event router matches with the same ones (local/events.ts), so both route alike.
 */
import { EVENT_SOURCE, type EventType } from '../domain/events';
import type { Stage } from '../domain/model';
import { WEBHOOK_SOURCE_EVENTS } from '../domain/webhooks';

export const EVENT_BUS_NAME_ENV = 'EVENT_BUS_NAME';
export const DEFAULT_EVENT_BUS_NAME = 'model-registry';
/** The relay's dead-letter queue, where it sends a record it could not publish, whole. */
export const RELAY_DEAD_LETTER_QUEUE_URL_ENV = 'RELAY_DEAD_LETTER_QUEUE_URL';

/** Audit entries are the outbox: the relay publishes every inserted item whose sort key starts so. */
export const OUTBOX_SORT_KEY_PREFIX = 'A#';

/** The stream filter of the relay (Lambda event source mapping FilterCriteria). */
export const OUTBOX_STREAM_FILTER = {
  eventName: ['INSERT'],
  dynamodb: { NewImage: { sk: { S: [{ prefix: OUTBOX_SORT_KEY_PREFIX }] } } },
};

export type EventPattern = {
  readonly source: readonly string[];
  readonly 'detail-type': readonly string[];
  readonly detail?: Record<string, unknown>;
};

/** The rules of the registry itself. */
export const RULES = {
  /** Starts the approval state machine for each new transition request. */
  startApproval: {
    source: [EVENT_SOURCE],
    'detail-type': ['TransitionRequested' satisfies EventType],
  },
  /** Delivers webhooks (the webhook delivery function) for the events MLflow has webhook events for. */
  deliverWebhooks: {
    source: [EVENT_SOURCE],
    'detail-type': [...WEBHOOK_SOURCE_EVENTS],
  },
} as const satisfies Record<string, EventPattern>;

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
