/**
 * MLflow's webhooks, delivered durably. Two halves on the same storage:
 *
 * - Management (the API's write and read functions): create, read, list, update, delete and test
 *   a webhook; the delivery log and redelivery. Every change of a webhook is recorded with its
 *   event (WebhookCreated/Updated/Deleted) in the same write, like every change of the registry.
 * - Delivery (the delivery function, behind a rule on the registry's bus): each event the outbox
 *   relay publishes becomes one delivery record per matching ACTIVE webhook, with an id derived from
 *   the webhook and the event, written only if absent (a redelivered event adds nothing), then
 *   attempted. A failed attempt schedules the next with backoff; the retry pass (a schedule)
 *   attempts whatever is due; after the last attempt the delivery is DEAD until redelivered.
 *
 * An attempt first claims the delivery (a conditional write that counts the attempt and holds it
 * for a lease), so two runners never send the same delivery at once; a runner that dies
 * mid-attempt leaves it to the retry pass once the lease ends. Delivery is at least once: a
 * receiver dedupes on X-MLflow-Delivery-Id.
 */
import { randomUUID } from 'node:crypto';
import { InvalidParameterError, ResourceNotFoundError } from '../domain/errors';
import { type RegistryEvent, webhookChangeEvent } from '../domain/events';
import type { Principal } from '../domain/identity';
import {
  afterFailure,
  assertWebhookDescription,
  assertWebhookEvents,
  assertWebhookName,
  assertWebhookSecret,
  assertWebhookUrl,
  type DeliverySettings,
  delivered,
  deliveryHeaders,
  deliveryIdFor,
  EXAMPLE_PAYLOADS,
  urlOrigin,
  type Webhook,
  type WebhookDelivery,
  type WebhookEventName,
  type WebhookStatus,
  webhookBody,
  webhookMessage,
} from '../domain/webhooks';
import {
  type AttemptOutcome,
  type Clock,
  type Page,
  type SecretSealer,
  systemClock,
  type WebhooksPort,
  type WebhookTransport,
} from './ports';

export interface CreateWebhookInput {
  readonly name: string;
  readonly url: string;
  readonly events: readonly WebhookEventName[];
  readonly description?: string | undefined;
  /** Empty or absent: deliveries are not signed. */
  readonly secret?: string | undefined;
  readonly status?: WebhookStatus | undefined;
}

/** MLflow's update: each absent (or empty) field stays as it is. */
export interface UpdateWebhookInput {
  readonly name?: string | undefined;
  readonly url?: string | undefined;
  readonly events?: readonly WebhookEventName[] | undefined;
  readonly description?: string | undefined;
  readonly secret?: string | undefined;
  readonly status?: WebhookStatus | undefined;
}

/** MLflow's WebhookTestResult. */
export interface WebhookTestResult {
  readonly success: boolean;
  readonly responseStatus?: number;
  readonly responseBody?: string;
  readonly errorMessage?: string;
}

export interface RetryReport {
  readonly attempted: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly dead: number;
}

/** The encryption context of a webhook's secret. */
const secretContext = (webhookId: string) => ({ purpose: 'webhook-secret', webhook_id: webhookId });

/** How long an opened secret is kept in memory (fewer KMS calls; a changed secret has a new seal). */
const SECRET_CACHE_MS = 5 * 60_000;

export class WebhookService {
  private readonly secrets = new Map<string, { plaintext: string; until: number }>();

  constructor(
    private readonly store: WebhooksPort,
    private readonly sealer: SecretSealer,
    private readonly transport: WebhookTransport,
    readonly settings: DeliverySettings,
    private readonly clock: Clock = systemClock,
    private readonly random: () => number = Math.random,
  ) {}

  // ---------------------------------------------------------------- management

  async create(input: CreateWebhookInput, caller: Principal): Promise<Webhook> {
    const name = assertWebhookName(input.name);
    await this.assertTarget(input.url);
    const events = assertWebhookEvents(input.events);
    const description = assertWebhookDescription(input.description ?? '');
    const secret = input.secret ? assertWebhookSecret(input.secret) : undefined;
    const now = this.clock.now();
    const id = randomUUID();
    const webhook: Webhook = {
      id,
      name,
      description,
      url: input.url,
      events,
      status: input.status ?? 'ACTIVE',
      ...(secret ? { sealedSecret: await this.sealer.seal(secret, secretContext(id)) } : {}),
      creationTimestamp: now,
      lastUpdatedTimestamp: now,
      createdBy: caller.arn,
    };
    await this.store.createWebhook(
      webhook,
      webhookChangeEvent('WebhookCreated', { now, actor: caller, webhook, data: stateOf(webhook) }),
    );
    return webhook;
  }

  async get(id: string): Promise<Webhook> {
    const webhook = await this.store.getWebhook(id);
    if (!webhook) throw new ResourceNotFoundError(`Webhook with ID ${id} not found.`);
    return webhook;
  }

  list(options: { maxResults: number; pageToken?: string | undefined }): Promise<Page<Webhook>> {
    return this.store.listWebhooks({
      maxResults: options.maxResults,
      ...(options.pageToken ? { pageToken: options.pageToken } : {}),
    });
  }

