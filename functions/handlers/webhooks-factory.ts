/**
 * The webhook delivery function. Its two triggers:
 * - each registry event MLflow has a webhook event for (the `deliverWebhooks` rule on the bus):
 *   records one delivery per matching webhook (idempotently: a redelivered event records nothing
 *   new) and makes the first attempts. If recording fails the invocation fails, and EventBridge's
 *   retries (then the dead-letter queue) bring the event back: nothing committed is lost;
 * - a schedule (deployed: every minute; local mode: a timer): the retry pass, which attempts every
 *   delivery whose next attempt is due.
 * Locally the same handler runs behind the same rule in the local event router.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import type { Resolver } from '../adapters/http/webhook-transport';
import { EVENT_SOURCE, eventDetailSchema } from '../domain/events';
import { documentClient, type Environment, logger, type SdkCallObserver } from './runtime';
import { webhookService } from './webhook-runtime';

const registryEvent = z.object({
  source: z.literal(EVENT_SOURCE),
  'detail-type': z.string(),
  detail: eventDetailSchema,
});

export type WebhookDeliveryHandler = middy.MiddyfiedHandler<unknown, Record<string, unknown>>;

/** What the retry pass leaves of the function's time, for the attempts in flight to finish. */
const MARGIN_MS = 5_000;

export function buildWebhookDeliveryHandler(
  env: Environment,
  options: { observe?: SdkCallObserver; resolve?: Resolver } = {},
): WebhookDeliveryHandler {
  const service = webhookService(env, documentClient(env, options.observe), options);
  return middy<unknown, Record<string, unknown>>()
    .use(injectLambdaContext(logger))
    .handler(async (event, context: Context) => {
      const parsed = registryEvent.safeParse(event);
      if (parsed.success) {
        const { 'detail-type': type, detail } = parsed.data;
        const deliveries = await service.deliver({ type: type as never, detail });
        if (deliveries.length > 0) {
          logger.info('Webhook deliveries', {
            event_id: detail.event_id,
            deliveries: deliveries.map((d) => ({ id: d.deliveryId, webhook: d.webhookId, status: d.status })),
          });
        }
        return { delivered: deliveries.length };
      }
      // Anything else is the schedule (EventBridge's Scheduled Event, or the local timer).
      const deadline = Date.now() + context.getRemainingTimeInMillis() - MARGIN_MS;
      const report = await service.retryDue(deadline);
      if (report.attempted > 0) logger.info('Webhook retry pass', { ...report });
      return { ...report };
    });
}
