/**
 * Publishes recorded events to the registry's EventBridge bus. The relay calls it with the audit
 * entries the table's stream delivers; delivery is at least once, and each event carries its id
 * (`detail.event_id`) for consumers to dedupe on.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, type RegistryEvent, type RegistryEventDetail } from '../../domain/events';

export interface EventPublisher {
  /** Publishes the events in order; throws if any could not be published (the batch is retried). */
  publish(events: readonly RegistryEvent[]): Promise<void>;
}

/** EventBridge takes at most 10 entries per PutEvents call. */
const BATCH = 10;

/**
 * The most a PutEvents call may carry, its entries together, measured as EventBridge measures
 * them (`putEventsEntrySize`). An entry over it is refused: no retry can succeed, so the relay
 * would dead-letter the event.
 */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

/** The size EventBridge counts for an entry: 14 bytes of time, then UTF-8 bytes of the strings. */
export function putEventsEntrySize(entry: PutEventsRequestEntry): number {
  const utf8 = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));
  return (
    (entry.Time ? 14 : 0) +
    utf8(entry.Source) +
    utf8(entry.DetailType) +
    utf8(entry.Detail) +
    (entry.Resources ?? []).reduce((n, r) => n + utf8(r), 0)
  );
}

/**
 * The detail an event is published with: the recorded one, or, when the entry would exceed
 * PUT_EVENTS_MAX_BYTES (a model created with 50 tags of 5,000 characters can), the same
 * envelope with empty `data` and `data_omitted: true`. The audit log keeps the full event.
 * The deployed relay and the local bus both publish this.
 */
export function publishedDetail(event: RegistryEvent): RegistryEventDetail {
  if (putEventsEntrySize(putEventsEntry(event, '', event.detail)) <= PUT_EVENTS_MAX_BYTES)
    return event.detail;
  return { ...event.detail, data: {}, data_omitted: true };
}

/** The PutEvents entry of an event, with the detail given (the published one by default). */
export function putEventsEntry(
  event: RegistryEvent,
  busName: string,
  detail: RegistryEventDetail = publishedDetail(event),
): PutEventsRequestEntry {
  return {
    EventBusName: busName,
    Source: EVENT_SOURCE,
    DetailType: event.type,
    Detail: JSON.stringify(detail),
    Time: new Date(event.detail.occurred_at),
  };
}

/** Splits entries into PutEvents calls: at most 10 entries and PUT_EVENTS_MAX_BYTES each. */
export function putEventsBatches(entries: readonly PutEventsRequestEntry[]): PutEventsRequestEntry[][] {
  const batches: PutEventsRequestEntry[][] = [];
  let current: PutEventsRequestEntry[] = [];
  let size = 0;
  for (const entry of entries) {
    const n = putEventsEntrySize(entry);
    if (current.length > 0 && (current.length === BATCH || size + n > PUT_EVENTS_MAX_BYTES)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(entry);
    size += n;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly eventBridge: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly RegistryEvent[]): Promise<void> {
    for (const batch of putEventsBatches(events.map((e) => putEventsEntry(e, this.busName)))) {
      const out = await this.eventBridge.send(new PutEventsCommand({ Entries: batch }));
      if (out.FailedEntryCount) {
        const failed = (out.Entries ?? []).filter((entry) => entry.ErrorCode);
        throw new Error(
          `EventBridge refused ${out.FailedEntryCount} of ${batch.length} events (${failed.map((f) => f.ErrorCode).join(', ')}); the batch will be retried.`,
        );
      }
    }
  }
}
