/**
 * Registered models: the model item (by name: description, tags, aliases, policy) and its anchor
 * (by immutable id: name, version counter, last update, latest version per stage). Every write of
 * the model item increments its `revision`, so a rename (which copies it) loses nothing.
 */

import { randomUUID } from 'node:crypto';
import {
  ConcurrentModificationError,
  LimitExceededError,
  ResourceAlreadyExistsError,
  ResourceNotFoundError,
} from '../../domain/errors';
import type { Approval, PolicyChangeRequest, PolicyOverride } from '../../domain/governance';
import type { ModelActivity, RegisteredModel } from '../../domain/model';
import { firstModelId } from '../../domain/model-id';
import { MAX_ALIASES_PER_MODEL, MAX_TAGS_PER_ENTITY } from '../../domain/rules';
import type { ModelRef } from '../../use-cases/ports';
import { anchorItem, modelItem, toActivity, toModel, toVersion } from './codecs';
import {
  anchorKey,
  cardKey,
  clientTokenKey,
  MODELS_PARTITION,
  modelKey,
  modelPartition,
  padTime,
  policyRequestKey,
  requestKey,
  versionKey,
  versionTagKey,
} from './keys';
import {
  assertItemSize,
  INDEXES,
  type Item,
  type Journal,
  type RegistryTable,
  type TransactItem,
  WriteRefused,
} from './table';

export const notFoundModel = (name: string) =>
  new ResourceNotFoundError(`Registered Model with name=${name} not found`);

/** A refused write's model item gone, being deleted, or another model's: the model is not found. */
const gone = (item: Item | undefined, model: Pick<RegisteredModel, 'id'>) =>
  !item || item.deleting === true || item.modelId !== model.id;

export class Models {
  constructor(private readonly table: RegistryTable) {}

  private get t() {
    return this.table.name;
  }

  async get(name: string): Promise<RegisteredModel | undefined> {
    const item = await this.table.get(modelKey.primary(name), true);
    return item ? toModel(item) : undefined;
  }

