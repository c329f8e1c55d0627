/**
 * Model versions: numbered by an atomic counter on the model's anchor (concurrent creates queue on
 * one item instead of conflicting), stored with their tag index items and their event in one
 * transaction, updated without reading them back.
 */
import { randomUUID } from 'node:crypto';
import { TTL_ATTRIBUTE } from '../../deployment/table';
import {
  ConcurrentModificationError,
  InvalidStateError,
  LimitExceededError,
  ResourceNotFoundError,
} from '../../domain/errors';
import { REGISTRY_ACTOR, registryEvent } from '../../domain/events';
import { type ModelVersion, type RegisteredModel, summaryOf, type VersionStatus } from '../../domain/model';
import { MAX_TAGS_PER_ENTITY } from '../../domain/rules';
import type { ModelRef, NewModelVersion, RequestClosure } from '../../use-cases/ports';
import { summaryItem, toVersion, versionItem, versionTagItem } from './codecs';
import {
  anchorKey,
  cardKey,
  clientTokenKey,
  modelKey,
  modelPartition,
  versionKey,
  versionTagKey,
} from './keys';
import { notFoundModel } from './models';
import { closeItem } from './requests';
import {
  assertItemSize,
  type Item,
  type Journal,
  type RegistryTable,
  sleep,
  type TransactItem,
  WriteRefused,
} from './table';

/** A client-token claim older than this belongs to a create that crashed (Lambda stops at 30 s). */
export const CLAIM_LEASE_MS = 60_000;
/** How long a retry waits for the create holding its token's claim to finish. */
const CLAIM_WAIT_MS = 5_000;
/** Pages (of 100 versions) read looking for the latest version in None when a number is skipped. */
const DRAFT_SEARCH_PAGES = 5;

export const notFoundVersion = (name: string, version: number) =>
  new ResourceNotFoundError(`Model Version (name=${name}, version=${version}) not found`);

type Named = ModelRef & { readonly name: string };

/** A write refused because the version's tags (or its last update) changed since it was read. */
const changedTags = (model: Named, version: number) =>
  new ConcurrentModificationError(
    `The tags of Model Version (name=${model.name}, version=${version}) changed during the update; nothing was changed. Retry.`,
  );

/**
 * Moves a version's tag items to its new last-updated time in gsi9, in the transaction that sets
 * it (one item each). Only the sort key is set: a tag whose value changed meanwhile keeps its new
 * partition; one deleted meanwhile refuses the write (the caller retries with the tags as they are).
 */
export function tagMoves(
  table: string,
  modelId: string,
  version: number,
  tagKeys: readonly string[],
  updated: number,
): TransactItem[] {
  const sortKey = versionTagKey.sortKey(updated, modelId, version);
  return tagKeys.map((key) => ({
    Update: {
      TableName: table,
      Key: versionTagKey.primary(modelId, version, key),
      UpdateExpression: 'SET gsi9sk = :s',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':s': sortKey },
    },
  }));
}

/**
 * The version still has as many tags as the writer read (a tag added meanwhile would be left
 * behind by `tagMoves`): a condition on the version item, with its value.
 */
export function tagCount(n: number, name = ':tagCount') {
  return {
    expression: n === 0 ? `(attribute_not_exists(tags) OR size(tags) = ${name})` : `size(tags) = ${name}`,
    values: { [name]: n },
  };
}

export class Versions {
  constructor(private readonly table: RegistryTable) {}

  private get t() {
    return this.table.name;
  }

  async get(model: Named, version: number): Promise<ModelVersion | undefined> {
    const item = await this.table.get(versionKey.primary(model.id, version), true);
    return item ? { ...toVersion(item), name: model.name } : undefined;
  }

  async getMany(model: Named, versions: readonly number[]): Promise<ModelVersion[]> {
    if (versions.length === 0) return [];
    const items = await this.table.getMany(
      [...new Set(versions)].map((v) => versionKey.primary(model.id, v)),
      true,
    );
    return items
      .map((item) => ({ ...toVersion(item), name: model.name }))
      .sort((a, b) => a.version - b.version);
  }

