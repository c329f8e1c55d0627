/** Builds the relay handler (functions/handlers/relay.ts) around a publisher. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { EventPublisher } from '../adapters/eventbridge/publisher';
import { OUTBOX_SORT_KEY_PREFIX } from '../deployment/event-rules';
import type { RegistryEvent } from '../domain/events';
import { type Environment, logger } from './runtime';

/** The event an outbox record carries, or undefined for any other change. */
export function outboxEvent(record: DynamoDBStreamEvent['Records'][number]): RegistryEvent | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  const image = record.dynamodb.NewImage as Record<string, { S?: string }>;
  if (!image.sk?.S?.startsWith(OUTBOX_SORT_KEY_PREFIX) || !image.event?.S) return undefined;
  return JSON.parse(image.event.S) as RegistryEvent;
}

export type RelayHandler = middy.MiddyfiedHandler<DynamoDBStreamEvent, DynamoDBBatchResponse>;

export function buildRelayHandler(_env: Environment, publisher: EventPublisher): RelayHandler {
  return middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
    .use(injectLambdaContext(logger))
    .handler(async (event) => {
      // In order; stop at the first failure so nothing after it is published ahead of it.
      for (const record of event.Records) {
        const published = outboxEvent(record);
        if (!published) continue;
        try {
          await publisher.publish([published]);
        } catch (err) {
          logger.error('Publishing failed; the batch is retried from this record', { error: err as Error });
          return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
        }
      }
      return { batchItemFailures: [] };
    });
}
