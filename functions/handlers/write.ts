/** Lambda entry point of the `write` group (mutations of models, versions, stages, aliases, tags; event replay). */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgePublisher } from '../adapters/eventbridge/publisher';
import { EVENT_BUS_NAME_ENV } from '../wiring/event-rules';
import { buildApiHandler } from './api-factory';
import { readEnvironment } from './runtime';

const bus = process.env[EVENT_BUS_NAME_ENV];

export const handler = buildApiHandler('write', readEnvironment(), {
  ...(bus ? { eventPublisher: () => new EventBridgePublisher(new EventBridgeClient({}), bus) } : {}),
});