  /**
   * Creates a version: the anchor's counter gives its number (and the model's last update, and the
   * latest version in None, which a new version always is); then the version, its client token,
   * its tag index items and its event are written in one transaction, so a committed version always
   * has its event. A crash between the two leaves the number unused (numbers are never reused) and
   * the anchor's summary naming a version that does not exist, until the reconciler settles it
   * (skipNumber).
   */
  async create(
    model: RegisteredModel,
    draft: NewModelVersion,
    now: number,
    clientToken: string | undefined,
    journal: Journal,
  ): Promise<{ version: ModelVersion; created: boolean }> {
    const draftOf = (created: number, number: number): ModelVersion => ({
      ...draft,
      source: typeof draft.source === 'function' ? draft.source(number) : draft.source,
      name: model.name,
      modelId: model.id,
      version: number,
      stage: 'None',
      creationTimestamp: created,
      lastUpdatedTimestamp: created,
    });
    // Refuse a version that cannot be stored before a number is spent on it.
    assertItemSize(versionItem(draftOf(now, 1), clientToken), `Model Version (name=${model.name})`);
    // A client token is claimed before a number is spent, so concurrent retries of one create
    // spend one number between them and all answer with the version it got.
    const claim = clientToken ? await this.claimToken(model, clientToken, now) : undefined;
    if (claim && 'existing' in claim) return { version: claim.existing, created: false };
    // Numbers and creation times go up together (a creation time is never below the one before,
    // whatever the clocks of concurrent writers say): ordering a model's versions by creation is
    // ordering them by number, as an index-free read of the partition gives them.
    let created = now;
    let counted: Item | undefined;
    for (let attempt = 0; !counted; attempt++) {
      const { version: _, ...summary } = summaryOf(draftOf(created, 1));
      try {
        counted = await this.table.update({
          Key: anchorKey.primary(model.id),
          UpdateExpression:
            'SET lastVersion = if_not_exists(lastVersion, :zero) + :one, lastCreated = :now, updatedAt = :now, gsi3sk = :u, latest.#none = :s ADD revision :one, inNone :one',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(deleting) AND #n = :name AND (attribute_not_exists(lastCreated) OR lastCreated <= :now)',
          ExpressionAttributeNames: { '#none': 'None', '#n': 'name' },
          ExpressionAttributeValues: {
            ':zero': 0,
            ':one': 1,
            ':now': created,
            ':u': anchorKey.updatedIndex(model.id, created).gsi3sk,
            ':s': summaryItem(summary as never),
            ':name': model.name,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        });
      } catch (err) {
        const old = err instanceof WriteRefused ? err.item(0) : undefined;
        const behind =
          old && old.name === model.name && !old.deleting && typeof old.lastCreated === 'number'
            ? (old.lastCreated as number)
            : undefined;
        // This writer's clock is behind the last create's: take that time and retry. Each retry
        // adopts a time some concurrent create already committed, so retries end once the
        // writers that started later have committed; the bound only guards against a clock
        // running away.
        if (behind !== undefined && behind > created && attempt < 64) {
          created = behind;
          continue;
        }
        if (claim) await this.releaseToken(model, clientToken!, claim.id);
        if (err instanceof WriteRefused) throw notFoundModel(model.name);
        throw err;
      }
    }
    const number = counted.lastVersion as number;
    const version = draftOf(created, number);
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.t,
          Item: versionItem(version, clientToken),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...Object.entries(version.tags).map(([key, value]) => ({
        Put: { TableName: this.t, Item: versionTagItem(version, key, value) },
      })),
    ];
    if (clientToken && claim) {
      items.push({
        Put: {
          TableName: this.t,
          Item: { ...clientTokenKey.primary(model.id, clientToken), version: number, createdAt: now },
          ConditionExpression: '#claim = :claim',
          ExpressionAttributeNames: { '#claim': 'claim' },
          ExpressionAttributeValues: { ':claim': claim.id },
        },
      });
    }
    try {
      await this.table.write(items, journal, version);
      return { version, created: true };
    } catch (err) {
      // The number is spent and never reused: record it as skipped and point the anchor's
      // summary back at the latest version that exists.
      await this.skipNumber(model, number, 'The version could not be stored; nothing was created.');
      if (claim) await this.releaseToken(model, clientToken!, claim.id);
      if (!(err instanceof WriteRefused)) throw err;
      throw new ConcurrentModificationError(
        `Version ${number} of Registered Model (name=${model.name}) could not be stored; nothing was created. Retry the request.`,
      );
    }
  }