  async update(id: string, input: UpdateWebhookInput, caller: Principal): Promise<Webhook> {
    const current = await this.get(id);
    const name = input.name ? assertWebhookName(input.name) : current.name;
    if (input.url) await this.assertTarget(input.url);
    const events = input.events?.length ? assertWebhookEvents(input.events) : current.events;
    const description = input.description ? assertWebhookDescription(input.description) : current.description;
    const secret = input.secret ? assertWebhookSecret(input.secret) : undefined;
    // A timestamp that always moves: it is also what a concurrent update is detected by.
    const now = Math.max(this.clock.now(), current.lastUpdatedTimestamp + 1);
    const next: Webhook = {
      ...current,
      name,
      url: input.url || current.url,
      events,
      description,
      status: input.status ?? current.status,
      ...(secret ? { sealedSecret: await this.sealer.seal(secret, secretContext(id)) } : {}),
      lastUpdatedTimestamp: now,
    };
    await this.store.updateWebhook(
      current,
      next,
      webhookChangeEvent('WebhookUpdated', {
        now,
        actor: caller,
        webhook: next,
        data: { before: stateOf(current), after: stateOf(next), secret_changed: secret !== undefined },
      }),
    );
    return next;
  }

  async delete(id: string, caller: Principal): Promise<void> {
    const webhook = await this.get(id);
    const now = this.clock.now();
    await this.store.deleteWebhook(
      webhook,
      webhookChangeEvent('WebhookDeleted', { now, actor: caller, webhook, data: stateOf(webhook) }),
    );
  }

  /**
   * MLflow's test_webhook: sends the example payload of `event` (default: the webhook's first
   * event), signed as a delivery is, and reports the answer. Nothing is recorded.
   */
  async test(id: string, event?: WebhookEventName): Promise<WebhookTestResult> {
    const webhook = await this.get(id);
    const chosen = event ?? webhook.events[0]!;
    try {
      const now = this.clock.now();
      const body = webhookBody(chosen, EXAMPLE_PAYLOADS[chosen], now);
      const secret = await this.secretOf(webhook);
      const result = await this.transport.post(
        webhook.url,
        deliveryHeaders(randomUUID(), body, now, secret),
        body,
      );
      if (result.kind === 'error')
        return { success: false, errorMessage: `Failed to test webhook: ${result.error}` };
      return { success: result.status < 400, responseStatus: result.status, responseBody: result.body };
    } catch (err) {
      return { success: false, errorMessage: `Failed to test webhook: ${(err as Error).message}` };
    }
  }

  async deliveries(
    id: string,
    options: { maxResults: number; pageToken?: string | undefined },
  ): Promise<Page<WebhookDelivery>> {
    await this.get(id);
    return this.store.listDeliveries(id, {
      maxResults: options.maxResults,
      ...(options.pageToken ? { pageToken: options.pageToken } : {}),
    });
  }

  /** Sends a FAILED or DEAD delivery again now (its attempts counted afresh) and reports how it went. */
  async redeliver(id: string, deliveryId: string): Promise<WebhookDelivery> {
    await this.get(id);
    const delivery = await this.store.getDelivery(id, deliveryId);
    if (!delivery) throw new ResourceNotFoundError(`Delivery ${deliveryId} of webhook ${id} not found.`);
    if (delivery.status !== 'FAILED' && delivery.status !== 'DEAD') {
      throw new InvalidParameterError(
        `Delivery ${deliveryId} is ${delivery.status}; only a FAILED or DEAD delivery can be redelivered.`,
      );
    }
    const reset = await this.store.resetDelivery(delivery, this.clock.now());
    return (await this.attempt(reset)) ?? (await this.store.getDelivery(id, deliveryId)) ?? reset;
  }

  // ---------------------------------------------------------------- delivery

  /**
   * Records the deliveries of a registry event: one per ACTIVE webhook subscribed to its MLflow
   * event and created before it. Returns those recorded now (a redelivered event records none).
   */
  async record(event: Pick<RegistryEvent, 'type' | 'detail'>): Promise<WebhookDelivery[]> {
    const message = webhookMessage(event);
    if (!message) return [];
    const occurred = event.detail.occurred_at;
    const targets = (await this.store.allWebhooks()).filter(
      (w) => w.status === 'ACTIVE' && w.events.includes(message.event) && w.creationTimestamp <= occurred,
    );
    const body = webhookBody(message.event, message.payload, occurred);
    const now = this.clock.now();
    const recorded: WebhookDelivery[] = [];
    for (const webhook of targets) {
      const delivery: WebhookDelivery = {
        webhookId: webhook.id,
        deliveryId: deliveryIdFor(webhook.id, event.detail.event_id, occurred),
        eventId: event.detail.event_id,
        eventType: event.type,
        event: message.event,
        body,
        status: 'PENDING',
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
        updatedAt: now,
      };
      if (await this.store.recordDelivery(delivery)) recorded.push(delivery);
    }
    return recorded;
  }

