/**
 * `mreg webhooks …`: MLflow's webhooks (registry-wide subscriptions of a URL to MLflow events such
 * as `model_version.created`), their delivery log and redelivery.
 */
import type { Command } from 'commander';
import type { Webhook, WebhookDelivery } from '../../sdk';
import { client, emit, emitPages, type PageOptions, withPaging } from '../context';
import { listing, table, time } from '../format';
import { collect } from '../options';

function webhookDetails(w: Webhook): string {
  return listing([
    ['id', w.webhook_id],
    ['name', w.name],
    ['url', w.url],
    ['events', w.events.join(', ')],
    ['status', w.status],
    ['signed', w.has_secret ? 'yes (secret set)' : 'no'],
    ['description', w.description],
    ['created', time(w.creation_timestamp)],
    ['updated', time(w.last_updated_timestamp)],
  ]);
}

const webhooksTable = (webhooks: readonly Webhook[]) =>
  table(
    ['ID', 'NAME', 'STATUS', 'EVENTS', 'URL'],
    webhooks.map((w) => [w.webhook_id, w.name, w.status, w.events.join(','), w.url]),
  );

const deliveriesTable = (deliveries: readonly WebhookDelivery[]) =>
  table(
    ['DELIVERY ID', 'EVENT', 'STATUS', 'ATTEMPTS', 'LAST ANSWER', 'NEXT ATTEMPT', 'ERROR'],
    deliveries.map((d) => [
      d.delivery_id,
      d.event,
      d.status,
      String(d.attempts),
      d.last_response_status !== undefined ? String(d.last_response_status) : '',
      time(d.next_attempt_timestamp),
      d.last_error ?? '',
    ]),
  );

interface WebhookOptions {
  name?: string;
  url?: string;
  event?: string[];
  description?: string;
  secret?: string;
  status?: string;
}

const fields = (o: WebhookOptions) => ({
  ...(o.name !== undefined ? { name: o.name } : {}),
  ...(o.url !== undefined ? { url: o.url } : {}),
  ...(o.event?.length ? { events: o.event } : {}),
  ...(o.description !== undefined ? { description: o.description } : {}),
  ...(o.secret !== undefined ? { secret: o.secret } : {}),
  ...(o.status !== undefined ? { status: o.status } : {}),
});

export function registerWebhookCommands(program: Command): void {
  const hooks = program
    .command('webhooks')
    .description("webhooks (MLflow's): deliveries of registry changes to a URL, signed, with retries");

  hooks
    .command('create')
    .description('create a webhook')
    .argument('<name>', 'webhook name (letters, digits, . _ -)')
    .argument('<url>', 'the URL deliveries are POSTed to (https, deployed)')
    .requiredOption(
      '--event <entity.action>',
      'an MLflow event, e.g. model_version.created (repeatable)',
      collect,
    )
    .option('--secret <secret>', 'sign deliveries (X-MLflow-Signature); never shown again')
    .option('--description <text>', 'description')
    .option('--status <status>', 'ACTIVE (default) or DISABLED')
    .action(async (name: string, url: string, o: WebhookOptions, cmd: Command) => {
      const w = await client(cmd).createWebhook({ ...fields(o), name, url, events: o.event ?? [] });
      emit(cmd, { webhook: w }, () => webhookDetails(w));
    });

  withPaging(hooks.command('list').description('the webhooks, oldest first')).action(
    async (o: PageOptions, cmd: Command) => {
      await emitPages(cmd, 'webhooks', o, (page) => client(cmd).listWebhooks(page), webhooksTable);
    },
  );

  hooks
    .command('get')
    .description('a webhook')
    .argument('<webhook-id>', 'webhook id')
    .action(async (id: string, _o, cmd: Command) => {
      const w = await client(cmd).getWebhook(id);
      emit(cmd, { webhook: w }, () => webhookDetails(w));
    });

  hooks
    .command('update')
    .description('change the fields given (the others stay)')
    .argument('<webhook-id>', 'webhook id')
    .option('--name <name>', 'new name')
    .option('--url <url>', 'new URL')
    .option('--event <entity.action>', 'the new events (repeatable; replaces the list)', collect)
    .option('--secret <secret>', 'a new secret')
    .option('--description <text>', 'new description')
    .option('--status <status>', 'ACTIVE or DISABLED')
    .action(async (id: string, o: WebhookOptions, cmd: Command) => {
      const w = await client(cmd).updateWebhook(id, fields(o));
      emit(cmd, { webhook: w }, () => webhookDetails(w));
    });

  hooks
    .command('delete')
    .description('delete a webhook (its delivery log stays until it expires)')
    .argument('<webhook-id>', 'webhook id')
    .action(async (id: string, _o, cmd: Command) => {
      await client(cmd).deleteWebhook(id);
      emit(cmd, {}, () => `Deleted webhook ${id}.`);
    });

  hooks
    .command('test')
    .description("send an event's example payload now, signed, and show the answer")
    .argument('<webhook-id>', 'webhook id')
    .option('--event <entity.action>', "the event (default: the webhook's first)")
    .action(async (id: string, o: { event?: string }, cmd: Command) => {
      const result = await client(cmd).testWebhook(id, o.event);
      emit(cmd, { result }, () =>
        result.success
          ? `Delivered: the receiver answered ${result.response_status}.`
          : `Not delivered: ${result.error_message ?? `the receiver answered ${result.response_status}`}${result.response_body ? `\n${result.response_body}` : ''}`,
      );
    });

  withPaging(
    hooks
      .command('deliveries')
      .description("a webhook's delivery log, newest first")
      .argument('<webhook-id>', 'webhook id'),
  ).action(async (id: string, o: PageOptions, cmd: Command) => {
    await emitPages(
      cmd,
      'deliveries',
      o,
      (page) => client(cmd).listWebhookDeliveries(id, page),
      deliveriesTable,
    );
  });

  hooks
    .command('redeliver')
    .description('send a FAILED or DEAD delivery again now (same delivery id and body)')
    .argument('<webhook-id>', 'webhook id')
    .argument('<delivery-id>', 'delivery id (from mreg webhooks deliveries)')
    .action(async (id: string, deliveryId: string, _o, cmd: Command) => {
      const d = await client(cmd).redeliverWebhookDelivery(id, deliveryId);
      emit(cmd, { delivery: d }, () =>
        d.status === 'SUCCEEDED'
          ? `Delivered ${d.delivery_id}.`
          : `Delivery ${d.delivery_id} is ${d.status}${d.last_error ? `: ${d.last_error}` : ''}.`,
      );
    });
}
