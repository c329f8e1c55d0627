/** Lambda entry point of the webhook delivery function (its rule on the bus, and its schedule). */
import { readEnvironment } from './runtime';
import { buildWebhookDeliveryHandler } from './webhooks-factory';

export const handler = buildWebhookDeliveryHandler(readEnvironment());
