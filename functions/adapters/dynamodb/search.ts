/**
 * Search: MLflow's filter and order planned onto the table's indexes, then executed. The planner
 * is a pure function of the parsed query (`planVersionSearch`, `planModelSearch`); the executor
 * reads what the plan names and filters every candidate with the whole filter.
 *
 * The cost of a page follows the page, not the registry: an equality on a model's name, a run id,
 * a tag or a source prefix reads that index partition only; otherwise the index of the first
 * `order_by` key is read in order until the page is full. Only filters without such an equality
 * (`!=`, `LIKE '%x'`, `ILIKE`, version comparisons) examine items that do not match, at most
 * SCAN_BUDGET per request (a short page with a token: keep paging). Orders an index does not give
 * (e.g. a tag's matches by creation) sort the matches in memory, at most COLLECT_LIMIT of them.
 */

import type { IndexDefinition } from '../../deployment/table';
import { LimitExceededError } from '../../domain/errors';
import type { ModelActivity, ModelVersion, RegisteredModel } from '../../domain/model';
import { beyondModelNames } from '../../domain/rules';
import {
  compareBy,
  type FilterClause,
  matchesFilter,
  type OrderTerm,
  type Searchable,
} from '../../domain/search-filter';
import type { ModelWithActivity, Page, SearchQuery } from '../../use-cases/ports';
import { toActivity, toModel, toVersion } from './codecs';
import {
  anchorKey,
  MODELS_PARTITION,
  modelKey,
  modelPartition,
  VERSIONS_PARTITION,
  versionKey,
  versionTagKey,
} from './keys';
import { type PageCursor, type PageTokens, queryFingerprint } from './page-token';
import { INDEXES, type Item, itemId, type RegistryTable } from './table';

/** Items one request examines at most when no index answers the filter (then a short page and a token). */
export const SCAN_BUDGET = 2000;
/** Matches sorted in memory at most (an order no index gives); a broader query is refused. */
export const COLLECT_LIMIT = 5000;
/** Bytes of items one page carries at most: responses stay far below Lambda's 6 MB. */
export const PAGE_BYTE_BUDGET = 4 * 1024 * 1024;

export function modelSearchable(model: RegisteredModel, activity?: ModelActivity): Searchable {
  return {
    name: model.name,
    creationTimestamp: model.creationTimestamp,
    lastUpdatedTimestamp: activity?.lastUpdatedTimestamp ?? model.creationTimestamp,
    tags: model.tags,
  };
}

export function versionSearchable(v: ModelVersion): Searchable {
  return {
    name: v.name,
    version: v.version,
    ...(v.runId ? { runId: v.runId } : {}),
    source: v.source,
    creationTimestamp: v.creationTimestamp,
    lastUpdatedTimestamp: v.lastUpdatedTimestamp,
    tags: v.tags,
  };
}

// ---------------------------------------------------------------- plans

/** Where the candidates of a search come from. */
export type Source =
  | { readonly kind: 'none' }
  | { readonly kind: 'model'; readonly name: string }
  | {
      readonly kind: 'index';
      readonly index: IndexDefinition;
      readonly partition: string;
      readonly prefix?: string;
    }
  | { readonly kind: 'indexes'; readonly index: IndexDefinition; readonly partitions: readonly string[] }
  | { readonly kind: 'models-by-prefix'; readonly prefix: string };

export type VersionPlan =
  /** Nothing can match (e.g. a name longer than any model name). */
  | { readonly kind: 'empty' }
  /** One model's versions, in an order its partition or index gives. */
  | {
      readonly kind: 'model';
      readonly name: string;
      readonly by: 'number' | 'updated';
      readonly ascending: boolean;
      /** Versions created in the same millisecond are sorted by the query's tiebreaks. */
      readonly tiesOnCreation?: boolean;
    }
  /** An index read in the requested order. */
  | {
      readonly kind: 'stream';
      readonly index: IndexDefinition;
      readonly partition: string;
      readonly ascending: boolean;
    }
  /** Every model in name order, each model's versions in number order (order by name). */
  | {
      readonly kind: 'models-walk';
      readonly prefix?: string;
      readonly ascending: boolean;
      readonly versionsAscending: boolean;
    }
  /** The matches of an equality, sorted in memory. */
  | { readonly kind: 'collect'; readonly source: Source };

