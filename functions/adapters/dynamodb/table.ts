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
import { INDEXES, type IndexDefinition, TABLE_PARTITION_KEY, TABLE_SORT_KEY } from '../../deployment/table';
import { ConcurrentModificationError, LimitExceededError } from '../../domain/errors';
import type { RegistryEvent } from '../../domain/events';
import type { ModelVersion } from '../../domain/model';
import type { Page } from '../../use-cases/ports';
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

/** One ordered read a stream takes entries from: a partition of an index or of the table. */
export interface StreamSource {
  /** The index read (the table when absent). */
  readonly index?: IndexDefinition;
  readonly partition: string;
  readonly sortKeyPrefix?: string | undefined;
  /**
   * Reads the candidates' whole items (a KEYS_ONLY index gives only keys), by `itemId`; a
   * candidate whose item is gone is skipped. An item another source of the stream has already
   * read is not read again, if it still carries the entry's keys.
   */
  readonly hydrate?: (items: Item[]) => Promise<Map<string, Item>>;
  /**
   * An entry's place in the stream's order, as a string that sorts in that order (by default its
   * sort key). Sources merged into one stream must each be read in the order of their places.
   */
  readonly place?: (entry: Item) => string;
  /** Whether an entry is a candidate of this source; one that is not is examined and passed. */
  readonly admits?: (entry: Item) => boolean;
}

export interface StreamOptions<T> extends StreamSource {
  /**
   * More sources, merged with this one into one order by the entries' places: each page takes
   * the next entry of whichever source comes first, and its token holds where each stands.
   */
  readonly mergedWith?: readonly StreamSource[];
  readonly tokens: PageTokens;
  readonly cursor: PageCursor | undefined;
  readonly fingerprint: string;
  readonly ascending: boolean;
  readonly maxResults: number;
  /** Items examined per request at most (a selective filter returns a short page and a token). */
  readonly budget?: number;
  /** Bytes of items a page carries at most (the response must stay far below Lambda's 6 MB). */
  readonly byteBudget?: number;
  /** Keeps an item (its candidate value), or drops it (undefined). */
  readonly convert: (item: Item) => T | undefined | Promise<T | undefined>;
  /**
   * Entries whose places tie (`of` gives the same value: the index sorts them by what follows in
   * its key, not by the query's tiebreaks) are read as a group and sorted by `compare`, so a page
   * follows the query's whole order.
   */
  readonly ties?: { readonly of: (place: string) => string; readonly compare: (a: T, b: T) => number };
}

/** Where a source of a stream resumes: after a key, or from its start (null). */
type Position = Record<string, string> | null;

/** The attributes of a source's position: the item's key, and the index's when it reads one. */
const positionAttrs = (s: StreamSource) =>
  s.index
    ? [TABLE_PARTITION_KEY, TABLE_SORT_KEY, s.index.partitionKey, s.index.sortKey]
    : [TABLE_PARTITION_KEY, TABLE_SORT_KEY];

/** One source of a stream, read a query page at a time and taken an entry at a time. */
class Cursor {
  private readonly keyAttrs: readonly string[];
  /** Where the source stands: after the last entry taken. */
  position: Position;
  private entries: Item[] = [];
  private at = 0;
  private hydratedTo = 0;
  private whole = new Map<string, Item>();
  private ended = false;

  constructor(
    private readonly table: RegistryTable,
    readonly source: StreamSource,
    private readonly ascending: boolean,
    start: Position,
  ) {
    this.keyAttrs = positionAttrs(source);
    this.position = start;
  }

  /** Checks a position from a page token against the range this source reads. */
  static check(source: StreamSource, position: Position, tokens: PageTokens): Position {
    if (!position) return null;
    return checkStartKey(
      position,
      {
        partitionAttr: source.index?.partitionKey ?? TABLE_PARTITION_KEY,
        partitionValue: source.partition,
        attrs: positionAttrs(source),
        sortAttr: source.index?.sortKey ?? TABLE_SORT_KEY,
        sortPrefix: source.sortKeyPrefix,
      },
      tokens,
    )!;
  }

