/**
 * Capacity accounting for the data-layer benchmark: what each DynamoDB command of the handler
 * stack consumed, in read and write request units.
 *
 * Reads (RRU) are measured: every command of the functions asks for `ReturnConsumedCapacity:
 * 'INDEXES'` (the local registry's `observeConsumedCapacity` hook) and the reported `CapacityUnits`
 * (table + indexes) of GetItem, Query, Scan, BatchGetItem and TransactGetItems are summed.
 * DynamoDB Local reports them by DynamoDB's rules: a strongly consistent read costs 1 RRU per
 * 4 KB, an eventually consistent one half, a Query rounds the sum of the item sizes up per 4 KB,
 * a transactional read costs twice.
 *
 * Writes (WRU) are computed, because DynamoDB Local miscounts TransactWriteItems: it counts the
 * items of equal cost in one transaction once (two 3 KB puts in one transaction report 6 WRU
 * instead of 12) and doubles index writes. (It counts single-item PutItem, UpdateItem and
 * DeleteItem right, index writes included: `calibrate` checks the calculator on those.) Every
 * write the functions send is matched, by key, with the record it left in the table's stream
 * (NEW_AND_OLD_IMAGES), and costed from the old and new images:
 * - table: ceil(max(old size, new size) / 1 KB) WRU per item written (at least 1), twice that in
 *   a transaction;
 * - each global secondary index: the index entry (its projection of the item) costs
 *   ceil(size / 1 KB) WRU when it appears (put) or disappears (delete); an update that changes the
 *   index key costs a delete of the old entry plus a put of the new one; an update that keeps the
 *   key but changes a projected attribute costs one write of the new entry;
 * - a write that left no stream record (it changed nothing) costs its table write only, sized
 *   from the item as it is afterwards.
 * Two points DynamoDB's documentation leaves open are settled as follows: the index writes of a
 * transaction are not doubled (only the table writes are transactional), and a ConditionCheck
 * costs a transactional write of the checked item (a transaction reports write units only).
 * Item size follows DynamoDB's item-size rules: the UTF-8 length of every attribute name plus the
 * size of its value (strings: UTF-8 length; numbers: ceil(significant digits / 2) + 1; binary:
 * length; boolean and null: 1; lists and maps: 3 + the size of each element + 1 byte per element,
 * nested names counted; sets: the sum of their elements).
 * A write that failed (a failed condition, a cancelled transaction) is not costed: it is counted
 * as a command but DynamoDB does not report what it consumed.
 */
import {
  type AttributeValue,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createTableInput, TABLE_PARTITION_KEY, TABLE_SORT_KEY } from '../functions/deployment/table';
import type { SdkCapacityReport } from '../functions/handlers/runtime';
import { LOCAL_AWS } from '../local/dynamodb';

type Image = Record<string, AttributeValue>;

const KB = 1024;
const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** Size of a number: ceil(significant digits / 2) + 1 byte. */
function numberSize(n: string): number {
  const digits = n
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((n, s) => n + utf8(s), 0);
  if (v.NS) return v.NS.reduce((n, s) => n + numberSize(s), 0);
  if (v.BS) return v.BS.reduce((n, b) => n + b.length, 0);
  if (v.L) return 3 + v.L.reduce((n, e) => n + valueSize(e) + 1, 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((n, [k, e]) => n + utf8(k) + valueSize(e) + 1, 0);
  return 0;
}

/** DynamoDB item size in bytes: attribute names plus values. */
export function itemSize(item: Image | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce((n, [k, v]) => n + utf8(k) + valueSize(v), 0);
}

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / KB));

interface IndexShape {
  readonly name: string;
  readonly keys: readonly string[];
  /** Attributes of the item the index entry holds; undefined: all of them. */
  readonly projected?: ReadonlySet<string>;
}

