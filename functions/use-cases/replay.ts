/**
 * Replay: publishes again the events recorded in a time range (the audit log is the outbox), so a
 * gap left by the relay (a record it dead-lettered, or records older than the stream's 24-hour
 * retention while it was down) is closed. Every event keeps its `event_id`: consumers, who must
 * dedupe anyway (delivery is at least once), see a replayed event they already have as a
 * duplicate. A dry run lists what would be published and publishes nothing.
 */
import { InvalidParameterError } from '../domain/errors';
import type { RegistryEvent } from '../domain/events';
import type { RegistryCore } from './core';

/** Publishes events to the bus (functions/adapters/eventbridge/publisher.ts). */
export interface EventSink {
  publish(events: readonly RegistryEvent[]): Promise<void>;
}

export interface ReplayRequest {
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive. */
  readonly to: number;
  /** Only this model's events (by its current name). */
  readonly modelName?: string | undefined;
  /** Only the events of this model id (a deleted or renamed model's too). */
  readonly modelId?: string | undefined;
  readonly dryRun: boolean;
  readonly pageToken?: string | undefined;
}

export interface ReplayPage {
  readonly events: RegistryEvent[];
  readonly published: number;
  readonly dryRun: boolean;
  readonly nextPageToken?: string;
}

/** Items examined per request at most (the rest continues with the page token). */
export const REPLAY_PAGE_ITEMS = 2_000;

export class EventReplay {
  constructor(
    private readonly core: RegistryCore,
    private readonly sink: EventSink | undefined,
  ) {}

  async replay(request: ReplayRequest): Promise<ReplayPage> {
    if (!(request.to > request.from)) {
      throw new InvalidParameterError("Invalid time range: 'to' must be after 'from'.");
    }
    if (request.modelName !== undefined && request.modelId !== undefined) {
      throw new InvalidParameterError('Give a model name or a model id, not both.');
    }
    const modelId =
      request.modelId ??
      (request.modelName !== undefined ? (await this.core.requireModel(request.modelName)).id : undefined);
    const page = await this.core.repo.auditRange({
      from: request.from,
      to: request.to,
      ...(modelId ? { modelId } : {}),
      maxItems: REPLAY_PAGE_ITEMS,
      ...(request.pageToken ? { pageToken: request.pageToken } : {}),
    });
    const events = [...page.items].sort(
      (a, b) =>
        a.detail.occurred_at - b.detail.occurred_at || (a.detail.event_id < b.detail.event_id ? -1 : 1),
    );
    if (!request.dryRun && events.length) {
      if (!this.sink) throw new Error('This function cannot publish events (no event bus configured).');
      await this.sink.publish(events);
    }
    return {
      events,
      published: request.dryRun ? 0 : events.length,
      dryRun: request.dryRun,
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    };
  }
}
