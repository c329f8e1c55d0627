/**
 * Publishes recorded events to the registry's EventBridge bus. The relay calls it with the audit
 * entries the table's stream delivers; delivery is at least once, and each event carries its id
 * (`detail.event_id`) for consumers to dedupe on.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { boundedForPublishing, putEventsEntry } from '../../domain/event-size';
import type { RegistryEvent } from '../../domain/events';

export interface EventPublisher {
  /** Publishes the events in order; throws if any could not be published (the batch is retried). */
  publish(events: readonly RegistryEvent[]): Promise<void>;
}

/** EventBridge takes at most 10 entries per PutEvents call… */
const BATCH = 10;
/**
 * …whose sizes add up to less than 256 KB. Most events are a few hundred bytes, but a model card
 * edit carries up to 64 KiB of before and after values: ten of them would not fit one call.
 */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

interface Entry {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: string;
  readonly Time?: Date;
}

/** An entry's size as EventBridge counts it: Time 14 bytes; Source, DetailType and Detail in UTF-8. */
export function entryBytes(e: Entry): number {
  return (
    (e.Time ? 14 : 0) +
    Buffer.byteLength(e.Source, 'utf8') +
    Buffer.byteLength(e.DetailType, 'utf8') +
    Buffer.byteLength(e.Detail, 'utf8')
  );
}

/** The entries in order, cut into PutEvents calls of at most BATCH entries and PUT_EVENTS_MAX_BYTES. */
export function putEventsBatches<T extends Entry>(entries: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entryBytes(entry);
    if (current.length && (current.length >= BATCH || bytes + size >= PUT_EVENTS_MAX_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length) batches.push(current);
  return batches;
}

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly eventBridge: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly RegistryEvent[]): Promise<void> {
    // Each entry bounded under EventBridge's 256 KB (functions/domain/event-size.ts).
    const entries = events.map((e) => ({
      EventBusName: this.busName,
      ...putEventsEntry(boundedForPublishing(e)),
    }));
    for (const batch of putEventsBatches(entries)) {
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