  place(entry: Item): string {
    return this.source.place?.(entry) ?? String(entry[this.source.index?.sortKey ?? TABLE_SORT_KEY]);
  }

  /** The next entry, reading a page of up to `limit` entries when needed (undefined at the end). */
  async peek(limit: number, read: Map<string, Item>): Promise<Item | undefined> {
    while (this.at >= this.entries.length) {
      if (this.ended) return undefined;
      const s = this.source;
      const pkAttr = s.index?.partitionKey ?? TABLE_PARTITION_KEY;
      const skAttr = s.index?.sortKey ?? TABLE_SORT_KEY;
      const page = await this.table.query({
        ...(s.index ? { IndexName: s.index.indexName } : {}),
        KeyConditionExpression: s.sortKeyPrefix ? '#pk = :pk AND begins_with(#sk, :prefix)' : '#pk = :pk',
        ExpressionAttributeNames: { '#pk': pkAttr, ...(s.sortKeyPrefix ? { '#sk': skAttr } : {}) },
        ExpressionAttributeValues: {
          ':pk': s.partition,
          ...(s.sortKeyPrefix ? { ':prefix': s.sortKeyPrefix } : {}),
        },
        ScanIndexForward: this.ascending,
        Limit: limit,
        ...(this.position ? { ExclusiveStartKey: this.position } : {}),
      });
      this.entries = page.items;
      this.at = 0;
      this.hydratedTo = 0;
      this.whole.clear();
      this.ended = !page.last;
      // The whole items a read of the table gives, for the sources that would read them again.
      if (!s.hydrate) for (const item of page.items) read.set(itemId(item), item);
    }
    return this.entries[this.at];
  }