/** The table's global secondary indexes, from the same definition the stack deploys. */
function indexShapes(): IndexShape[] {
  const table = createTableInput('shape');
  return table.GlobalSecondaryIndexes.map((gsi) => {
    const keys = gsi.KeySchema.map((k) => k.AttributeName);
    const projection = gsi.Projection as { ProjectionType: string; NonKeyAttributes?: string[] };
    if (projection.ProjectionType === 'ALL') return { name: gsi.IndexName, keys };
    const projected = new Set([
      TABLE_PARTITION_KEY,
      TABLE_SORT_KEY,
      ...keys,
      ...(projection.NonKeyAttributes ?? []),
    ]);
    return { name: gsi.IndexName, keys, projected };
  });
}

function project(item: Image | undefined, index: IndexShape): Image | undefined {
  if (!item || !index.keys.every((k) => item[k] !== undefined)) return undefined;
  if (!index.projected) return item;
  return Object.fromEntries(Object.entries(item).filter(([k]) => index.projected!.has(k)));
}

const sameValue = (a: Image | undefined, b: Image | undefined) =>
  JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    return Object.fromEntries(
      Object.entries(v)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, x]) => [k, sorted(x)]),
    );
  }
  return v;
}

/** WRU of one index for one item change (see the header). */
function indexUnits(index: IndexShape, oldImage: Image | undefined, newImage: Image | undefined): number {
  const before = project(oldImage, index);
  const after = project(newImage, index);
  if (!before && !after) return 0;
  if (!before) return writeUnits(itemSize(after));
  if (!after) return writeUnits(itemSize(before));
  const keyChanged = index.keys.some((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  if (keyChanged) return writeUnits(itemSize(before)) + writeUnits(itemSize(after));
  return sameValue(before, after) ? 0 : writeUnits(itemSize(after));
}

type WriteKind = 'put' | 'update' | 'delete' | 'check';
interface WriteTarget {
  readonly key: string;
  readonly rawKey: Image;
  readonly kind: WriteKind;
  readonly transactional: boolean;
}

const READ_COMMANDS = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);
const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);

/** A key attribute as a string (document-client inputs hold plain strings, low-level ones `{ S }`). */
const keyString = (v: unknown): string =>
  typeof v === 'string' ? v : String((v as { S?: string } | undefined)?.S ?? JSON.stringify(v));

function keyOf(item: Record<string, unknown>): { key: string; rawKey: Image } {
  const pk = keyString(item[TABLE_PARTITION_KEY]);
  const sk = keyString(item[TABLE_SORT_KEY]);
  return {
    key: `${pk}\u0000${sk}`,
    rawKey: { [TABLE_PARTITION_KEY]: { S: pk }, [TABLE_SORT_KEY]: { S: sk } },
  };
}

/**
 * The longest chain of commands in which each was sent after the previous one was answered: how
 * many times the request waited for DynamoDB one after the other.
 */
export function roundTrips(reports: readonly Pick<SdkCapacityReport, 'sentAt' | 'answeredAt'>[]): number {
  const byAnswer = [...reports].sort((a, b) => a.answeredAt - b.answeredAt);
  const depth: number[] = [];
  let longest = 0;
  for (const [i, r] of byAnswer.entries()) {
    let before = 0;
    for (let j = 0; j < i; j++) if (byAnswer[j]!.answeredAt <= r.sentAt) before = Math.max(before, depth[j]!);
    depth.push(before + 1);
    longest = Math.max(longest, before + 1);
  }
  return longest;
}