/** Order by name, then (by default) by version number: each model's partition in number order. */
const walksInNumberOrder = (order: readonly OrderTerm[]) =>
  order[1] === undefined || order[1].key === 'version_number';
const attr = (c: FilterClause, name: string) => c.key.type === 'attribute' && c.key.name === name;
const equals = (clauses: readonly FilterClause[], name: string) =>
  clauses.find((c) => attr(c, name) && c.comparator === '=' && typeof c.value === 'string')?.value as
    | string
    | undefined;

/** `LIKE 'abc%'` (no other wildcard): a literal prefix an index can serve. */
export function literalPrefix(clauses: readonly FilterClause[], name: string): string | undefined {
  for (const c of clauses) {
    if (attr(c, name) && c.comparator === 'LIKE' && typeof c.value === 'string') {
      const m = /^([^%_\\]+)%$/.exec(c.value);
      if (m) return m[1];
    }
  }
  return undefined;
}

function tagEquality(clauses: readonly FilterClause[]): { key: string; value: string } | undefined {
  const c = clauses.find((x) => x.key.type === 'tag' && x.comparator === '=' && typeof x.value === 'string');
  return c ? { key: c.key.name, value: c.value as string } : undefined;
}

/** A name no model can have (longer than the limit) matches nothing; its key would be refused. */
const impossibleName = beyondModelNames;

export function planVersionSearch(
  clauses: readonly FilterClause[],
  order: readonly OrderTerm[],
): VersionPlan {
  const first = order[0] ?? { key: 'last_updated_timestamp', direction: 'DESC' };
  const ascending = first.direction === 'ASC';
  const name = equals(clauses, 'name');
  if (name !== undefined) {
    if (impossibleName(name)) return { kind: 'empty' };
    // One model: `name` orders nothing, the next key decides (version DESC by default).
    const key = order.find((t) => t.key !== 'name') ?? { key: 'version_number', direction: 'DESC' };
    const keyAscending = key.direction === 'ASC';
    if (key.key === 'last_updated_timestamp') {
      return { kind: 'model', name, by: 'updated', ascending: keyAscending };
    }
    // Creation times go up with numbers (versions.ts): the partition's order, ties sorted.
    return {
      kind: 'model',
      name,
      by: 'number',
      ascending: keyAscending,
      ...(key.key === 'creation_timestamp' ? { tiesOnCreation: true } : {}),
    };
  }
  const run = equals(clauses, 'run_id');
  if (run !== undefined) {
    return first.key === 'last_updated_timestamp'
      ? { kind: 'stream', index: INDEXES.byRun, partition: versionKey.runPartition(run), ascending }
      : {
          kind: 'collect',
          source: { kind: 'index', index: INDEXES.byRun, partition: versionKey.runPartition(run) },
        };
  }
  const runs = clauses.find((c) => attr(c, 'run_id') && c.comparator === 'IN')?.value as
    | readonly string[]
    | undefined;
  if (runs) {
    return {
      kind: 'collect',
      source: {
        kind: 'indexes',
        index: INDEXES.byRun,
        partitions: [...new Set(runs)].map(versionKey.runPartition),
      },
    };
  }
  const tag = tagEquality(clauses);
  if (tag) {
    // gsi9 orders a tag's versions by last update, like gsi5 a run's.
    const partition = versionTagKey.partition(tag.key, tag.value);
    return first.key === 'last_updated_timestamp'
      ? { kind: 'stream', index: INDEXES.byTag, partition, ascending }
      : { kind: 'collect', source: { kind: 'index', index: INDEXES.byTag, partition } };
  }
  const source = equals(clauses, 'source_path');
  const sourcePrefix = source !== undefined ? source : literalPrefix(clauses, 'source_path');
  if (sourcePrefix !== undefined) {
    return {
      kind: 'collect',
      source: {
        kind: 'index',
        index: INDEXES.bySource,
        partition: 'SOURCES',
        prefix: versionKey.sourcePrefix(sourcePrefix, source !== undefined),
      },
    };
  }
  const namePrefix = literalPrefix(clauses, 'name');
  if (namePrefix !== undefined) {
    if (impossibleName(namePrefix)) return { kind: 'empty' };
    if (first.key === 'name' && walksInNumberOrder(order)) {
      const next = order[1] ?? { key: 'version_number', direction: 'DESC' };
      return {
        kind: 'models-walk',
        prefix: namePrefix,
        ascending,
        versionsAscending: next.key === 'version_number' && next.direction === 'ASC',
      };
    }
    return { kind: 'collect', source: { kind: 'models-by-prefix', prefix: namePrefix } };
  }
  switch (first.key) {
    case 'last_updated_timestamp':
      return { kind: 'stream', index: INDEXES.byUpdated, partition: VERSIONS_PARTITION, ascending };
    case 'creation_timestamp':
      return { kind: 'stream', index: INDEXES.byCreated, partition: VERSIONS_PARTITION, ascending };
    case 'name': {
      // Within a model, a time orders versions with MLflow's tiebreaks, which a walk in number
      // order does not give: sort the registry's (bounded), as for version_number.
      if (!walksInNumberOrder(order)) {
        return {
          kind: 'collect',
          source: { kind: 'index', index: INDEXES.byUpdated, partition: VERSIONS_PARTITION },
        };
      }
      const next = order[1] ?? { key: 'version_number', direction: 'DESC' };
      return {
        kind: 'models-walk',
        ascending,
        versionsAscending: next.key === 'version_number' && next.direction === 'ASC',
      };
    }
    case 'version_number':
      // No index orders every model's versions by number: sort the registry's (bounded).
      return {
        kind: 'collect',
        source: { kind: 'index', index: INDEXES.byUpdated, partition: VERSIONS_PARTITION },
      };
  }
}