  /**
   * Takes the entry `peek` gave, with its whole item (undefined if it is gone); a hydrating source
   * reads the items of up to `ahead` entries at once, those `read` holds as they were read.
   */
  async take(ahead: number, read: Map<string, Item>): Promise<{ entry: Item; item: Item | undefined }> {
    const i = this.at++;
    const entry = this.entries[i]!;
    // The position is the entry's, whatever its item became since.
    this.position = Object.fromEntries(this.keyAttrs.map((a) => [a, entry[a] as string]));
    if (!this.source.hydrate) return { entry, item: entry };
    if (i >= this.hydratedTo) {
      const chunk = this.entries.slice(i, i + Math.max(1, ahead));
      this.hydratedTo = i + chunk.length;
      const unread: Item[] = [];
      for (const e of chunk) {
        const known = read.get(itemId(e));
        if (known && this.keyAttrs.every((a) => known[a] === e[a])) this.whole.set(itemId(e), known);
        else unread.push(e);
      }
      if (unread.length) for (const [id, item] of await this.source.hydrate(unread)) this.whole.set(id, item);
    }
    return { entry, item: this.whole.get(itemId(entry)) };
  }
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
   * Reads an index or a table partition in order (or several, merged in one order), page by page,
   * keeping what `convert` accepts, until the page is full, the examination budget is spent or
   * the byte budget is reached. The token resumes after the last entry examined (or the last one
   * returned, when the page is cut), in each source read.
   */
  async stream<T>(o: StreamOptions<T>): Promise<Page<T>> {
    const sources = [o, ...(o.mergedWith ?? [])];
    const merged = sources.length > 1;
    const path = sources.map((s) => s.index?.indexName ?? 'table').join('+');
    const c = o.cursor;
    if (c && (c.p !== path || (merged ? c.k || c.ks?.length !== sources.length : c.ks || c.f)))
      throw o.tokens.invalid();
    const starts: Position[] = merged ? (c?.ks ?? sources.map(() => null)) : [c?.k ?? null];
    const cursors = sources.map(
      (s, i) => new Cursor(this, s, o.ascending, Cursor.check(s, starts[i]!, o.tokens)),
    );
    // Where the previous page ended in the merged order. An entry not beyond it was returned or
    // passed by an earlier page, or moved there since (an item updated between the pages): it is
    // passed, as a single index read passes what moves behind its position.
    const ended = c?.f;
    const beyond = (place: string) => ended === undefined || (o.ascending ? place > ended : place < ended);
    const budget = o.budget ?? 2000;
    const byteBudget = o.byteBudget ?? Number.POSITIVE_INFINITY;
    const results: T[] = [];
    let examined = 0;
    let bytes = 0;
    type Resume = { readonly at: readonly Position[]; readonly place: string | undefined };
    // Where the next page starts: after the last group returned whole.
    let resume: Resume = { at: cursors.map((x) => x.position), place: ended };
    // Members of the first group that an earlier page returned (a group larger than a page).
    let skip = c?.o ?? 0;
    type Member = { value: T | undefined; bytes: number };
    let group: { tie: string; members: Member[]; end: Resume } | undefined;
    let partial: { from: Resume; o: number } | undefined;
    // The items taken (one that moved from one source to another while they were read is returned
    // once), and the whole items read.
    const taken = new Set<string>();
    const read = new Map<string, Item>();
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
        resume = closing.end;
        skip = 0;
        return true;
      }
      // The page ends before a group that does not fit, unless it is the page's first.
      if (results.length > 0) return false;
      for (const m of fresh.slice(0, room)) results.push(m.value);
      partial = { from: resume, o: skip + room };
      return false;
    };

    let exhausted = false;
    let reached = ended;
    while (group || !full()) {
      // The next entry in the order: the first of the sources' next entries (each source reads
      // one entry more than the page needs, only to tell whether a next page exists).
      const limit = Math.min(1000, Math.max(10, o.maxResults - results.length + skip + 1));
      const heads = await Promise.all(cursors.map((x) => x.peek(limit, read)));
      let next: { cursor: Cursor; entry: Item; place: string } | undefined;
      heads.forEach((entry, i) => {
        if (!entry) return;
        const place = cursors[i]!.place(entry);
        if (!next || (o.ascending ? place < next.place : place > next.place))
          next = { cursor: cursors[i]!, entry, place };
      });
      if (!next) {
        exhausted = flush();
        break;
      }
      // Entries that tie on the order form a group, returned whole and sorted by `ties.compare`;
      // without `ties` every entry is a group of its own.
      const { cursor, place } = next;
      const tie = o.ties ? o.ties.of(place) : itemId(next.entry);
      if (group && group.tie !== tie && !flush()) break;
      if (!group) {
        if (full()) break;
        group = { tie, members: [], end: resume };
      }
      const ahead = o.maxResults - results.length - group.members.length + skip;
      const { entry, item } = await cursor.take(ahead, read);
      examined++;
      if (beyond(place)) reached = place;
      group.end = { at: cursors.map((x) => x.position), place: reached };
      const candidate =
        item !== undefined &&
        beyond(place) &&
        (cursor.source.admits?.(entry) ?? true) &&
        !taken.has(itemId(item));
      if (candidate) taken.add(itemId(item));
      const value = candidate ? await o.convert(item) : undefined;
      group.members.push({ value, bytes: item && value !== undefined ? itemBytes(item) : 0 });
    }
    const token = (from: Resume, offset?: number) =>
      o.tokens.encode({
        v: 1,
        q: o.fingerprint,
        p: path,
        ...(merged
          ? { ks: [...from.at], ...(from.place !== undefined ? { f: from.place } : {}) }
          : from.at[0]
            ? { k: from.at[0] }
            : {}),
        ...(offset !== undefined ? { o: offset } : {}),
      });
    if (partial) return { items: results, nextPageToken: token(partial.from, partial.o) };
    if (exhausted || resume.at.every((p) => !p)) return { items: results };
    return { items: results, nextPageToken: token(resume) };
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