/** The items a write command writes (or checks), from its input. */
function writeTargets(report: SdkCapacityReport): WriteTarget[] {
  const input = report.input as any;
  const target = (item: Record<string, unknown>, kind: WriteKind, transactional: boolean): WriteTarget => ({
    ...keyOf(item),
    kind,
    transactional,
  });
  switch (report.command) {
    case 'PutItemCommand':
      return [target(input.Item, 'put', false)];
    case 'UpdateItemCommand':
      return [target(input.Key, 'update', false)];
    case 'DeleteItemCommand':
      return [target(input.Key, 'delete', false)];
    case 'BatchWriteItemCommand':
      return Object.values(input.RequestItems ?? {}).flatMap((requests) =>
        (requests as any[]).map((r) =>
          r.PutRequest
            ? target(r.PutRequest.Item, 'put', false)
            : target(r.DeleteRequest.Key, 'delete', false),
        ),
      );
    case 'TransactWriteItemsCommand':
      return (input.TransactItems ?? []).map((t: any) =>
        t.Put
          ? target(t.Put.Item, 'put', true)
          : t.Update
            ? target(t.Update.Key, 'update', true)
            : t.Delete
              ? target(t.Delete.Key, 'delete', true)
              : target(t.ConditionCheck.Key, 'check', true),
      );
    default:
      return [];
  }
}

/** Reads the table's stream from a point on (DynamoDB Local keeps one open shard per table). */
class StreamTap {
  private readonly iterators = new Map<string, string | null>();

  private constructor(
    private readonly streams: DynamoDBStreamsClient,
    private readonly streamArn: string,
  ) {}

  static async open(endpoint: string, tableName: string): Promise<StreamTap> {
    const config = { endpoint, ...LOCAL_AWS };
    const db = new DynamoDBClient(config);
    try {
      const { Table } = await db.send(new DescribeTableCommand({ TableName: tableName }));
      if (!Table?.LatestStreamArn) throw new Error(`Table ${tableName} has no stream`);
      const tap = new StreamTap(new DynamoDBStreamsClient(config), Table.LatestStreamArn);
      await tap.skipToEnd();
      return tap;
    } finally {
      db.destroy();
    }
  }

  /** Forgets everything written so far (e.g. seeding). */
  async skipToEnd(): Promise<void> {
    const { StreamDescription } = await this.streams.send(
      new DescribeStreamCommand({ StreamArn: this.streamArn }),
    );
    for (const shard of StreamDescription?.Shards ?? []) {
      if (shard.SequenceNumberRange?.EndingSequenceNumber) {
        this.iterators.set(shard.ShardId!, null);
        continue;
      }
      const { ShardIterator } = await this.streams.send(
        new GetShardIteratorCommand({
          StreamArn: this.streamArn,
          ShardId: shard.ShardId!,
          ShardIteratorType: 'LATEST',
        }),
      );
      this.iterators.set(shard.ShardId!, ShardIterator ?? null);
    }
  }

  /** Every record written since the last read. */
  async read(): Promise<StreamRecord[]> {
    const out: StreamRecord[] = [];
    const { StreamDescription } = await this.streams.send(
      new DescribeStreamCommand({ StreamArn: this.streamArn }),
    );
    for (const shard of StreamDescription?.Shards ?? []) {
      const id = shard.ShardId!;
      let iterator = this.iterators.get(id);
      if (iterator === null) continue;
      if (iterator === undefined) {
        // A shard opened since the last read: all of it is new.
        iterator =
          (
            await this.streams.send(
              new GetShardIteratorCommand({
                StreamArn: this.streamArn,
                ShardId: id,
                ShardIteratorType: 'TRIM_HORIZON',
              }),
            )
          ).ShardIterator ?? null;
      }
      while (iterator) {
        const page: { Records?: StreamRecord[]; NextShardIterator?: string } = await this.streams.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }),
        );
        out.push(...(page.Records ?? []));
        iterator = page.NextShardIterator ?? null;
        this.iterators.set(id, iterator);
        if (!page.Records?.length) break;
      }
    }
    return out;
  }

  close(): void {
    this.streams.destroy();
  }
}

