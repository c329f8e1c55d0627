/**
 * The local stand-in for the registry's EventBridge bus: there is no EventBridge emulator, so the
 * local runtime routes events itself, with the same patterns the deployed rules use
 * (functions/wiring/event-rules.ts). Every event is also appended to an event log (a JSON-lines
 * file in the data directory, and GET /local/events) so a user can watch them go by.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EventPublisher } from '../functions/adapters/eventbridge/publisher';
import {
  boundedForPublishing,
  PUT_EVENTS_ENTRY_LIMIT,
  putEventsEntry,
  putEventsEntrySize,
} from '../functions/domain/event-size';
import { EVENT_SOURCE, type RegistryEvent } from '../functions/domain/events';
import { type EventPattern, matchesPattern } from '../functions/wiring/event-rules';

/** An event as EventBridge delivers it to a rule's target. */
export interface DeliveredEvent {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly time: string;
  readonly detail: RegistryEvent['detail'];
}

export interface LocalRule {
  readonly name: string;
  readonly pattern: EventPattern;
  readonly target: (event: DeliveredEvent) => Promise<void> | void;
  /**
   * The event counts as published only once the target has handled it: a target that fails fails
   * the publication, so the relay keeps the event and publishes it again (as EventBridge retries a
   * failed Lambda target). Without it, targets run after publication and a failure is only logged.
   */
  readonly durable?: boolean;
}

const LOG_LIMIT = 10_000;

export class LocalEventBus implements EventPublisher {
  private readonly rules: LocalRule[] = [];
  private readonly log: DeliveredEvent[] = [];
  private readonly listeners = new Set<(event: DeliveredEvent) => void>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly logFile?: string) {
    if (logFile) mkdirSync(dirname(logFile), { recursive: true });
  }

  addRule(rule: LocalRule): void {
    this.rules.push(rule);
  }

  /** Sees every event (tests). Returns the unsubscribe function. */
  subscribe(listener: (event: DeliveredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True when no rule target is still being invoked. */
  idle(): boolean {
    return this.inFlight.size === 0;
  }

  events(): readonly DeliveredEvent[] {
    return this.log;
  }

  async publish(events: readonly RegistryEvent[]): Promise<void> {
    // As EventBridge: an entry of 256 KB or more is refused (the publisher bounds each one first).
    const bounded = events.map((e) => boundedForPublishing(e));
    for (const e of bounded) {
      const size = putEventsEntrySize(putEventsEntry(e));
      if (size >= PUT_EVENTS_ENTRY_LIMIT) {
        throw new Error(
          `EventBridge refused an entry of ${size} bytes (the limit is ${PUT_EVENTS_ENTRY_LIMIT}); the batch will be retried.`,
        );
      }
    }
    for (const e of bounded) {
      const delivered: DeliveredEvent = {
        id: e.detail.event_id,
        source: EVENT_SOURCE,
        'detail-type': e.type,
        time: new Date(e.detail.occurred_at).toISOString(),
        detail: e.detail,
      };
      const matching = this.rules.filter((rule) =>
        matchesPattern(
          rule.pattern as Record<string, unknown>,
          delivered as unknown as Record<string, unknown>,
        ),
      );
      // Durable targets first: if one fails, the event is not published (nor logged) and the relay
      // publishes it again.
      for (const rule of matching.filter((r) => r.durable)) {
        const run = Promise.resolve().then(() => rule.target(delivered));
        this.inFlight.add(run);
        try {
          await run;
        } finally {
          this.inFlight.delete(run);
        }
      }
      this.log.push(delivered);
      if (this.log.length > LOG_LIMIT) this.log.shift();
      if (this.logFile) appendFileSync(this.logFile, `${JSON.stringify(delivered)}\n`);
      for (const listener of this.listeners) listener(delivered);
      for (const rule of matching.filter((r) => !r.durable)) {
        // Targets run asynchronously, as EventBridge invokes them.
        const run: Promise<unknown> = Promise.resolve()
          .then(() => rule.target(delivered))
          .catch((err) => console.error(`Local rule ${rule.name} failed:`, err))
          .finally(() => this.inFlight.delete(run));
        this.inFlight.add(run);
      }
    }
  }
}