export type ModelPlan =
  | { readonly kind: 'empty' }
  | { readonly kind: 'point'; readonly name: string }
  | {
      readonly kind: 'stream';
      readonly index: IndexDefinition;
      readonly ascending: boolean;
      readonly prefix?: string;
    }
  | { readonly kind: 'collect'; readonly prefix: string };

export function planModelSearch(clauses: readonly FilterClause[], order: readonly OrderTerm[]): ModelPlan {
  const first = order[0] ?? { key: 'name', direction: 'ASC' };
  const ascending = first.direction === 'ASC';
  const name = equals(clauses, 'name');
  if (name !== undefined) return impossibleName(name) ? { kind: 'empty' } : { kind: 'point', name };
  const prefix = literalPrefix(clauses, 'name');
  if (prefix !== undefined && impossibleName(prefix)) return { kind: 'empty' };
  if (prefix !== undefined && first.key === 'name')
    return { kind: 'stream', index: INDEXES.byName, ascending, prefix };
  if (prefix !== undefined) return { kind: 'collect', prefix };
  const index =
    first.key === 'creation_timestamp'
      ? INDEXES.byCreated
      : first.key === 'last_updated_timestamp'
        ? INDEXES.byUpdated
        : INDEXES.byName;
  return { kind: 'stream', index, ascending };
}

// ---------------------------------------------------------------- execution

/**
 * The time that leads an index's sort key (`<time:15>#…`): entries that share it tie on the
 * query's first key, and the index orders them by what follows in its key (a name, an id), not
 * by MLflow's tiebreaks (name ascending, then version descending): the page sorts them.
 */
const timeOf = (place: string) => place.slice(0, 15);

function versionTies(order: readonly OrderTerm[]) {
  const compare = compareBy(order);
  return {
    of: timeOf,
    compare: (a: ModelVersion, b: ModelVersion) => compare(versionSearchable(a), versionSearchable(b)),
  };
}