  /** Records an event's deliveries and makes their first attempts. */
  async deliver(event: Pick<RegistryEvent, 'type' | 'detail'>): Promise<WebhookDelivery[]> {
    const recorded = await this.record(event);
    const settled = await Promise.all(recorded.map((d) => this.attempt(d)));
    return settled.filter((d): d is WebhookDelivery => d !== undefined);
  }

  /**
   * One attempt of a delivery, if it can be claimed (undefined: another runner has it, or it is
   * not due). The webhook is read now: its URL and secret of the moment apply.
   */
  async attempt(delivery: WebhookDelivery): Promise<WebhookDelivery | undefined> {
    const now = this.clock.now();
    const claimed = await this.store.claimDelivery(delivery, now, now + this.leaseMs());
    if (!claimed) return undefined;
    const outcome = await this.send(claimed);
    return this.store.settleDelivery(claimed, outcome, this.clock.now());
  }

  /** The retry pass: attempts every due delivery until none is left or the deadline comes. */
  async retryDue(deadline: number, batch = 25): Promise<RetryReport> {
    const report = { attempted: 0, succeeded: 0, failed: 0, dead: 0 };
    // Each round claims what it attempts (moving it out of the due range), so rounds end.
    for (let round = 0; round < 1000; round++) {
      if (this.clock.now() + this.settings.timeoutMs + 1000 > deadline) break;
      const due = await this.store.dueDeliveries(this.clock.now(), batch);
      if (due.length === 0) break;
      const results = await Promise.all(due.map((d) => this.attempt(d)));
      for (const r of results) {
        if (!r) continue;
        report.attempted++;
        if (r.status === 'SUCCEEDED') report.succeeded++;
        else if (r.status === 'DEAD') report.dead++;
        else report.failed++;
      }
      if (results.every((r) => r === undefined)) break;
    }
    return report;
  }

  // ---------------------------------------------------------------- internals

  /** An attempt holds its delivery this long (longer than it can take). */
  private leaseMs(): number {
    return this.settings.timeoutMs + 15_000;
  }

  private async send(claimed: WebhookDelivery): Promise<AttemptOutcome> {
    const failed = (error: string, responseStatus?: number): AttemptOutcome => {
      const next = afterFailure(claimed.attempts, this.clock.now(), this.settings, this.random);
      return {
        kind: 'failed',
        error,
        ...(responseStatus !== undefined ? { responseStatus } : {}),
        ...(next.status === 'FAILED' ? { nextAttemptAt: next.nextAttemptAt } : {}),
      };
    };
    const webhook = await this.store.getWebhook(claimed.webhookId);
    if (!webhook) return { kind: 'failed', error: 'The webhook was deleted.' };
    if (webhook.status !== 'ACTIVE') {
      return { kind: 'failed', error: 'The webhook is DISABLED; enable it, then redeliver.' };
    }
    let secret: string | undefined;
    try {
      secret = await this.secretOf(webhook);
    } catch (err) {
      return failed(`The webhook's secret could not be opened: ${(err as Error).message}`);
    }
    const result = await this.transport.post(
      webhook.url,
      deliveryHeaders(claimed.deliveryId, claimed.body, this.clock.now(), secret),
      claimed.body,
    );
    if (result.kind === 'error') return failed(result.error);
    if (delivered(result.status)) return { kind: 'succeeded', responseStatus: result.status };
    const why =
      result.status >= 300 && result.status < 400
        ? `The receiver answered ${result.status} (redirects are not followed)`
        : `The receiver answered ${result.status}`;
    return failed(result.body ? `${why}: ${result.body.slice(0, 200)}` : why, result.status);
  }

  private async secretOf(webhook: Webhook): Promise<string | undefined> {
    if (!webhook.sealedSecret) return undefined;
    const cached = this.secrets.get(webhook.sealedSecret);
    const now = this.clock.now();
    if (cached && cached.until > now) return cached.plaintext;
    const plaintext = await this.sealer.open(webhook.sealedSecret, secretContext(webhook.id));
    if (this.secrets.size > 200) this.secrets.clear();
    this.secrets.set(webhook.sealedSecret, { plaintext, until: now + SECRET_CACHE_MS });
    return plaintext;
  }

  /**
   * The URL's form, and (deployed) that it is https and points at a public address. MLflow also
   * takes http; deployed, the registry does not send signed payloads in clear text (local mode
   * takes http, for receivers on 127.0.0.1).
   */
  private async assertTarget(url: string): Promise<void> {
    const parsed = assertWebhookUrl(url);
    if (this.settings.allowPrivateTargets) return;
    if (parsed.protocol !== 'https:') {
      throw new InvalidParameterError(
        `Webhook URL must use https: ${parsed.origin} would carry signed payloads in clear text (http is accepted in local mode only).`,
      );
    }
    const refused = await this.transport.check(url);
    if (refused) throw new InvalidParameterError(refused);
  }
}

/** A webhook as its events record it (no secret; only the URL's origin). */
function stateOf(w: Webhook) {
  return {
    name: w.name,
    url_origin: urlOrigin(w.url),
    events: [...w.events],
    status: w.status,
    description: w.description,
    has_secret: w.sealedSecret !== undefined,
  };
}
