/** Lambda entry point of the `write` group (mutations of models, versions, stages, aliases, tags; event replay). */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgePublisher } from '../adapters/eventbridge/publisher';
import { buildApiHandler } from './api-factory';
import { readEnvironment } from './runtime';

const env = readEnvironment();
const bus = env.EVENT_BUS_NAME;

export const handler = buildApiHandler('write', env, {
  ...(bus ? { eventPublisher: () => new EventBridgePublisher(new EventBridgeClient({}), bus) } : {}),
});