/** A version item's place among its model's versions by creation (then number). */
const creationPlace = (item: Item) => versionKey.inModel(Number(item.createdAt), Number(item.version));

export class Search {
  constructor(
    private readonly table: RegistryTable,
    private readonly tokens: PageTokens,
  ) {}

  /** Whole version items of index entries (KEYS_ONLY), by item id. */
  private async versionItems(entries: Item[]): Promise<Map<string, Item>> {
    const keys = entries.map((e) =>
      e.gsi9pk
        ? versionKey.primary(String(e.pk).slice(4), Number(String(e.sk).split('#')[1]))
        : { pk: e.pk, sk: e.sk },
    );
    const items = await this.table.getMany(keys);
    const byKey = new Map(items.map((i) => [itemId(i), i]));
    // Tag index entries are found by the version they belong to.
    return new Map(
      entries.flatMap((e, i) => {
        const item = byKey.get(itemId(keys[i]!));
        return item ? [[itemId(e), item] as const] : [];
      }),
    );
  }

  async versions(query: SearchQuery): Promise<Page<{ version: ModelVersion; model?: RegisteredModel }>> {
    const fingerprint = queryFingerprint(['versions', query.clauses, query.order]);
    const cursor = this.tokens.decode(query.pageToken, fingerprint);
    const plan = planVersionSearch(query.clauses, query.order);
    const accept = (item: Item) => {
      const v = toVersion(item);
      return matchesFilter(versionSearchable(v), query.clauses) ? v : undefined;
    };
    let page: Page<ModelVersion>;
    switch (plan.kind) {
      case 'empty':
        return { items: [] };
      case 'model': {
        const model = await this.model(plan.name);
        if (!model) return { items: [] };
        // The model's partition gives its versions in number order, which is their creation
        // order (creation times rise with numbers, versions.ts).
        const partition = {
          partition: modelPartition(model.id),
          sortKeyPrefix: versionKey.prefix,
          place: creationPlace,
        };
        const read = {
          tokens: this.tokens,
          fingerprint,
          cursor,
          ascending: plan.ascending,
          maxResults: query.maxResults,
          budget: SCAN_BUDGET,
          byteBudget: PAGE_BYTE_BUDGET,
          convert: accept,
        };
        page =
          plan.by === 'number'
            ? await this.table.stream({
                ...read,
                ...partition,
                ...(plan.tiesOnCreation ? { ties: versionTies(query.order) } : {}),
              })
            : // By last update: the versions updated since their creation (gsi7, sparse) merged
              // with those never updated, whose last update is their creation.
              await this.table.stream({
                ...read,
                index: INDEXES.byModelUpdated,
                partition: modelPartition(model.id),
                hydrate: (entries) => this.versionItems(entries),
                mergedWith: [{ ...partition, admits: (item) => item.gsi7pk === undefined }],
                ties: versionTies(query.order),
              });
        return this.withModels(page, new Map([[model.id, model]]));
      }
      case 'stream':
        page = await this.table.stream({
          tokens: this.tokens,
          fingerprint,
          cursor,
          index: plan.index,
          partition: plan.partition,
          ascending: plan.ascending,
          maxResults: query.maxResults,
          budget: SCAN_BUDGET,
          byteBudget: PAGE_BYTE_BUDGET,
          hydrate: (entries) => this.versionItems(entries),
          convert: accept,
          ties: versionTies(query.order),
        });
        return this.withModels(page);
      case 'models-walk':
        return this.withModels(await this.walkModels(plan, query, fingerprint, cursor, accept));
      case 'collect': {
        const candidates = await this.collectVersions(plan.source);
        const compare = compareBy(query.order);
        const all = candidates.flatMap((item) => accept(item) ?? []);
        all.sort((a, b) => compare(versionSearchable(a), versionSearchable(b)));
        return this.withModels(this.slice(all, query.maxResults, fingerprint, cursor, 'collect'));
      }
    }
  }