/** What the commands of one measured window consumed. */
export interface Consumption {
  /** DynamoDB commands sent (failed ones included). */
  readonly calls: number;
  /**
   * Round trips: the longest chain of commands each sent after the one before it was answered
   * (commands sent together count once; a command that waits for another's answer counts again).
   */
  readonly roundTrips: number;
  /** Commands by name. */
  readonly commands: ReadonlyMap<string, number>;
  /** Commands that failed (conditional check failed, transaction cancelled…), by error name. */
  readonly failures: ReadonlyMap<string, number>;
  /** Read request units, as DynamoDB Local reported them. */
  readonly rru: number;
  /** Write request units, computed from the stream images (see the header). */
  readonly wru: number;
  /** Write units as DynamoDB Local reported them (for comparison only). */
  readonly wruReported: number;
  /** Stream records that no observed write explains (writes from outside the functions). */
  readonly unmatchedRecords: number;
}

/**
 * Collects the capacity reports of the local registry's functions and costs one window of them
 * at a time: `begin()`, run the operation, `end()`.
 */
export class CapacityMeter {
  private reports: SdkCapacityReport[] = [];
  private readonly indexes = indexShapes();
  private readonly db: DynamoDBClient;

  private constructor(
    private readonly tap: StreamTap,
    endpoint: string,
    private readonly tableName: string,
  ) {
    this.db = new DynamoDBClient({ endpoint, ...LOCAL_AWS });
  }

  static async open(endpoint: string, tableName: string): Promise<CapacityMeter> {
    return new CapacityMeter(await StreamTap.open(endpoint, tableName), endpoint, tableName);
  }

  /** The hook to give the local registry (`observeConsumedCapacity`). */
  readonly observe = (_fn: string, report: SdkCapacityReport): void => {
    this.reports.push(report);
  };

  /** Starts a window: forgets earlier commands and stream records. */
  async begin(): Promise<void> {
    this.reports = [];
    await this.tap.skipToEnd();
  }

  /** Counts the commands of the window so far without costing the writes (cheap). */
  peek(): { calls: number; commands: Map<string, number> } {
    const commands = new Map<string, number>();
    for (const r of this.reports) commands.set(r.command, (commands.get(r.command) ?? 0) + 1);
    return { calls: this.reports.length, commands };
  }

  /** Ends the window and costs it. */
  async end(): Promise<Consumption> {
    const reports = this.reports;
    this.reports = [];
    const commands = new Map<string, number>();
    const failures = new Map<string, number>();
    let rru = 0;
    let wruReported = 0;
    const targets: WriteTarget[] = [];
    for (const r of reports) {
      commands.set(r.command, (commands.get(r.command) ?? 0) + 1);
      if (r.error) {
        const name = (r.error as { name?: string }).name ?? 'Error';
        failures.set(name, (failures.get(name) ?? 0) + 1);
        continue;
      }
      const units = r.consumed.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
      if (READ_COMMANDS.has(r.command)) rru += units;
      if (WRITE_COMMANDS.has(r.command)) {
        wruReported += units;
        targets.push(...writeTargets(r));
      }
    }
    const records = new Map<string, StreamRecord[]>();
    let recordCount = 0;
    for (const record of await this.tap.read()) {
      const key = keyOf(unmarshallKey(record.dynamodb?.Keys as Image)).key;
      if (!records.has(key)) records.set(key, []);
      records.get(key)!.push(record);
      recordCount++;
    }
    let wru = 0;
    let matched = 0;
    for (const t of targets) {
      const factor = t.transactional ? 2 : 1;
      const record = t.kind === 'check' ? undefined : records.get(t.key)?.shift();
      if (record) {
        matched++;
        const oldImage = record.dynamodb?.OldImage as Image | undefined;
        const newImage = record.dynamodb?.NewImage as Image | undefined;
        wru += factor * writeUnits(Math.max(itemSize(oldImage), itemSize(newImage)));
        for (const index of this.indexes) wru += indexUnits(index, oldImage, newImage);
        continue;
      }
      // A condition check, or a write that changed nothing: the table write of the item as it is.
      const { Item } = await this.db.send(
        new GetItemCommand({ TableName: this.tableName, Key: t.rawKey, ConsistentRead: true }),
      );
      wru += factor * writeUnits(itemSize(Item));
    }
    return {
      calls: reports.length,
      roundTrips: roundTrips(reports),
      commands,
      failures,
      rru,
      wru,
      wruReported,
      unmatchedRecords: recordCount - matched,
    };
  }

