/**
 * The outbox relay: the table's stream delivers every inserted audit entry (the event recorded in
 * the same transaction as its change) and the relay publishes it to the bus. A record it cannot
 * publish after a few tries is sent whole (event and table key) to the relay's dead-letter queue
 * and the relay moves on, so one bad record never holds the stream until its 24-hour retention
 * ends; `mreg events replay` publishes it again. If dead-lettering fails too, the batch is
 * reported item by item so the event source mapping retries from that record. Locally the same
 * function runs on DynamoDB Local's stream (local/outbox.ts).
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgePublisher, type EventPublisher } from '../adapters/eventbridge/publisher';
import { SqsDeadLetterSink } from '../adapters/sqs/dead-letter';
import { EVENT_BUS_NAME_ENV, RELAY_DEAD_LETTER_QUEUE_URL_ENV } from '../wiring/event-rules';
import { buildRelayHandler } from './relay-factory';
import { readEnvironment } from './runtime';

const env = readEnvironment();
const bus = process.env[EVENT_BUS_NAME_ENV];
if (!bus) throw new Error(`Invalid function configuration: ${EVENT_BUS_NAME_ENV} is not set`);
const publisher: EventPublisher = new EventBridgePublisher(new EventBridgeClient({}), bus);
const queueUrl = process.env[RELAY_DEAD_LETTER_QUEUE_URL_ENV];

export const handler = buildRelayHandler(env, publisher, {
  ...(queueUrl ? { deadLetter: new SqsDeadLetterSink(new SQSClient({}), queueUrl) } : {}),
});
