/** Builds the relay handler (functions/handlers/relay.ts) around a publisher. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { EventPublisher } from '../adapters/eventbridge/publisher';
import type { DeadLetterSink } from '../adapters/sqs/dead-letter';
import type { RegistryEvent } from '../domain/events';
import { OUTBOX_SORT_KEY_PREFIX } from '../wiring/event-rules';
import { type Environment, logger } from './runtime';

/** The event an outbox record carries, or undefined for any other change. */
export function outboxEvent(record: DynamoDBStreamEvent['Records'][number]): RegistryEvent | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  const image = record.dynamodb.NewImage as Record<string, { S?: string }>;
  if (!image.sk?.S?.startsWith(OUTBOX_SORT_KEY_PREFIX) || !image.event?.S) return undefined;
  return JSON.parse(image.event.S) as RegistryEvent;
}

export type RelayHandler = middy.MiddyfiedHandler<DynamoDBStreamEvent, DynamoDBBatchResponse>;

export interface RelayOptions {
  /**
   * Where a record that could not be published after `attempts` tries goes, whole (event and table
   * key); the relay then moves on. Without one, the batch is retried from that record by the event
   * source mapping (whose on-failure destination records only the batch's metadata).
   */
  readonly deadLetter?: DeadLetterSink;
  /** Tries per record within one invocation. */
  readonly attempts?: number;
  /** Delay before the second try; doubled for each further one. */
  readonly backoffMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function buildRelayHandler(
  _env: Environment,
  publisher: EventPublisher,
  options: RelayOptions = {},
): RelayHandler {
  const attempts = Math.max(1, options.attempts ?? 3);
  const backoffMs = options.backoffMs ?? 250;
  const publishWithRetries = async (event: RegistryEvent): Promise<unknown> => {
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await publisher.publish([event]);
        return undefined;
      } catch (err) {
        lastError = err;
        if (attempt < attempts) await sleep(backoffMs * 2 ** (attempt - 1));
      }
    }
    return lastError ?? new Error('Publishing failed');
  };

  return middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
    .use(injectLambdaContext(logger))
    .handler(async (event) => {
      // In order; a record that cannot be published stops the batch (retried from it), unless it is
      // dead-lettered whole, after which the relay moves on.
      for (const record of event.Records) {
        const published = outboxEvent(record);
        if (!published) continue;
        const error = await publishWithRetries(published);
        if (error === undefined) continue;
        const retryFromHere = {
          batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }],
        };
        if (!options.deadLetter) {
          logger.error('Publishing failed; the batch is retried from this record', { error: error as Error });
          return retryFromHere;
        }
        const image = record.dynamodb?.NewImage as Record<string, { S?: string }>;
        const d = published.detail;
        try {
          await options.deadLetter.send({
            reason:
              `Not published after ${attempts} tries: ${error instanceof Error ? error.message : String(error)}`.slice(
                0,
                1000,
              ),
            table_key: { pk: image.pk?.S ?? '', sk: image.sk?.S ?? '' },
            event_id: d.event_id,
            event_type: published.type,
            occurred_at: d.occurred_at,
            ...(d.model ? { model: { id: d.model.id, name: d.model.name } } : {}),
            event: published,
            replay: `mreg events replay --from ${d.occurred_at} --to ${d.occurred_at + 1}${d.model ? ` --model-id ${d.model.id}` : ''}`,
          });
          logger.error('Publishing failed; the event was dead-lettered whole for replay', {
            error: error as Error,
            eventId: d.event_id,
          });
        } catch (deadLetterError) {
          logger.error('Publishing and dead-lettering failed; the batch is retried from this record', {
            error: error as Error,
            deadLetterError: deadLetterError as Error,
          });
          return retryFromHere;
        }
      }
      return { batchItemFailures: [] };
    });
}
