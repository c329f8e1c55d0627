/**
 * Webhooks and their delivery logs in the registry table (keys in keys.ts: `webhookKey`,
 * `deliveryKey`). A webhook's partition holds the webhook, its deliveries and its audit entries;
 * the sparse index gsi6 lists every webhook (`WEBHOOKS`) and the deliveries waiting for an attempt
 * (`WEBHOOK_DUE`, by the time of the next attempt), so the retry pass reads only what is due.
 */
import { ConcurrentModificationError, LimitExceededError, ResourceNotFoundError } from '../../domain/errors';
import type { RegistryEvent } from '../../domain/events';
import {
  type DeliveryStatus,
  MAX_WEBHOOKS,
  type Webhook,
  type WebhookDelivery,
  type WebhookEventName,
  type WebhookStatus,
} from '../../domain/webhooks';
import type { AttemptOutcome, Page, WebhooksPort } from '../../use-cases/ports';
import { TTL_ATTRIBUTE } from '../../wiring/table';
import {
  DUE_DELIVERIES_PARTITION,
  deliveryKey,
  padTime,
  WEBHOOKS_PARTITION,
  webhookKey,
  webhookPartition,
} from './keys';
import { type PageTokens, queryFingerprint } from './page-token';
import { INDEXES, type Item, type RegistryTable, WriteRefused } from './table';

// ---------------------------------------------------------------- codecs

function webhookItem(w: Webhook): Item {
  return {
    ...webhookKey.primary(w.id),
    ...webhookKey.index(w.id, w.creationTimestamp),
    entity: 'Webhook',
    webhookId: w.id,
    name: w.name,
    description: w.description,
    url: w.url,
    events: [...w.events],
    status: w.status,
    ...(w.sealedSecret ? { sealedSecret: w.sealedSecret } : {}),
    creationTimestamp: w.creationTimestamp,
    lastUpdatedTimestamp: w.lastUpdatedTimestamp,
    createdBy: w.createdBy,
  };
}

function toWebhook(item: Item): Webhook {
  return {
    id: item.webhookId as string,
    name: item.name as string,
    description: (item.description as string | undefined) ?? '',
    url: item.url as string,
    events: item.events as WebhookEventName[],
    status: item.status as WebhookStatus,
    ...(item.sealedSecret ? { sealedSecret: item.sealedSecret as string } : {}),
    creationTimestamp: item.creationTimestamp as number,
    lastUpdatedTimestamp: item.lastUpdatedTimestamp as number,
    createdBy: (item.createdBy as string | undefined) ?? '',
  };
}

/** Statuses with another attempt to come, kept in the due index. */
const WAITING: readonly DeliveryStatus[] = ['PENDING', 'FAILED'];

function deliveryItem(d: WebhookDelivery, retentionSeconds: number): Item {
  return {
    ...deliveryKey.primary(d.webhookId, d.deliveryId),
    ...(WAITING.includes(d.status) && d.nextAttemptAt !== undefined
      ? deliveryKey.due(d.nextAttemptAt, d.webhookId, d.deliveryId)
      : {}),
    entity: 'WebhookDelivery',
    webhookId: d.webhookId,
    deliveryId: d.deliveryId,
    eventId: d.eventId,
    eventType: d.eventType,
    event: d.event,
    body: d.body,
    status: d.status,
    attempts: d.attempts,
    ...(d.nextAttemptAt !== undefined ? { nextAttemptAt: d.nextAttemptAt } : {}),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    [TTL_ATTRIBUTE]: Math.floor(d.createdAt / 1000) + retentionSeconds,
  };
}

function toDelivery(item: Item): WebhookDelivery {
  const opt = <K extends string>(key: K) =>
    item[key] === undefined || item[key] === null ? {} : { [key]: item[key] };
  return {
    webhookId: item.webhookId as string,
    deliveryId: item.deliveryId as string,
    eventId: item.eventId as string,
    eventType: item.eventType as string,
    event: item.event as WebhookEventName,
    body: item.body as string,
    status: item.status as DeliveryStatus,
    attempts: (item.attempts as number | undefined) ?? 0,
    ...(opt('nextAttemptAt') as { nextAttemptAt?: number }),
    ...(opt('lastAttemptAt') as { lastAttemptAt?: number }),
    ...(opt('lastResponseStatus') as { lastResponseStatus?: number }),
    ...(opt('lastError') as { lastError?: string }),
    createdAt: item.createdAt as number,
    updatedAt: item.updatedAt as number,
  };
}

// ---------------------------------------------------------------- the store

export class DynamoDbWebhookStore implements WebhooksPort {
  constructor(
    private readonly table: RegistryTable,
    private readonly tokens: PageTokens,
    /** How long delivery records are kept (DynamoDB TTL). */
    private readonly retentionSeconds = 30 * 24 * 3600,
  ) {}

  private get t() {
    return this.table.name;
  }

