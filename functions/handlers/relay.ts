/**
 * The outbox relay: the table's stream delivers every inserted audit entry (the event recorded in
 * the same transaction as its change) and the relay publishes it to the bus. A failed batch is
 * reported item by item so the event source mapping retries from the first unpublished record;
 * after its retries the records go to the dead-letter queue (see lib/). Locally the same function
 * runs on DynamoDB Local's stream (local/outbox.ts).
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgePublisher, type EventPublisher } from '../adapters/eventbridge/publisher';
import { buildRelayHandler } from './relay-factory';
import { readEnvironment } from './runtime';

const env = readEnvironment();
const bus = env.EVENT_BUS_NAME;
if (!bus) throw new Error('Invalid function configuration: EVENT_BUS_NAME is not set');
const publisher: EventPublisher = new EventBridgePublisher(new EventBridgeClient({}), bus);

export const handler = buildRelayHandler(env, publisher);