  close(): void {
    this.tap.close();
    this.db.destroy();
  }
}

/**
 * Checks the write calculator against DynamoDB Local on single-item, non-transactional writes,
 * which DynamoDB Local does count by DynamoDB's rules: a put of an item carrying every index key,
 * updates that change a projected attribute, change an index key, drop one and grow the item past
 * 1 KB, and a delete. Uses (and removes) one item of its own in the table. Returns each write
 * whose computed cost differs from the reported one.
 */
export async function calibrate(
  meter: CapacityMeter,
  db: DynamoDBDocumentClient,
  tableName: string,
): Promise<{ writes: number; disagreements: string[] }> {
  const table = createTableInput(tableName);
  const types = new Map(table.AttributeDefinitions.map((a) => [a.AttributeName, a.AttributeType as string]));
  const value = (attr: string, v: string) => (types.get(attr) === 'N' ? v.length : `BENCH#calibration#${v}`);
  const key = {
    [TABLE_PARTITION_KEY]: value(TABLE_PARTITION_KEY, 'pk'),
    [TABLE_SORT_KEY]: value(TABLE_SORT_KEY, 'sk'),
  };
  const indexKeys = table.GlobalSecondaryIndexes.flatMap((g) => g.KeySchema.map((k) => k.AttributeName));
  const item = {
    ...key,
    ...Object.fromEntries(indexKeys.map((k) => [k, value(k, k)])),
    description: 'é'.repeat(150),
    metrics: { accuracy: 0.9731, loss: 12.5e-3 },
    tags: { team: 'x' },
    files: [{ path: 'model.bin', size: 123456789 }],
    ready: true,
  };
  const [firstIndexKey] = indexKeys;
  const update = (expression: string, values?: Record<string, unknown>, names?: Record<string, string>) =>
    new UpdateCommand({
      TableName: tableName,
      Key: key,
      UpdateExpression: expression,
      ...(values ? { ExpressionAttributeValues: values } : {}),
      ...(names ? { ExpressionAttributeNames: names } : {}),
    });
  const steps: [string, () => Promise<unknown>][] = [
    ['put', () => db.send(new PutCommand({ TableName: tableName, Item: item }))],
    ['update a projected attribute', () => db.send(update('SET description = :d', { ':d': 'changed' }))],
    ['grow past 1 KB', () => db.send(update('SET notes = :n', { ':n': 'n'.repeat(1200) }))],
  ];
  if (firstIndexKey) {
    steps.push(
      [
        'change an index key',
        () =>
          db.send(update('SET #k = :v', { ':v': value(firstIndexKey, 'moved') }, { '#k': firstIndexKey })),
      ],
      ['drop an index key', () => db.send(update('REMOVE #k', undefined, { '#k': firstIndexKey }))],
    );
  }
  steps.push(['delete', () => db.send(new DeleteCommand({ TableName: tableName, Key: key }))]);
  const disagreements: string[] = [];
  for (const [label, step] of steps) {
    await meter.begin();
    await step();
    const use = await meter.end();
    if (use.wru !== use.wruReported)
      disagreements.push(`${label}: computed ${use.wru}, reported ${use.wruReported}`);
  }
  return { writes: steps.length, disagreements };
}

function unmarshallKey(keys: Image): Record<string, unknown> {
  return Object.fromEntries(Object.entries(keys ?? {}).map(([k, v]) => [k, v.S ?? v.N ?? '']));
}
