/**
 * The primitives every aggregate of the registry table writes and reads with: a write of one or
 * more items together with the events they record (the audit entries are the outbox), conditions
 * that fail as one uniform error the aggregates map to domain errors, contention absorbed by
 * bounded retries, the item-size limit enforced in bytes, and paged reads in index order.
 */
import { type AttributeValue, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ConcurrentModificationError, LimitExceededError } from '../../domain/errors';
import type { RegistryEvent } from '../../domain/events';
import type { ModelVersion } from '../../domain/model';
import type { Page } from '../../use-cases/ports';
import { INDEXES, type IndexDefinition, TABLE_PARTITION_KEY, TABLE_SORT_KEY } from '../../wiring/table';
import { auditKey, modelPartition, webhookPartition } from './keys';
import { checkStartKey, type PageCursor, type PageTokens } from './page-token';

export type Item = Record<string, unknown>;
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Events (or event factories, given the version a write created) to record with a write. */
export type Journal = readonly (RegistryEvent | ((created: ModelVersion) => RegistryEvent))[];

/** DynamoDB's item limit; writes are refused with a 4xx well before it (see `assertItemSize`). */
export const MAX_ITEM_BYTES = 400 * 1024;
/** What the registry lets one item grow to, leaving room for attributes a later write adds. */
export const ITEM_BUDGET_BYTES = 350 * 1024;
/** DynamoDB's limit of items per transaction. */
export const MAX_TRANSACTION_ITEMS = 100;
/** Attempts of a write that meets a concurrent transaction on the same items. */
const CONFLICT_ATTEMPTS = 8;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The size of an item as DynamoDB counts it (attribute names and values, UTF-8), for the item
 * limit and for capacity: strings by their bytes, numbers by their digits, containers by their
 * elements plus a few bytes each.
 */
export function itemBytes(item: Item): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    total += Buffer.byteLength(name, 'utf8') + valueBytes(value);
  }
  return total;
}

function valueBytes(value: unknown): number {
  if (value === null || value === undefined) return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number')
    return Math.ceil(String(Math.abs(value)).replace(/[.e+-]/g, '').length / 2) + 1;
  if (typeof value === 'boolean') return 1;
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + valueBytes(v), 0);
  if (typeof value === 'object') {
    let n = 3;
    for (const [k, v] of Object.entries(value as Item)) {
      if (v === undefined) continue;
      n += 1 + Buffer.byteLength(k, 'utf8') + valueBytes(v);
    }
    return n;
  }
  return 0;
}

/** Refuses (4xx) an item that would grow past the registry's budget, naming what it is. */
export function assertItemSize(item: Item, what: string): void {
  const size = itemBytes(item);
  if (size > ITEM_BUDGET_BYTES) {
    throw new LimitExceededError(
      `${what} would take ${size.toLocaleString('en-US')} bytes; the limit is ${ITEM_BUDGET_BYTES.toLocaleString('en-US')} bytes (DynamoDB stores at most 400 KB per item, counted in UTF-8 bytes). Shorten its description, tags or other values.`,
    );
  }
}

/** A write whose conditions failed: the reason of each item, with the item as it was when asked for. */
export class WriteRefused extends Error {
  override readonly name = 'WriteRefused';
  constructor(readonly reasons: readonly { readonly code?: string; readonly item?: Item }[]) {
    super('The conditional write was refused');
  }
  /** Whether the item at `index` failed its condition. */
  failed(index: number): boolean {
    return this.reasons[index]?.code === 'ConditionalCheckFailed';
  }
  item(index: number): Item | undefined {
    return this.reasons[index]?.item;
  }
}

function refusal(err: unknown): WriteRefused | undefined {
  if (err instanceof TransactionCanceledException) {
    return new WriteRefused(
      (err.CancellationReasons ?? []).map((r) => ({
        ...(r.Code ? { code: r.Code } : {}),
        ...(r.Item ? { item: unmarshall(r.Item as Record<string, AttributeValue>) } : {}),
      })),
    );
  }
  const e = err as { name?: string; Item?: Record<string, AttributeValue> };
  if (e?.name === 'ConditionalCheckFailedException') {
    return new WriteRefused([
      { code: 'ConditionalCheckFailed', ...(e.Item ? { item: unmarshall(e.Item) } : {}) },
    ]);
  }
  return undefined;
}

/** A refusal caused only by another transaction in flight on the same items (retry it). */
const onlyConflicts = (r: WriteRefused) =>
  r.reasons.some((x) => x.code === 'TransactionConflict') &&
  r.reasons.every((x) => !x.code || x.code === 'None' || x.code === 'TransactionConflict');