  /** The candidates an equality names, whole (at most COLLECT_LIMIT). */
  private async collectVersions(source: Source): Promise<Item[]> {
    const entries: Item[] = [];
    const add = (items: Item[]) => {
      entries.push(...items);
      if (entries.length > COLLECT_LIMIT) {
        throw new LimitExceededError(
          `The search matches more than ${COLLECT_LIMIT} versions and its order is not one an index gives; add a filter (e.g. name = '…'), or order by the key the filter's index is sorted by.`,
        );
      }
    };
    if (source.kind === 'index' || source.kind === 'indexes') {
      const partitions = source.kind === 'index' ? [source.partition] : source.partitions;
      for (const partition of partitions) {
        let start: Item | undefined;
        do {
          const page = await this.table.query({
            IndexName: source.index.indexName,
            KeyConditionExpression:
              source.kind === 'index' && source.prefix !== undefined
                ? '#pk = :p AND begins_with(#sk, :prefix)'
                : '#pk = :p',
            ExpressionAttributeNames: {
              '#pk': source.index.partitionKey,
              ...(source.kind === 'index' && source.prefix !== undefined
                ? { '#sk': source.index.sortKey }
                : {}),
            },
            ExpressionAttributeValues: {
              ':p': partition,
              ...(source.kind === 'index' && source.prefix !== undefined ? { ':prefix': source.prefix } : {}),
            },
            ...(start ? { ExclusiveStartKey: start } : {}),
          });
          add(page.items);
          start = page.last;
        } while (start);
      }
      const whole = await this.versionItems(entries);
      return entries.flatMap((e): Item[] => {
        const item = whole.get(itemId(e));
        return item ? [item] : [];
      });
    }
    if (source.kind === 'models-by-prefix') {
      const out: Item[] = [];
      for await (const model of this.modelsByPrefix(source.prefix, true)) {
        for await (const items of this.table.partition(modelPartition(model.id), versionKey.prefix)) {
          add(items);
          out.push(...items);
        }
      }
      return out;
    }
    return [];
  }