  /**
   * The id for a new model of this name: the name's first id (domain/model.ts `firstModelId`)
   * unless its partition holds anything (a model had it: renamed, or deleted with its history
   * kept), else a random one. A concurrent create of the same name is refused by the model
   * item's condition.
   */
  async newId(name: string): Promise<string> {
    const first = firstModelId(name);
    const used = await this.table.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': modelPartition(first) },
      ProjectionExpression: 'pk',
      ConsistentRead: true,
      Limit: 1,
    });
    return used.items.length ? randomUUID() : first;
  }

  async getById(id: string): Promise<RegisteredModel | undefined> {
    const anchor = await this.table.get(anchorKey.primary(id), true);
    if (!anchor) return undefined;
    const model = await this.get(anchor.name as string);
    return model?.id === id ? model : undefined;
  }

  /**
   * The anchors updated in [since, until], each with its activity and whether its latest version
   * in None is the one its counter last gave (written by a create before it stored the version).
   */
  async *anchorsUpdated(since: number, until: number) {
    let start: Item | undefined;
    do {
      const page = await this.table.query({
        IndexName: INDEXES.byUpdated.indexName,
        KeyConditionExpression: 'gsi3pk = :p AND gsi3sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':p': MODELS_PARTITION, ':lo': padTime(since), ':hi': padTime(until) },
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      start = page.last;
      const anchors = await this.table.getMany(
        page.items.map((i) => anchorKey.primary(i.modelId as string)),
        true,
      );
      yield anchors.map((item) => {
        const activity = toActivity(item);
        const none = (item.latest as Record<string, Item> | undefined)?.None;
        return {
          model: { id: item.modelId as string, name: activity.name },
          activity,
          draftFromCounter: none !== undefined && none.version === undefined && activity.lastVersion > 0,
        };
      });
    } while (start);
  }

  async activity(model: ModelRef): Promise<ModelActivity> {
    const item = await this.table.get(anchorKey.primary(model.id), true);
    if (!item) throw new ResourceNotFoundError(`Registered Model ${model.id} not found`);
    return toActivity(item);
  }

  /** The model item's update, conditioned on the model being this one and not being deleted. */
  private modelUpdate(
    model: RegisteredModel,
    update: string,
    values: Item = {},
    names: Record<string, string> = {},
    extra?: string,
  ): TransactItem {
    return {
      Update: {
        TableName: this.t,
        Key: modelKey.primary(model.name),
        UpdateExpression: `${update} ADD revision :one`,
        ConditionExpression: ['modelId = :id AND attribute_not_exists(deleting)', extra]
          .filter(Boolean)
          .join(' AND '),
        ExpressionAttributeValues: { ...values, ':id': model.id, ':one': 1 },
        ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  /** The anchor's last-updated time (and its index key), in the same write. */
  private touch(model: ModelRef, now: number): TransactItem {
    const keys = anchorKey.updatedIndex(model.id, now);
    return {
      Update: {
        TableName: this.t,
        Key: anchorKey.primary(model.id),
        UpdateExpression: 'SET updatedAt = :now, gsi3sk = :u',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':now': now, ':u': keys.gsi3sk },
      },
    };
  }

  async create(model: RegisteredModel, journal: Journal): Promise<void> {
    const item = modelItem(model);
    assertItemSize(item, `Registered Model (name=${model.name})`);
    try {
      await this.table.write(
        [
          {
            Put: {
              TableName: this.t,
              Item: item,
              ConditionExpression: 'attribute_not_exists(pk)',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          {
            Put: {
              TableName: this.t,
              Item: anchorItem(model, model.creationTimestamp),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
        journal,
      );
    } catch (err) {
      if (err instanceof WriteRefused && err.failed(0)) {
        if (err.item(0)?.deleting) {
          throw new ResourceAlreadyExistsError(
            `Registered Model (name=${model.name}) is still being deleted. Call delete on it again to finish, then create it.`,
          );
        }
        throw new ResourceAlreadyExistsError(`Registered Model (name=${model.name}) already exists.`);
      }
      // The id was taken after it was chosen (only a create of the same name can take it).
      if (err instanceof WriteRefused && err.failed(1)) {
        throw new ConcurrentModificationError(
          `Registered Model (name=${model.name}) was being created by another request; retry.`,
        );
      }
      throw err;
    }
  }

  /** Writes a change of the model item (with the anchor's last update when `touch`). */
  private async change(
    model: RegisteredModel,
    after: RegisteredModel,
    update: TransactItem,
    journal: Journal,
    options: { touch?: number; limit?: string } = {},
  ): Promise<RegisteredModel> {
    assertItemSize(modelItem(after), `Registered Model (name=${model.name})`);
    try {
      await this.table.write(
        options.touch === undefined ? [update] : [update, this.touch(model, options.touch)],
        journal,
      );
    } catch (err) {
      if (err instanceof WriteRefused && err.failed(0)) {
        if (gone(err.item(0), model)) throw notFoundModel(model.name);
        if (options.limit) throw new LimitExceededError(options.limit);
        throw new ConcurrentModificationError(
          `Registered Model (name=${model.name}) changed meanwhile; retry.`,
        );
      }
      throw err;
    }
    return { ...after, revision: model.revision + 1 };
  }

  updateDescription(model: RegisteredModel, description: string, now: number, journal: Journal) {
    return this.change(
      model,
      { ...model, description },
      this.modelUpdate(model, 'SET description = :d', { ':d': description }),
      journal,
      { touch: now },
    );
  }

  async setTag(model: RegisteredModel, key: string, value: string, journal: Journal): Promise<void> {
    await this.change(
      model,
      { ...model, tags: { ...model.tags, [key]: value } },
      this.modelUpdate(
        model,
        'SET tags.#k = :v',
        { ':v': value, ':max': MAX_TAGS_PER_ENTITY },
        { '#k': key },
        '(attribute_exists(tags.#k) OR size(tags) < :max)',
      ),
      journal,
      {
        limit: `Registered Model (name=${model.name}) has ${MAX_TAGS_PER_ENTITY} tags already; delete one before adding another.`,
      },
    );
  }

  async deleteTag(model: RegisteredModel, key: string, journal: Journal): Promise<void> {
    const { [key]: _, ...tags } = model.tags;
    await this.change(
      model,
      { ...model, tags },
      this.modelUpdate(model, 'REMOVE tags.#k', {}, { '#k': key }),
      journal,
    );
  }

  async rename(
    model: RegisteredModel,
    newName: string,
    now: number,
    journal: Journal,
  ): Promise<RegisteredModel> {
    const renamed: RegisteredModel = {
      ...model,
      name: newName,
      pendingRename: true,
      revision: model.revision + 1,
    };
    try {
      await this.table.write(
        [
          {
            Put: {
              TableName: this.t,
              Item: modelItem(renamed),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            // Only if nothing changed the model since it was read: the copy is complete.
            Delete: {
              TableName: this.t,
              Key: modelKey.primary(model.name),
              ConditionExpression: 'modelId = :id AND revision = :rev AND attribute_not_exists(deleting)',
              ExpressionAttributeValues: { ':id': model.id, ':rev': model.revision },
            },
          },
          {
            Update: {
              TableName: this.t,
              Key: anchorKey.primary(model.id),
              UpdateExpression: 'SET #n = :n, updatedAt = :now, gsi3sk = :u',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeNames: { '#n': 'name' },
              ExpressionAttributeValues: {
                ':n': newName,
                ':now': now,
                ':u': anchorKey.updatedIndex(model.id, now).gsi3sk,
              },
            },
          },
        ],
        journal,
      );
    } catch (err) {
      if (err instanceof WriteRefused && err.failed(0)) {
        throw new ResourceAlreadyExistsError(`Registered Model (name=${newName}) already exists.`);
      }
      if (err instanceof WriteRefused) {
        throw new ConcurrentModificationError(
          `Registered Model (name=${model.name}) changed during the rename; retry.`,
        );
      }
      throw err;
    }
    await this.completeRename(renamed);
    const { pendingRename: _, ...done } = renamed;
    return done;
  }

  /**
   * Finishes a rename: the versions' name (and the index keys holding it) and the requests' name,
   * then clears `pendingRename`. Idempotent: an interrupted rename is finished on the next access.
   */
  async completeRename(model: RegisteredModel): Promise<void> {
    for await (const items of this.table.partition(modelPartition(model.id), versionKey.prefix, {
      consistent: true,
    })) {
      await Promise.all(
        items.map(async (item) => {
          const v = toVersion(item);
          if (v.name === model.name) return;
          const keys = versionKey.indexes({
            modelId: v.modelId,
            name: model.name,
            version: v.version,
            stage: v.stage,
            runId: v.runId,
            source: v.source,
            created: v.creationTimestamp,
            updated: v.lastUpdatedTimestamp,
          });
          await this.table
            .update({
              Key: versionKey.primary(v.modelId, v.version),
              UpdateExpression: `SET #n = :n, gsi2sk = :g2, gsi3sk = :g3${keys.gsi5sk ? ', gsi5sk = :g5' : ''}`,
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeNames: { '#n': 'name' },
              ExpressionAttributeValues: {
                ':n': model.name,
                ':g2': keys.gsi2sk,
                ':g3': keys.gsi3sk,
                ...(keys.gsi5sk ? { ':g5': keys.gsi5sk } : {}),
              },
            })
            .catch((err) => {
              if (!(err instanceof WriteRefused)) throw err; // deleted meanwhile: nothing to rename
            });
        }),
      );
    }
    // Requests keep the model's name for display; they are found by the model's id.
    for (const prefix of [requestKey.prefix, policyRequestKey.prefix]) {
      for await (const items of this.table.partition(modelPartition(model.id), prefix)) {
        await Promise.all(
          items
            .filter((item) => item.name !== model.name)
            .map((item) =>
              this.table
                .update({
                  Key: { pk: item.pk, sk: item.sk },
                  UpdateExpression: 'SET #n = :n',
                  ConditionExpression: 'attribute_exists(pk)',
                  ExpressionAttributeNames: { '#n': 'name' },
                  ExpressionAttributeValues: { ':n': model.name },
                })
                .catch((err) => {
                  if (!(err instanceof WriteRefused)) throw err;
                }),
            ),
        );
      }
    }
    await this.table
      .update({
        Key: modelKey.primary(model.name),
        UpdateExpression: 'REMOVE pendingRename',
        ConditionExpression: 'modelId = :id',
        ExpressionAttributeValues: { ':id': model.id },
      })
      .catch((err) => {
        if (!(err instanceof WriteRefused)) throw err;
      });
  }

  /**
   * Deletes a model: marked first (no version can be created meanwhile, and a crash half-way
   * leaves a model that says it is being deleted: delete it again to finish), then its versions,
   * their model cards (after the versions: a card write checks its version, so none lands once
   * the versions are gone), tokens and tag index items, then the model and its anchor. Requests, stage history and the
   * audit log stay under its id.
   */
  async delete(model: RegisteredModel, journal: Journal): Promise<void> {
    try {
      await this.table.write(
        [
          {
            Update: {
              TableName: this.t,
              Key: modelKey.primary(model.name),
              UpdateExpression: 'SET deleting = :t',
              ConditionExpression: 'modelId = :id',
              ExpressionAttributeValues: { ':t': true, ':id': model.id },
            },
          },
          {
            Update: {
              TableName: this.t,
              Key: anchorKey.primary(model.id),
              UpdateExpression: 'SET deleting = :t',
              ExpressionAttributeValues: { ':t': true },
            },
          },
        ],
        journal,
      );
    } catch (err) {
      if (err instanceof WriteRefused && err.failed(0)) throw notFoundModel(model.name);
      throw err;
    }
    for (const prefix of [versionKey.prefix, cardKey.prefix, clientTokenKey.prefix, versionTagKey.prefix()]) {
      for await (const items of this.table.partition(modelPartition(model.id), prefix, {
        consistent: true,
      })) {
        await this.table.deleteMany(items.map((it) => ({ pk: it.pk, sk: it.sk })));
      }
    }
    // Already gone: a concurrent delete finished first.
    await this.table.deleteItem(modelKey.primary(model.name), {
      expression: 'modelId = :id',
      values: { ':id': model.id },
    });
    await this.table.deleteItem(anchorKey.primary(model.id));
  }

  async setAlias(
    model: RegisteredModel,
    alias: string,
    version: number,
    options: { expected: number | null; requestId?: string; now: number },
    extra: readonly TransactItem[],
    journal: Journal,
  ): Promise<void> {
    const expected = options.expected;
    assertItemSize(
      modelItem({ ...model, aliases: { ...model.aliases, [alias]: version } }),
      `Registered Model (name=${model.name})`,
    );
    try {
      await this.table.write(
        [
          {
            ConditionCheck: {
              TableName: this.t,
              Key: versionKey.primary(model.id, version),
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
          // The alias is still where the caller read it (the event records that value).
          this.modelUpdate(
            model,
            'SET aliases.#a = :v',
            {
              ':v': version,
              ...(expected === null ? { ':max': MAX_ALIASES_PER_MODEL } : { ':expected': expected }),
            },
            { '#a': alias },
            expected === null
              ? 'attribute_not_exists(aliases.#a) AND size(aliases) < :max'
              : 'aliases.#a = :expected',
          ),
          ...extra,
        ],
        journal,
      );
    } catch (err) {
      if (!(err instanceof WriteRefused)) throw err;
      if (err.failed(0)) {
        throw new ResourceNotFoundError(`Model Version (name=${model.name}, version=${version}) not found`);
      }
      if (err.failed(1)) {
        const old = err.item(1);
        if (gone(old, model)) throw notFoundModel(model.name);
        const current = (old?.aliases as Record<string, number> | undefined)?.[alias];
        if (expected === null && current === undefined) {
          throw new LimitExceededError(
            `Registered Model (name=${model.name}) has ${MAX_ALIASES_PER_MODEL} aliases already; delete one before adding another.`,
          );
        }
      }
      throw new ConcurrentModificationError(
        `Registered Model (name=${model.name}) changed while setting the alias; retry.`,
      );
    }
  }

  async deleteAlias(
    model: RegisteredModel,
    alias: string,
    expected: number,
    journal: Journal,
  ): Promise<void> {
    try {
      await this.table.write(
        [
          this.modelUpdate(
            model,
            'REMOVE aliases.#a',
            { ':expected': expected },
            { '#a': alias },
            'aliases.#a = :expected',
          ),
        ],
        journal,
      );
    } catch (err) {
      if (err instanceof WriteRefused && err.failed(0)) {
        if (gone(err.item(0), model)) throw notFoundModel(model.name);
        // The alias moved or went away since it was read: the caller reads it again.
        throw new ConcurrentModificationError(
          `Alias @${alias} of Registered Model (name=${model.name}) changed while it was being deleted; retry.`,
        );
      }
      throw err;
    }
  }

  async setPolicy(
    model: RegisteredModel,
    policy: PolicyOverride | undefined,
    now: number,
    apply: { request: PolicyChangeRequest; approvals: readonly Approval[] } | undefined,
    journal: Journal,
  ): Promise<RegisteredModel> {
    const after: RegisteredModel = {
      ...model,
      ...(policy ? { policy } : { policy: undefined }),
      policyRevision: model.policyRevision + 1,
    };
    const update = this.modelUpdate(
      model,
      `${policy ? 'SET policy = :p, ' : 'REMOVE policy SET '}policyRevision = :next`,
      {
        ...(policy ? { ':p': modelItem(after).policy } : {}),
        ':next': model.policyRevision + 1,
        ':rev': model.policyRevision,
        ':zero': 0,
      },
      {},
      '(policyRevision = :rev OR (attribute_not_exists(policyRevision) AND :rev = :zero))',
    );
    const items: TransactItem[] = [update, this.touch(model, now)];
    if (apply) {
      items.push({
        Update: {
          TableName: this.t,
          Key: policyRequestKey.primary(model.id, apply.request.id),
          UpdateExpression: 'SET #st = :applied, approvals = :approvals, updatedAt = :now',
          ConditionExpression: '#st = :pending AND size(approvals) = :count',
          ExpressionAttributeNames: { '#st': 'status' },
          ExpressionAttributeValues: {
            ':applied': 'APPLIED',
            ':pending': 'PENDING',
            ':approvals': apply.approvals,
            ':count': apply.request.approvals.length,
            ':now': now,
          },
        },
      });
    }
    try {
      await this.table.write(items, journal);
    } catch (err) {
      if (err instanceof WriteRefused) {
        if (err.failed(0) && gone(err.item(0), model)) throw notFoundModel(model.name);
        throw new ConcurrentModificationError(
          `The policy of Registered Model (name=${model.name}) changed while it was being set; read it again and retry.`,
        );
      }
      throw err;
    }
    return { ...after, revision: model.revision + 1 };
  }
}