/** DynamoDB refusing an item over its size limit, or an expression it cannot evaluate on the item. */
function tooLarge(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return e?.name === 'ValidationException' && /size has exceeded|Item size/i.test(e.message ?? '');
}

/** The append-only audit entry of an event; its insertion is also the outbox record. */
export function auditItem(event: RegistryEvent): Item {
  const d = event.detail;
  // A model's events are kept in its partition; a webhook's (registry-wide) in the webhook's.
  const partition = d.model
    ? modelPartition(d.model.id)
    : d.webhook
      ? webhookPartition(d.webhook.id)
      : undefined;
  if (!partition) throw new Error(`Event ${event.type} names neither a model nor a webhook`);
  return {
    ...auditKey.inPartition(partition, d.occurred_at, d.event_id),
    entity: 'AuditEntry',
    type: event.type,
    version: d.version,
    // The event as published, once: the relay publishes it and the audit log reads it back.
    event: JSON.stringify({ type: event.type, detail: d }),
  };
}

export interface StreamOptions<T> {
  readonly tokens: PageTokens;
  readonly cursor: PageCursor | undefined;
  readonly fingerprint: string;
  readonly index?: IndexDefinition;
  readonly partition: string;
  readonly ascending: boolean;
  readonly sortKeyPrefix?: string | undefined;
  readonly maxResults: number;
  /** Items examined per request at most (a selective filter returns a short page and a token). */
  readonly budget?: number;
  /** Bytes of items a page carries at most (the response must stay far below Lambda's 6 MB). */
  readonly byteBudget?: number;
  /** Keeps an item (its candidate value), or drops it (undefined). */
  readonly convert: (item: Item) => T | undefined | Promise<T | undefined>;
  /**
   * Reads the candidates' whole items (a KEYS_ONLY index gives only keys), by `itemId`; a
   * candidate whose item is gone is skipped.
   */
  readonly hydrate?: (items: Item[]) => Promise<Map<string, Item>>;
  /**
   * Entries whose index order ties (`of` gives the same value: the index sorts them by what
   * follows in its key, not by the query's tiebreaks) are read as a group and sorted by
   * `compare`, so a page follows the query's whole order.
   */
  readonly ties?: { readonly of: (entry: Item) => string; readonly compare: (a: T, b: T) => number };
}

export class RegistryTable {
  constructor(
    readonly db: DynamoDBDocumentClient,
    readonly name: string,
  ) {}

  /**
   * Writes the items in one transaction with the journal's audit entries (one non-transactional
   * write when there is a single item and no event). Contention with another transaction is
   * retried a few times; a refused condition is a WriteRefused whose reasons follow `items`.
   */
  async write(items: readonly TransactItem[], journal: Journal = [], created?: ModelVersion): Promise<void> {
    const audits: TransactItem[] = journal.map((entry) => ({
      Put: {
        TableName: this.name,
        Item: auditItem(typeof entry === 'function' ? entry(created!) : entry),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    }));
    const all = [...items, ...audits];
    if (all.length > MAX_TRANSACTION_ITEMS) {
      throw new Error(
        `A write of ${all.length} items exceeds DynamoDB's ${MAX_TRANSACTION_ITEMS}-item transaction`,
      );
    }
    for (let attempt = 1; ; attempt++) {
      try {
        if (all.length === 1) await sendSingle(this.db, all[0]!);
        else await this.db.send(new TransactWriteCommand({ TransactItems: all }));
        return;
      } catch (err) {
        if (tooLarge(err)) {
          throw new LimitExceededError(
            'The change would make an item larger than DynamoDB allows (400 KB, counted in UTF-8 bytes); shorten its values.',
          );
        }
        const refused = refusal(err);
        if (!refused) throw err;
        if (onlyConflicts(refused) && attempt < CONFLICT_ATTEMPTS) {
          await sleep(Math.random() * 10 * 2 ** attempt);
          continue;
        }
        if (onlyConflicts(refused)) {
          throw new ConcurrentModificationError(
            'Other writers kept changing the same items; nothing was changed. Retry the request.',
          );
        }
        throw refused;
      }
    }
  }

  /** An UpdateItem that returns the item after the update (single item, no event). */
  async update(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<Item> {
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.db.send(
          new UpdateCommand({ ...input, TableName: this.name, ReturnValues: 'ALL_NEW' }),
        );
        return out.Attributes ?? {};
      } catch (err) {
        if (tooLarge(err))
          throw new LimitExceededError('The change would make an item larger than DynamoDB allows.');
        const refused = refusal(err);
        // TransactionConflictException: a transaction on the item is in flight; wait for it.
        if (
          (err as { name?: string })?.name === 'TransactionConflictException' &&
          attempt < CONFLICT_ATTEMPTS
        ) {
          await sleep(Math.random() * 10 * 2 ** attempt);
          continue;
        }
        throw refused ?? err;
      }
    }
  }