  async createWebhook(webhook: Webhook, event: RegistryEvent): Promise<void> {
    // Every event is matched against every webhook: their number is bounded (checked before the
    // write; two concurrent creates may pass it together, by one).
    if ((await this.countWebhooks()) >= MAX_WEBHOOKS) {
      throw new LimitExceededError(
        `The registry has ${MAX_WEBHOOKS} webhooks, its limit (docs/limits.md); delete one first.`,
      );
    }
    await this.table.write(
      [
        {
          Put: {
            TableName: this.t,
            Item: webhookItem(webhook),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
      [event],
    );
  }

  async getWebhook(id: string): Promise<Webhook | undefined> {
    const item = await this.table.get(webhookKey.primary(id), true);
    return item ? toWebhook(item) : undefined;
  }

  listWebhooks(options: { maxResults: number; pageToken?: string }): Promise<Page<Webhook>> {
    const fingerprint = queryFingerprint(['webhooks']);
    return this.table.stream({
      tokens: this.tokens,
      fingerprint,
      cursor: this.tokens.decode(options.pageToken, fingerprint),
      index: INDEXES.byOpenRequest,
      partition: WEBHOOKS_PARTITION,
      ascending: true,
      maxResults: options.maxResults,
      convert: toWebhook,
    });
  }

  async allWebhooks(): Promise<Webhook[]> {
    const out: Webhook[] = [];
    let start: Item | undefined;
    do {
      const page = await this.table.query({
        IndexName: INDEXES.byOpenRequest.indexName,
        KeyConditionExpression: 'gsi6pk = :p',
        ExpressionAttributeValues: { ':p': WEBHOOKS_PARTITION },
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      out.push(...page.items.map(toWebhook));
      start = page.last;
    } while (start);
    return out;
  }

  private async countWebhooks(): Promise<number> {
    let count = 0;
    let start: Item | undefined;
    do {
      const page = await this.table.query({
        IndexName: INDEXES.byOpenRequest.indexName,
        KeyConditionExpression: 'gsi6pk = :p',
        ExpressionAttributeValues: { ':p': WEBHOOKS_PARTITION },
        ProjectionExpression: 'pk',
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      count += page.items.length;
      start = page.last;
    } while (start);
    return count;
  }

  async updateWebhook(current: Webhook, next: Webhook, event: RegistryEvent): Promise<void> {
    try {
      await this.table.write(
        [
          {
            Put: {
              TableName: this.t,
              Item: webhookItem(next),
              ConditionExpression: 'attribute_exists(pk) AND lastUpdatedTimestamp = :seen',
              ExpressionAttributeValues: { ':seen': current.lastUpdatedTimestamp },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
        [event],
      );
    } catch (err) {
      if (err instanceof WriteRefused && err.failed(0)) {
        if (!err.item(0)) throw notFoundWebhook(current.id);
        throw new ConcurrentModificationError(
          `Webhook ${current.id} was changed by another request meanwhile; nothing was changed. Retry the request.`,
        );
      }
      throw err;
    }
  }

  async deleteWebhook(webhook: Webhook, event: RegistryEvent): Promise<void> {
    try {
      await this.table.write(
        [
          {
            Delete: {
              TableName: this.t,
              Key: webhookKey.primary(webhook.id),
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
        ],
        [event],
      );
    } catch (err) {
      if (err instanceof WriteRefused && err.failed(0)) throw notFoundWebhook(webhook.id);
      throw err;
    }
  }

  async recordDelivery(delivery: WebhookDelivery): Promise<boolean> {
    try {
      await this.table.write([
        {
          Put: {
            TableName: this.t,
            Item: deliveryItem(delivery, this.retentionSeconds),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ]);
      return true;
    } catch (err) {
      if (err instanceof WriteRefused && err.failed(0)) return false;
      throw err;
    }
  }

  async getDelivery(webhookId: string, deliveryId: string): Promise<WebhookDelivery | undefined> {
    const item = await this.table.get(deliveryKey.primary(webhookId, deliveryId), true);
    return item ? toDelivery(item) : undefined;
  }

  listDeliveries(
    webhookId: string,
    options: { maxResults: number; pageToken?: string },
  ): Promise<Page<WebhookDelivery>> {
    const fingerprint = queryFingerprint(['deliveries', webhookId]);
    return this.table.stream({
      tokens: this.tokens,
      fingerprint,
      cursor: this.tokens.decode(options.pageToken, fingerprint),
      partition: webhookPartition(webhookId),
      sortKeyPrefix: deliveryKey.prefix,
      ascending: false,
      maxResults: options.maxResults,
      convert: toDelivery,
    });
  }

  async claimDelivery(
    delivery: WebhookDelivery,
    now: number,
    leaseUntil: number,
  ): Promise<WebhookDelivery | undefined> {
    try {
      const item = await this.table.update({
        Key: deliveryKey.primary(delivery.webhookId, delivery.deliveryId),
        UpdateExpression:
          'SET attempts = attempts + :one, nextAttemptAt = :lease, lastAttemptAt = :now, updatedAt = :now, gsi6pk = :due, gsi6sk = :dueSk',
        ConditionExpression:
          'attempts = :seen AND #status IN (:pending, :failed) AND (attribute_not_exists(nextAttemptAt) OR nextAttemptAt <= :now)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':one': 1,
          ':seen': delivery.attempts,
          ':lease': leaseUntil,
          ':now': now,
          ':pending': 'PENDING',
          ':failed': 'FAILED',
          ':due': DUE_DELIVERIES_PARTITION,
          ':dueSk': deliveryKey.due(leaseUntil, delivery.webhookId, delivery.deliveryId).gsi6sk,
        },
      });
      return toDelivery(item);
    } catch (err) {
      if (err instanceof WriteRefused) return undefined;
      throw err;
    }
  }

  async settleDelivery(
    claimed: WebhookDelivery,
    outcome: AttemptOutcome,
    now: number,
  ): Promise<WebhookDelivery> {
    const key = deliveryKey.primary(claimed.webhookId, claimed.deliveryId);
    const values: Item = { ':now': now, ':seen': claimed.attempts };
    let update: string;
    if (outcome.kind === 'succeeded') {
      update =
        'SET #status = :status, lastResponseStatus = :code, updatedAt = :now REMOVE nextAttemptAt, lastError, gsi6pk, gsi6sk';
      values[':status'] = 'SUCCEEDED';
      values[':code'] = outcome.responseStatus;
    } else {
      const sets = ['#status = :status', 'lastError = :error', 'updatedAt = :now'];
      const removes: string[] = [];
      values[':error'] = outcome.error.slice(0, 1000);
      if (outcome.responseStatus !== undefined) {
        sets.push('lastResponseStatus = :code');
        values[':code'] = outcome.responseStatus;
      } else {
        removes.push('lastResponseStatus');
      }
      if (outcome.nextAttemptAt !== undefined) {
        values[':status'] = 'FAILED';
        values[':next'] = outcome.nextAttemptAt;
        values[':dueSk'] = deliveryKey.due(
          outcome.nextAttemptAt,
          claimed.webhookId,
          claimed.deliveryId,
        ).gsi6sk;
        sets.push('nextAttemptAt = :next', 'gsi6sk = :dueSk');
      } else {
        values[':status'] = 'DEAD';
        removes.push('nextAttemptAt', 'gsi6pk', 'gsi6sk');
      }
      update = `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`;
    }
    try {
      return toDelivery(
        await this.table.update({
          Key: key,
          UpdateExpression: update,
          ConditionExpression: 'attempts = :seen',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      // Claimed again since (this attempt outlived its lease): the newer attempt records its own.
      if (err instanceof WriteRefused)
        return (await this.getDelivery(claimed.webhookId, claimed.deliveryId)) ?? claimed;
      throw err;
    }
  }

  async dueDeliveries(now: number, limit: number): Promise<WebhookDelivery[]> {
    const { items } = await this.table.query({
      IndexName: INDEXES.byOpenRequest.indexName,
      KeyConditionExpression: 'gsi6pk = :p AND gsi6sk <= :now',
      ExpressionAttributeValues: { ':p': DUE_DELIVERIES_PARTITION, ':now': `${padTime(now)}~` },
      Limit: limit,
    });
    return items.map(toDelivery);
  }

  async resetDelivery(delivery: WebhookDelivery, now: number): Promise<WebhookDelivery> {
    try {
      return toDelivery(
        await this.table.update({
          Key: deliveryKey.primary(delivery.webhookId, delivery.deliveryId),
          UpdateExpression:
            'SET #status = :pending, attempts = :zero, nextAttemptAt = :now, updatedAt = :now, gsi6pk = :due, gsi6sk = :dueSk',
          ConditionExpression: '#status IN (:failed, :dead)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':pending': 'PENDING',
            ':zero': 0,
            ':now': now,
            ':failed': 'FAILED',
            ':dead': 'DEAD',
            ':due': DUE_DELIVERIES_PARTITION,
            ':dueSk': deliveryKey.due(now, delivery.webhookId, delivery.deliveryId).gsi6sk,
          },
        }),
      );
    } catch (err) {
      if (err instanceof WriteRefused) {
        const current = await this.getDelivery(delivery.webhookId, delivery.deliveryId);
        if (!current) throw notFoundDelivery(delivery.webhookId, delivery.deliveryId);
        throw new ConcurrentModificationError(
          `Delivery ${delivery.deliveryId} is ${current.status} now; only a FAILED or DEAD delivery is redelivered.`,
        );
      }
      throw err;
    }
  }
}

export const notFoundWebhook = (id: string) => new ResourceNotFoundError(`Webhook with ID ${id} not found.`);

export const notFoundDelivery = (webhookId: string, deliveryId: string) =>
  new ResourceNotFoundError(`Delivery ${deliveryId} of webhook ${webhookId} not found.`);