  /** Models in name order (optionally with a name prefix, from a name on, inclusive), with their ids. */
  private async *modelsByPrefix(prefix: string | undefined, ascending: boolean, from?: string) {
    // The highest code point: every name with the prefix sorts below prefix + it.
    const high = prefix === undefined ? undefined : `${prefix}\u{10FFFF}`;
    const low = prefix;
    let condition = 'gsi1pk = :p';
    const values: Item = { ':p': MODELS_PARTITION };
    if (from !== undefined) {
      if (ascending) {
        condition += high ? ' AND gsi1sk BETWEEN :from AND :high' : ' AND gsi1sk >= :from';
        values[':from'] = from;
        if (high) values[':high'] = high;
      } else {
        condition += low ? ' AND gsi1sk BETWEEN :low AND :from' : ' AND gsi1sk <= :from';
        values[':from'] = from;
        if (low) values[':low'] = low;
      }
    } else if (prefix) {
      condition += ' AND begins_with(gsi1sk, :prefix)';
      values[':prefix'] = prefix;
    }
    let start: Item | undefined;
    do {
      const page = await this.table.query({
        IndexName: INDEXES.byName.indexName,
        KeyConditionExpression: condition,
        ExpressionAttributeValues: values,
        ScanIndexForward: ascending,
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      for (const item of page.items) yield { name: item.gsi1sk as string, id: item.modelId as string };
      start = page.last;
    } while (start);
  }

  /**
   * Order by name: the models in name order, each model's versions in number order. The token
   * holds the model being read and the last version examined in it.
   */
  private async walkModels(
    plan: Extract<ReturnType<typeof planVersionSearch>, { kind: 'models-walk' }>,
    query: SearchQuery,
    fingerprint: string,
    cursor: PageCursor | undefined,
    accept: (item: Item) => ModelVersion | undefined,
  ): Promise<Page<ModelVersion>> {
    if (cursor && (cursor.p !== 'models-walk' || !cursor.k?.m || !cursor.k?.v)) throw this.tokens.invalid();
    const resumeModel = cursor?.k?.m;
    const resumeVersion = cursor?.k?.v;
    if (resumeModel && plan.prefix && !resumeModel.startsWith(plan.prefix)) throw this.tokens.invalid();
    if (resumeVersion && !/^\d{10}$/.test(resumeVersion)) throw this.tokens.invalid();
    const results: ModelVersion[] = [];
    let examined = 0;
    let bytes = 0;
    let position: { m: string; v: string } | undefined;
    for await (const model of this.modelsByPrefix(plan.prefix, plan.ascending, resumeModel)) {
      let start: Item | undefined =
        model.name === resumeModel
          ? { pk: modelPartition(model.id), sk: `${versionKey.prefix}${resumeVersion}` }
          : undefined;
      do {
        const page = await this.table.query({
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
          ExpressionAttributeValues: { ':pk': modelPartition(model.id), ':v': versionKey.prefix },
          ScanIndexForward: plan.versionsAscending,
          Limit: Math.min(1000, query.maxResults - results.length + 1),
          ...(start ? { ExclusiveStartKey: start } : {}),
        });
        for (const item of page.items) {
          if (results.length >= query.maxResults || bytes >= PAGE_BYTE_BUDGET || examined >= SCAN_BUDGET) {
            // Stopped before this item: the next page starts after the last one examined.
            return position
              ? {
                  items: results,
                  nextPageToken: this.tokens.encode({ v: 1, q: fingerprint, p: 'models-walk', k: position }),
                }
              : { items: results };
          }
          examined++;
          position = { m: model.name, v: String(item.sk).slice(versionKey.prefix.length) };
          const v = accept(item);
          if (v) {
            results.push({ ...v, name: model.name });
            bytes += JSON.stringify(item).length;
          }
        }
        start = page.last;
      } while (start);
    }
    return { items: results };
  }

  /** A page of in-memory sorted matches, by offset. */
  private slice<T>(
    all: T[],
    maxResults: number,
    fingerprint: string,
    cursor: PageCursor | undefined,
    path: string,
  ): Page<T> {
    if (cursor && (cursor.p !== path || cursor.o === undefined)) throw this.tokens.invalid();
    const offset = cursor?.o ?? 0;
    const items: T[] = [];
    let bytes = 0;
    for (const item of all.slice(offset, offset + maxResults)) {
      if (bytes >= PAGE_BYTE_BUDGET) break;
      items.push(item);
      bytes += JSON.stringify(item).length;
    }
    const next = offset + items.length;
    return next < all.length
      ? { items, nextPageToken: this.tokens.encode({ v: 1, q: fingerprint, p: path, o: next }) }
      : { items };
  }

  /** The models of a page's versions (one read for all): their aliases and current names. */
  private async withModels(
    page: Page<ModelVersion>,
    known = new Map<string, RegisteredModel>(),
  ): Promise<Page<{ version: ModelVersion; model?: RegisteredModel }>> {
    const missing = [...new Set(page.items.map((v) => v.name))].filter(
      (n) => ![...known.values()].some((m) => m.name === n),
    );
    if (missing.length) {
      for (const item of await this.table.getMany(missing.map((n) => modelKey.primary(n)))) {
        const model = toModel(item);
        known.set(model.id, model);
      }
    }
    return {
      items: page.items.map((v) => {
        const model = known.get(v.modelId);
        return model && !model.deleting ? { version: { ...v, name: model.name }, model } : { version: v };
      }),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    };
  }

  private async model(name: string): Promise<RegisteredModel | undefined> {
    const item = await this.table.get(modelKey.primary(name));
    const model = item ? toModel(item) : undefined;
    return model && !model.deleting ? model : undefined;
  }

  // ---------------------------------------------------------------- models

  /** Whole models and their anchors for index entries (model items or anchors), by entry id. */
  private async modelsOf(entries: Item[]): Promise<Map<string, Item>> {
    // Model items (by name, from the name and creation indexes) or anchors (by id, from the
    // last-update index): each needs the other.
    const keys = entries.flatMap((e) =>
      String(e.pk).startsWith('MID#')
        ? [anchorKey.primary(String(e.modelId)), modelKey.primary(String(e.name))]
        : [{ pk: e.pk, sk: e.sk }, anchorKey.primary(String(e.modelId))],
    );
    const items = new Map((await this.table.getMany(keys)).map((i) => [itemId(i), i]));
    return new Map(
      entries.flatMap((e) => {
        const anchorEntry = String(e.pk).startsWith('MID#');
        const model = items.get(
          itemId(anchorEntry ? modelKey.primary(String(e.name)) : { pk: e.pk, sk: e.sk }),
        );
        const anchor = items.get(itemId(anchorKey.primary(String(e.modelId))));
        return model && anchor ? [[itemId(e), { ...model, __anchor: anchor } as Item] as const] : [];
      }),
    );
  }

  private acceptModel(clauses: readonly FilterClause[]) {
    return (item: Item): ModelWithActivity | undefined => {
      const model = toModel(item);
      const activity = toActivity(item.__anchor as Item);
      if (model.deleting || activity.deleting || model.id !== (item.__anchor as Item).modelId)
        return undefined;
      return matchesFilter(modelSearchable(model, activity), clauses) ? { model, activity } : undefined;
    };
  }

  async models(query: SearchQuery): Promise<Page<ModelWithActivity>> {
    const fingerprint = queryFingerprint(['models', query.clauses, query.order]);
    const cursor = this.tokens.decode(query.pageToken, fingerprint);
    const plan = planModelSearch(query.clauses, query.order);
    const accept = this.acceptModel(query.clauses);
    const compareModels = compareBy(query.order);
    switch (plan.kind) {
      case 'empty':
        return { items: [] };
      case 'point': {
        if (cursor) return { items: [] };
        const item = await this.table.get(modelKey.primary(plan.name), true);
        if (!item) return { items: [] };
        const anchor = await this.table.get(anchorKey.primary(String(item.modelId)), true);
        const found = anchor ? accept({ ...item, __anchor: anchor }) : undefined;
        return { items: found ? [found] : [] };
      }
      case 'stream':
        return this.table.stream({
          tokens: this.tokens,
          fingerprint,
          cursor,
          index: plan.index,
          partition: MODELS_PARTITION,
          ascending: plan.ascending,
          sortKeyPrefix: plan.prefix,
          maxResults: query.maxResults,
          budget: SCAN_BUDGET,
          byteBudget: PAGE_BYTE_BUDGET,
          hydrate: (entries) => this.modelsOf(entries),
          convert: accept,
          ...(plan.index === INDEXES.byName
            ? {}
            : {
                ties: {
                  of: timeOf,
                  compare: (a: ModelWithActivity, b: ModelWithActivity) =>
                    compareModels(modelSearchable(a.model, a.activity), modelSearchable(b.model, b.activity)),
                },
              }),
        });
      case 'collect': {
        const entries: Item[] = [];
        for await (const m of this.modelsByPrefix(plan.prefix, true)) {
          entries.push({ ...modelKey.primary(m.name), gsi1sk: m.name, modelId: m.id });
          if (entries.length > COLLECT_LIMIT) {
            throw new LimitExceededError(
              `More than ${COLLECT_LIMIT} models start with '${plan.prefix}'; order by name or use a longer prefix.`,
            );
          }
        }
        const whole = await this.modelsOf(entries);
        const all = entries.flatMap((e) => {
          const item = whole.get(itemId(e));
          const found = item ? accept(item) : undefined;
          return found ? [found] : [];
        });
        const compare = compareBy(query.order);
        all.sort((a, b) =>
          compare(modelSearchable(a.model, a.activity), modelSearchable(b.model, b.activity)),
        );
        return this.slice(all, query.maxResults, fingerprint, cursor, 'collect');
      }
    }
  }
}