  async get(key: Item, consistent = false): Promise<Item | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.name, Key: key, ConsistentRead: consistent }),
    );
    return Item;
  }

  /** Reads up to any number of items by key (100 per request, unprocessed keys retried). */
  async getMany(keys: readonly Item[], consistent = false): Promise<Item[]> {
    const out: Item[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Item[] = keys.slice(i, i + 100);
      for (let attempt = 0; pending.length > 0; attempt++) {
        const res = await this.db.send(
          new BatchGetCommand({
            RequestItems: { [this.name]: { Keys: pending, ConsistentRead: consistent } },
          }),
        );
        out.push(...(res.Responses?.[this.name] ?? []));
        pending = (res.UnprocessedKeys?.[this.name]?.Keys ?? []) as Item[];
        if (pending.length) await sleep(Math.min(1000, 20 * 2 ** attempt));
      }
    }
    return out;
  }

  /** Deletes items in batches of 25 (unprocessed ones retried). */
  async deleteMany(keys: readonly Item[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 25) {
      let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        const { UnprocessedItems } = await this.db.send(
          new BatchWriteCommand({ RequestItems: { [this.name]: requests } }),
        );
        requests = (UnprocessedItems?.[this.name] ?? []) as typeof requests;
        if (requests.length > 0) await sleep(Math.min(1000, 20 * 2 ** attempt));
      }
    }
  }

  async deleteItem(
    key: Item,
    condition?: { expression: string; values: Item; names?: Record<string, string> },
  ): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.name,
          Key: key,
          ...(condition
            ? {
                ConditionExpression: condition.expression,
                ExpressionAttributeValues: condition.values,
                ...(condition.names ? { ExpressionAttributeNames: condition.names } : {}),
              }
            : {}),
        }),
      );
      return true;
    } catch (err) {
      if (refusal(err)) return false;
      throw err;
    }
  }

  /** Every item of a partition whose sort key starts with `prefix`, page by page. */
  async *partition(pk: string, prefix: string, options: { consistent?: boolean; descending?: boolean } = {}) {
    let start: Item | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': pk, ':p': prefix },
          ConsistentRead: options.consistent ?? false,
          ScanIndexForward: !options.descending,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      start = page.LastEvaluatedKey;
      if (page.Items?.length) yield page.Items;
    } while (start);
  }

  async query(input: Omit<QueryCommandInput, 'TableName'>): Promise<{ items: Item[]; last?: Item }> {
    const out = await this.db.send(new QueryCommand({ ...input, TableName: this.name }));
    return { items: out.Items ?? [], ...(out.LastEvaluatedKey ? { last: out.LastEvaluatedKey } : {}) };
  }

  /**
   * Reads an index (or a table partition) in order, page by page, keeping what `convert` accepts,
   * until the page is full, the examination budget is spent or the byte budget is reached. The
   * token resumes after the last item examined (or the last one returned, when the page is cut).
   */
  async stream<T>(o: StreamOptions<T>): Promise<Page<T>> {
    const pkAttr = o.index?.partitionKey ?? TABLE_PARTITION_KEY;
    const skAttr = o.index?.sortKey ?? TABLE_SORT_KEY;
    const path = o.index?.indexName ?? 'table';
    if (o.cursor && o.cursor.p !== path) throw o.tokens.invalid();
    const keyAttrs = o.index
      ? [TABLE_PARTITION_KEY, TABLE_SORT_KEY, o.index.partitionKey, o.index.sortKey]
      : [TABLE_PARTITION_KEY, TABLE_SORT_KEY];
    let start: Item | undefined = checkStartKey(
      o.cursor?.k,
      {
        partitionAttr: pkAttr,
        partitionValue: o.partition,
        attrs: keyAttrs,
        sortAttr: skAttr,
        sortPrefix: o.sortKeyPrefix,
      },
      o.tokens,
    );
    const budget = o.budget ?? 2000;
    const byteBudget = o.byteBudget ?? Number.POSITIVE_INFINITY;
    // Entries that tie on the index's order form a group, returned whole and sorted by
    // `ties.compare`; without `ties` every entry is a group of its own.
    const tieOf = o.ties?.of ?? itemId;
    const results: T[] = [];
    let examined = 0;
    let bytes = 0;
    // Where the next page starts: after the last group returned whole.
    let resumeKey: Record<string, string> | undefined = start as Record<string, string> | undefined;
    // Members of the first group that an earlier page returned (a group larger than a page).
    let skip = o.cursor?.o ?? 0;
    let group:
      | { tie: string; members: { value: T | undefined; bytes: number }[]; endKey: Record<string, string> }
      | undefined;
    let partial: { k: Record<string, string> | undefined; o: number } | undefined;
    const full = () => results.length >= o.maxResults || examined >= budget || bytes >= byteBudget;

    /** Adds the open group to the page: true if it fit whole (reading may go on). */
    const flush = (): boolean => {
      if (!group) return true;
      const members = group.members.filter((m): m is { value: T; bytes: number } => m.value !== undefined);
      if (o.ties) members.sort((x, y) => o.ties!.compare(x.value, y.value));
      const fresh = members.slice(skip);
      const room = o.maxResults - results.length;
      const closing = group;
      group = undefined;
      if (fresh.length <= room) {
        for (const m of fresh) {
          results.push(m.value);
          bytes += m.bytes;
        }
        resumeKey = closing.endKey;
        skip = 0;
        return true;
      }
      // The page ends before a group that does not fit, unless it is the page's first.
      if (results.length > 0) return false;
      for (const m of fresh.slice(0, room)) results.push(m.value);
      partial = { k: resumeKey, o: skip + room };
      return false;
    };

    let exhausted = false;
    reading: while (group || !full()) {
      const input: Omit<QueryCommandInput, 'TableName'> = {
        ...(o.index ? { IndexName: o.index.indexName } : {}),
        KeyConditionExpression: o.sortKeyPrefix ? '#pk = :pk AND begins_with(#sk, :prefix)' : '#pk = :pk',
        ExpressionAttributeNames: { '#pk': pkAttr, ...(o.sortKeyPrefix ? { '#sk': skAttr } : {}) },
        ExpressionAttributeValues: {
          ':pk': o.partition,
          ...(o.sortKeyPrefix ? { ':prefix': o.sortKeyPrefix } : {}),
        },
        ScanIndexForward: o.ascending,
        Limit: Math.min(1000, Math.max(10, o.maxResults - results.length + skip + 1)),
        ...(start ? { ExclusiveStartKey: start } : {}),
      };
      const page = await this.query(input);
      // Whole items are read only for the entries the page may still need (the read asks for one
      // more entry than that, only to tell whether a next page exists).
      let whole: Map<string, Item> | undefined;
      let hydrated = 0;
      for (const [i, entry] of page.items.entries()) {
        const tie = tieOf(entry);
        if (group && group.tie !== tie && !flush()) break reading;
        if (!group) {
          if (full()) break reading;
          group = { tie, members: [], endKey: {} };
        }
        if (o.hydrate && i >= hydrated) {
          const want = Math.max(1, o.maxResults - results.length - group.members.length + skip);
          const chunk = page.items.slice(i, i + want);
          whole = await o.hydrate(chunk);
          hydrated = i + chunk.length;
        }
        examined++;
        // The position is the index entry's, whatever the item became since.
        group.endKey = Object.fromEntries(keyAttrs.map((a) => [a, entry[a] as string]));
        const item = whole ? whole.get(itemId(entry)) : entry;
        const value = item ? await o.convert(item) : undefined;
        group.members.push({ value, bytes: item && value !== undefined ? itemBytes(item) : 0 });
      }
      start = page.last;
      if (!start) {
        exhausted = flush();
        break;
      }
    }
    if (partial) {
      return {
        items: results,
        nextPageToken: o.tokens.encode({
          v: 1,
          q: o.fingerprint,
          p: path,
          ...(partial.k ? { k: partial.k } : {}),
          o: partial.o,
        }),
      };
    }
    if (exhausted || !resumeKey) return { items: results };
    return {
      items: results,
      nextPageToken: o.tokens.encode({ v: 1, q: o.fingerprint, p: path, k: resumeKey }),
    };
  }
}

/** An item's identity (its primary key), to match index entries with whole items. */
export const itemId = (item: Item) => `${item.pk as string}\u0000${item.sk as string}`;

/** One item of a transaction as a single (cheaper, non-transactional) write. */
async function sendSingle(db: DynamoDBDocumentClient, item: TransactItem): Promise<void> {
  if (item.Put) await db.send(new PutCommand(item.Put as ConstructorParameters<typeof PutCommand>[0]));
  else if (item.Update)
    await db.send(new UpdateCommand(item.Update as ConstructorParameters<typeof UpdateCommand>[0]));
  else if (item.Delete)
    await db.send(new DeleteCommand(item.Delete as ConstructorParameters<typeof DeleteCommand>[0]));
  else throw new Error('A ConditionCheck needs a transaction');
}

export { INDEXES };