  /**
   * Claims a client token for one create: the token's item is written before the number is
   * spent. A token that already names a version answers with it; one claimed by a create still
   * running is waited for; a claim older than CLAIM_LEASE_MS (its create crashed) is taken over.
   */
  private async claimToken(
    model: RegisteredModel,
    token: string,
    now: number,
  ): Promise<{ id: string } | { existing: ModelVersion }> {
    const id = randomUUID();
    const deadline = Date.now() + CLAIM_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.table.update({
          Key: clientTokenKey.primary(model.id, token),
          UpdateExpression: 'SET #claim = :id, claimedAt = :now',
          ConditionExpression:
            'attribute_not_exists(pk) OR (attribute_not_exists(version) AND claimedAt < :stale)',
          ExpressionAttributeNames: { '#claim': 'claim' },
          ExpressionAttributeValues: { ':id': id, ':now': now, ':stale': now - CLAIM_LEASE_MS },
        });
        return { id };
      } catch (err) {
        if (!(err instanceof WriteRefused)) throw err;
      }
      const existing = await this.byToken(model, token);
      if (existing) return { existing };
      if (Date.now() > deadline) {
        throw new ConcurrentModificationError(
          `A create of a version of Registered Model (name=${model.name}) with this client token is still in progress. Retry the request to get the version it creates.`,
        );
      }
      await sleep(Math.min(250, 20 * 2 ** attempt));
    }
  }

  /** Frees a claim whose create stored nothing, so a retry with the token can create. */
  private async releaseToken(model: RegisteredModel, token: string, claim: string): Promise<void> {
    await this.table
      .deleteItem(clientTokenKey.primary(model.id, token), {
        expression: '#claim = :claim AND attribute_not_exists(version)',
        names: { '#claim': 'claim' },
        values: { ':claim': claim },
      })
      .catch(() => undefined);
  }

  /**
   * Settles a number that was spent without storing its version (the store refused it, or the
   * create crashed between spending and storing): if the anchor still names it as the latest
   * version in None, the summary goes back to the latest stored version in None and a
   * ModelVersionNumberSkipped event records the gap, in one transaction. Idempotent: once
   * settled (or after a later create), the anchor no longer names the number and nothing is done.
   */
  async skipNumber(model: Named, number: number, reason: string): Promise<boolean> {
    if (await this.table.get(versionKey.primary(model.id, number), true)) return false;
    const previous = await this.latestDraftBelow(model, number);
    const names = { '#none': 'None', '#v': 'version' };
    const anchor: TransactItem = {
      Update: {
        TableName: this.t,
        Key: anchorKey.primary(model.id),
        ConditionExpression:
          'lastVersion = :n AND attribute_exists(latest.#none) AND attribute_not_exists(latest.#none.#v)',
        ...(previous
          ? {
              // The count of versions in None took the spent number: it gives it back.
              UpdateExpression: 'SET latest.#none = :s ADD inNone :minus',
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: {
                ':n': number,
                ':s': summaryItem(summaryOf(previous)),
                ':minus': -1,
              },
            }
          : {
              UpdateExpression: 'REMOVE latest.#none ADD inNone :minus',
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: { ':n': number, ':minus': -1 },
            }),
      },
    };
    const event = registryEvent('ModelVersionNumberSkipped', {
      now: Date.now(),
      actor: REGISTRY_ACTOR,
      model,
      version: number,
      reason,
      data: { latest_in_none: previous?.version ?? null },
    });
    try {
      await this.table.write([anchor], [event]);
      return true;
    } catch (err) {
      if (err instanceof WriteRefused) return false;
      throw err;
    }
  }

  /** The highest-numbered stored version below `number` that is in None (bounded read). */
  private async latestDraftBelow(model: Named, number: number): Promise<ModelVersion | undefined> {
    let start: Item | undefined;
    for (let page = 0; page < DRAFT_SEARCH_PAGES && number > 1; page++) {
      const { items, last } = await this.table.query({
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        FilterExpression: '#stage = :none',
        ExpressionAttributeNames: { '#stage': 'stage' },
        ExpressionAttributeValues: {
          ':pk': modelPartition(model.id),
          ':lo': versionKey.primary(model.id, 1).sk,
          ':hi': versionKey.primary(model.id, number - 1).sk,
          ':none': 'None',
        },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: 100,
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      if (items[0]) return { ...toVersion(items[0]), name: model.name };
      if (!last) return undefined;
      start = last;
    }
    return undefined;
  }

  /** Which of the given versions are not stored (one batched read). */
  async missing(refs: readonly { model: Named; number: number }[]) {
    const stored = new Set(
      (
        await this.table.getMany(
          refs.map((r) => versionKey.primary(r.model.id, r.number)),
          true,
        )
      ).map((v) => `${v.modelId}#${v.version}`),
    );
    return refs.filter((r) => !stored.has(`${r.model.id}#${r.number}`));
  }

  /** The version a client token created (refused if that version was deleted since). */
  private async byToken(model: RegisteredModel, token: string): Promise<ModelVersion | undefined> {
    const item = await this.table.get(clientTokenKey.primary(model.id, token), true);
    // No item, or only a claim: no version was created with the token (yet).
    if (item?.version === undefined) return undefined;
    const existing = await this.get(model, item.version as number);
    if (!existing) {
      throw new InvalidStateError(
        `The client token was already used to create version ${item.version} of ${model.name}, which has since been deleted. Use a new client token.`,
      );
    }
    return existing;
  }

  /** A version update, conditioned on the version existing; refusals become domain errors. */
  private async change(
    model: RegisteredModel,
    version: ModelVersion,
    after: ModelVersion,
    update: string,
    values: Item,
    names: Record<string, string>,
    extra: readonly TransactItem[],
    journal: Journal,
    condition?: { expression: string; limit?: string },
  ): Promise<ModelVersion> {
    assertItemSize(versionItem(after), `Model Version (name=${model.name}, version=${version.version})`);
    try {
      await this.table.write(
        [
          {
            Update: {
              TableName: this.t,
              Key: versionKey.primary(model.id, version.version),
              UpdateExpression: update,
              ConditionExpression: ['attribute_exists(pk)', condition?.expression]
                .filter(Boolean)
                .join(' AND '),
              ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
              ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          ...extra,
        ],
        journal,
      );
    } catch (err) {
      if (err instanceof WriteRefused && err.failed(0)) {
        const old = err.item(0);
        if (!old) throw notFoundVersion(model.name, version.version);
        // Updated or given other tags since it was read: its tag items cannot follow this write.
        if (
          old.updatedAt !== version.lastUpdatedTimestamp ||
          Object.keys((old.tags as Item | undefined) ?? {}).length !== Object.keys(version.tags).length
        )
          throw changedTags(model, version.version);
        if (condition?.limit) throw new LimitExceededError(condition.limit);
      }
      // A tag item moved with the version was deleted meanwhile.
      if (err instanceof WriteRefused && !err.failed(0)) throw changedTags(model, version.version);
      throw err;
    }
    return after;
  }

  /** `SET updatedAt` and the index keys ordered by it. */
  private updated(model: RegisteredModel, version: ModelVersion, now: number) {
    const keys = versionKey.updatedIndexes({
      modelId: model.id,
      name: model.name,
      version: version.version,
      runId: version.runId,
      updated: now,
    });
    return {
      set: `updatedAt = :now, gsi3sk = :g3, gsi7pk = :g7pk, gsi7sk = :g7${keys.gsi5sk ? ', gsi5sk = :g5' : ''}`,
      values: {
        ':now': now,
        ':g3': keys.gsi3sk,
        ':g7pk': keys.gsi7pk,
        ':g7': keys.gsi7sk,
        ...(keys.gsi5sk ? { ':g5': keys.gsi5sk } : {}),
      },
    };
  }

  updateDescription(
    model: RegisteredModel,
    version: ModelVersion,
    description: string,
    now: number,
    journal: Journal,
  ) {
    const u = this.updated(model, version, now);
    const count = tagCount(Object.keys(version.tags).length);
    return this.change(
      model,
      version,
      { ...version, description, lastUpdatedTimestamp: now },
      `SET description = :d, ${u.set}`,
      { ':d': description, ...u.values, ...count.values },
      {},
      tagMoves(this.t, model.id, version.version, Object.keys(version.tags), now),
      journal,
      { expression: count.expression },
    );
  }

  async setTag(model: RegisteredModel, version: ModelVersion, key: string, value: string, journal: Journal) {
    await this.change(
      model,
      version,
      { ...version, tags: { ...version.tags, [key]: value } },
      'SET tags.#k = :v',
      { ':v': value, ':max': MAX_TAGS_PER_ENTITY, ':u': version.lastUpdatedTimestamp },
      { '#k': key },
      // Its tag item sorts by the version's last update as read: the version must not have been
      // updated since (a write that updates it moves the tag items it knows of).
      [{ Put: { TableName: this.t, Item: versionTagItem(version, key, value) } }],
      journal,
      {
        expression: '(attribute_exists(tags.#k) OR size(tags) < :max) AND updatedAt = :u',
        limit: `Model Version (name=${model.name}, version=${version.version}) has ${MAX_TAGS_PER_ENTITY} tags already; delete one before adding another.`,
      },
    );
  }

  async deleteTag(model: RegisteredModel, version: ModelVersion, key: string, journal: Journal) {
    const { [key]: _, ...tags } = version.tags;
    await this.change(
      model,
      version,
      { ...version, tags },
      'REMOVE tags.#k',
      {},
      { '#k': key },
      [{ Delete: { TableName: this.t, Key: versionTagKey.primary(model.id, version.version, key) } }],
      journal,
    );
  }

  /**
   * Deletes a version with its tag index items and its model card, drops the aliases that point
   * at it (and bumps the anchor's revision, with the latest version of its stage after it), and
   * closes its open requests, in one transaction. Its number is never reused.
   */
  async delete(
    model: RegisteredModel,
    version: ModelVersion,
    now: number,
    anchor: { revision: number; latest?: Item | null },
    close: readonly RequestClosure[],
    journal: Journal,
  ): Promise<void> {
    const aliases = Object.entries(model.aliases)
      .filter(([, v]) => v === version.version)
      .map(([a]) => a);
    const latestName = { '#s': version.stage };
    const items: TransactItem[] = [
      {
        Delete: {
          TableName: this.t,
          Key: versionKey.primary(model.id, version.version),
          ConditionExpression: 'attribute_exists(pk)',
        },
      },
      ...Object.keys(version.tags).map((key) => ({
        Delete: { TableName: this.t, Key: versionTagKey.primary(model.id, version.version, key) },
      })),
      // Unconditional: the version may have no card. A card write racing this delete checks the
      // version in its own transaction, so it either lands before (and goes with it) or fails.
      { Delete: { TableName: this.t, Key: cardKey.primary(model.id, version.version) } },
      {
        Update: {
          TableName: this.t,
          Key: modelKey.primary(model.name),
          UpdateExpression: `${aliases.length ? `REMOVE ${aliases.map((_, i) => `aliases.#a${i}`).join(', ')} ` : ''}ADD revision :one`,
          ConditionExpression: 'modelId = :id AND attribute_not_exists(deleting)',
          ...(aliases.length
            ? { ExpressionAttributeNames: Object.fromEntries(aliases.map((a, i) => [`#a${i}`, a])) }
            : {}),
          ExpressionAttributeValues: { ':one': 1, ':id': model.id },
        },
      },
      {
        Update: {
          TableName: this.t,
          Key: anchorKey.primary(model.id),
          UpdateExpression: `SET revision = :next, updatedAt = :now, gsi3sk = :u${anchor.latest === undefined ? '' : anchor.latest === null ? ' REMOVE latest.#s' : ', latest.#s = :latest'}${version.stage === 'None' ? ' ADD inNone :minus' : ''}`,
          ConditionExpression: 'revision = :rev AND attribute_not_exists(deleting)',
          ...(anchor.latest === undefined ? {} : { ExpressionAttributeNames: latestName }),
          ExpressionAttributeValues: {
            ':next': anchor.revision + 1,
            ':rev': anchor.revision,
            ':now': now,
            ':u': anchorKey.updatedIndex(model.id, now).gsi3sk,
            ...(anchor.latest ? { ':latest': anchor.latest } : {}),
            ...(version.stage === 'None' ? { ':minus': -1 } : {}),
          },
        },
      },
      ...close.map((c) => closeItem(this.t, c, now)),
    ];
    try {
      await this.table.write(items, journal);
    } catch (err) {
      if (err instanceof WriteRefused) {
        if (err.failed(0)) throw notFoundVersion(model.name, version.version);
        throw new ConcurrentModificationError(
          `Registered Model (name=${model.name}) changed while deleting version ${version.version}; nothing was changed. Retry.`,
        );
      }
      throw err;
    }
  }

  async addUpload(model: RegisteredModel, version: number, path: string, uploadId: string): Promise<boolean> {
    try {
      await this.table.update({
        Key: versionKey.primary(model.id, version),
        UpdateExpression: 'SET uploads.#p = :u',
        ConditionExpression: 'attribute_exists(pk) AND #st = :pending AND attribute_not_exists(uploads.#p)',
        ExpressionAttributeNames: { '#st': 'status', '#p': path },
        ExpressionAttributeValues: { ':u': uploadId, ':pending': 'PENDING_REGISTRATION' },
      });
      return true;
    } catch (err) {
      if (err instanceof WriteRefused) return false;
      throw err;
    }
  }

  /**
   * Moves a version out of PENDING_REGISTRATION (or updates its message while pending), and the
   * model's summary of it when it is the latest in its stage.
   */
  async setStatus(
    model: RegisteredModel,
    version: number,
    status: VersionStatus,
    message: string,
    now: number,
    journal: Journal,
  ): Promise<boolean> {
    const settled = status !== 'PENDING_REGISTRATION';
    // Its tags move with its last-updated time (gsi9).
    const current = await this.table.get(versionKey.primary(model.id, version), true);
    if (!current || current.status !== 'PENDING_REGISTRATION') return false;
    const { tags, runId } = toVersion(current);
    const count = tagCount(Object.keys(tags).length);
    const keys = versionKey.updatedIndexes({
      modelId: model.id,
      name: model.name,
      version,
      runId,
      updated: now,
    });
    try {
      await this.table.write(
        [
          {
            Update: {
              TableName: this.t,
              Key: versionKey.primary(model.id, version),
              // The expiry goes in either case: a version whose files are finalized is being
              // verified, and DynamoDB TTL must not delete it however long (or often) that takes.
              UpdateExpression:
                `SET #st = :s, statusMessage = :m, updatedAt = :now, gsi3sk = :g3, gsi7pk = :g7pk, gsi7sk = :g7${keys.gsi5sk ? ', gsi5sk = :g5' : ''}` +
                ` REMOVE ${settled ? 'uploads, ' : ''}${TTL_ATTRIBUTE}`,
              ConditionExpression: `attribute_exists(pk) AND #st = :pending AND ${count.expression}`,
              ExpressionAttributeNames: { '#st': 'status' },
              ExpressionAttributeValues: {
                ':s': status,
                ':m': message,
                ':now': now,
                ':g3': keys.gsi3sk,
                ':g7pk': keys.gsi7pk,
                ':g7': keys.gsi7sk,
                ...(keys.gsi5sk ? { ':g5': keys.gsi5sk } : {}),
                ':pending': 'PENDING_REGISTRATION',
                ...count.values,
              },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          ...tagMoves(this.t, model.id, version, Object.keys(tags), now),
        ],
        journal,
      );
    } catch (err) {
      if (!(err instanceof WriteRefused)) throw err;
      // No longer pending (or gone): another writer settled it.
      if (err.failed(0) && err.item(0)?.status !== 'PENDING_REGISTRATION') return false;
      throw changedTags(model, version);
    }
    if (settled) {
      // The summary of the latest version in None, if it is this one (best effort: a summary).
      await this.table
        .update({
          Key: anchorKey.primary(model.id),
          UpdateExpression: 'SET latest.#none.#st = :s, latest.#none.statusMessage = :m',
          ConditionExpression:
            'attribute_exists(latest.#none) AND (latest.#none.version = :v OR (attribute_not_exists(latest.#none.version) AND lastVersion = :v))',
          ExpressionAttributeNames: { '#none': 'None', '#st': 'status' },
          ExpressionAttributeValues: { ':s': status, ':m': message, ':v': version },
        })
        .catch((e) => {
          if (!(e instanceof WriteRefused)) throw e;
        });
    }
    return true;
  }

  /** Every version of a model (for maintenance: renames, deletes). */
  partition(model: ModelRef) {
    return this.table.partition(modelPartition(model.id), versionKey.prefix, { consistent: true });
  }
}
