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

/** EventBridge takes at most 10 entries per PutEvents call. */
const BATCH = 10;

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly eventBridge: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly RegistryEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += BATCH) {
      const batch = events.slice(i, i + BATCH);
      const out = await this.eventBridge.send(
        new PutEventsCommand({
          // Each entry bounded under EventBridge's 256 KB (functions/domain/event-size.ts).
          Entries: batch.map((e) => ({
            EventBusName: this.busName,
            ...putEventsEntry(boundedForPublishing(e)),
          })),
        }),
      );
      if (out.FailedEntryCount) {
        const failed = (out.Entries ?? []).filter((entry) => entry.ErrorCode);
        throw new Error(
          `EventBridge refused ${out.FailedEntryCount} of ${batch.length} events (${failed.map((f) => f.ErrorCode).join(', ')}); the batch will be retried.`,
        );
      }
    }
  }
}
