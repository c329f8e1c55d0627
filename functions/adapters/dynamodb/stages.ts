/**
 * Stages: who is in an active stage (the stage index, whole versions), the latest version of a
 * stage below another, one batch of a planned stage change (functions/domain/stage-change.ts)
 * written atomically with its history, events and the anchor's latest versions, and the history.
 */
import { ConcurrentModificationError } from '../../domain/errors';
import {
  isActiveStage,
  type ModelVersion,
  type RegisteredModel,
  type Stage,
  type StageTransition,
} from '../../domain/model';
import type { ModelRef, Page, StageBatch } from '../../use-cases/ports';
import { summaryItem, toTransition, toVersion, transitionItem } from './codecs';
import { anchorKey, modelKey, modelPartition, padVersion, transitionKey, versionKey } from './keys';
import { type PageTokens, queryFingerprint } from './page-token';
import { closeItem, markApplied } from './requests';
import {
  INDEXES,
  type Item,
  type Journal,
  type RegistryTable,
  type TransactItem,
  WriteRefused,
} from './table';
import { notFoundVersion, tagCount, tagMoves } from './versions';

type Named = ModelRef & { readonly name: string };

/** How many versions a search for the latest of None or Archived examines (they are not indexed). */
const LATEST_SCAN_BUDGET = 5000;

export class Stages {
  constructor(
    private readonly table: RegistryTable,
    private readonly tokens: PageTokens,
  ) {}

  private get t() {
    return this.table.name;
  }

  async members(model: Named, stage: Stage): Promise<ModelVersion[]> {
    if (!isActiveStage(stage)) throw new Error(`Only active stages are indexed, not ${stage}`);
    const out: ModelVersion[] = [];
    let start: Item | undefined;
    do {
      const page = await this.table.query({
        IndexName: INDEXES.byStage.indexName,
        KeyConditionExpression: 'gsi4pk = :p',
        ExpressionAttributeValues: { ':p': versionKey.stagePartition(model.id, stage) },
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      out.push(...page.items.map((item) => ({ ...toVersion(item), name: model.name })));
      start = page.last;
    } while (start);
    return out;
  }

  /**
   * A version and the `below` versions under it, in one strongly consistent read of the model's
   * partition downwards (a stage change that moves the latest version of a stage finds the next
   * one there, without a read after it). `complete`: no version lies below those returned.
   */
  async withBelow(
    model: Named,
    version: number,
    below: number,
  ): Promise<{ version?: ModelVersion; below: ModelVersion[]; complete: boolean }> {
    const page = await this.table.query({
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
      ExpressionAttributeValues: {
        ':pk': modelPartition(model.id),
        ':low': versionKey.prefix,
        ':high': versionKey.primary(model.id, version).sk,
      },
      ScanIndexForward: false,
      ConsistentRead: true,
      Limit: below + 1,
    });
    const versions = page.items.map((item) => ({ ...toVersion(item), name: model.name }));
    const found = versions[0]?.version === version ? versions.shift() : undefined;
    const under = versions.slice(0, below);
    return {
      ...(found ? { version: found } : {}),
      below: under,
      complete: !page.last && under.length === versions.length,
    };
  }

  /**
   * The highest version of `stage` below `below`: the stage index for active stages; for None and
   * Archived, the model's versions downwards (bounded: null if none is found within the budget).
   */
  async latestBelow(model: Named, stage: Stage, below: number): Promise<ModelVersion | null> {
    if (isActiveStage(stage)) {
      const page = await this.table.query({
        IndexName: INDEXES.byStage.indexName,
        KeyConditionExpression: 'gsi4pk = :p AND gsi4sk < :below',
        ExpressionAttributeValues: {
          ':p': versionKey.stagePartition(model.id, stage),
          ':below': padVersion(below),
        },
        ScanIndexForward: false,
        Limit: 1,
      });
      return page.items[0] ? { ...toVersion(page.items[0]), name: model.name } : null;
    }
    let start: Item | undefined;
    let examined = 0;
    do {
      const page = await this.table.query({
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
        FilterExpression: 'stage = :stage',
        ExpressionAttributeValues: {
          ':pk': modelPartition(model.id),
          ':low': versionKey.prefix,
          ':high': `${versionKey.prefix}${padVersion(Math.max(0, below - 1))}`,
          ':stage': stage,
        },
        ScanIndexForward: false,
        Limit: 200,
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      if (page.items[0]) return { ...toVersion(page.items[0]), name: model.name };
      examined += 200;
      start = page.last;
    } while (start && examined < LATEST_SCAN_BUDGET);
    return null;
  }

  /** One batch of a planned stage change, conditioned on the anchor's revision. */
  async apply(batch: StageBatch, journal: Journal): Promise<void> {
    const { model, now } = batch;
    const items: TransactItem[] = [];
    batch.moves.forEach((move, i) => {
      const stageKeys = versionKey.stageIndex(model.id, move.to, move.version);
      const updated = versionKey.updatedIndexes({
        modelId: model.id,
        name: model.name,
        version: move.version,
        runId: move.summary.runId,
        updated: now,
      });
      const sets = ['stage = :to', 'updatedAt = :now', 'gsi3sk = :g3', 'gsi7pk = :g7pk', 'gsi7sk = :g7'];
      const values: Item = {
        ':to': move.to,
        ':from': move.from,
        ':ready': 'READY',
        ':now': now,
        ':g3': updated.gsi3sk,
        ':g7pk': updated.gsi7pk,
        ':g7': updated.gsi7sk,
      };
      if (updated.gsi5sk) {
        sets.push('gsi5sk = :g5');
        values[':g5'] = updated.gsi5sk;
      }
      if (stageKeys.gsi4pk) {
        sets.push('gsi4pk = :g4pk', 'gsi4sk = :g4sk');
        values[':g4pk'] = stageKeys.gsi4pk;
        values[':g4sk'] = stageKeys.gsi4sk;
      }
      // The tags it was read with: their index items move with it (after the moves' items).
      const count = tagCount(move.tags.length);
      Object.assign(values, count.values);
      items.push({
        Update: {
          TableName: this.t,
          Key: versionKey.primary(model.id, move.version),
          UpdateExpression: `SET ${sets.join(', ')}${stageKeys.gsi4pk ? '' : ' REMOVE gsi4pk, gsi4sk'}`,
          ConditionExpression: `attribute_exists(pk) AND stage = :from AND #st = :ready AND ${count.expression}`,
          ExpressionAttributeNames: { '#st': 'status' },
          ExpressionAttributeValues: values,
          // Tells a version that is gone (404) from one another writer moved (retry).
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      });
      items.push({
        Put: {
          TableName: this.t,
          Item: transitionItem(
            model.id,
            model.name,
            {
              version: move.version,
              fromStage: move.from,
              toStage: move.to,
              actor: batch.actor,
              timestamp: now,
              ...(i === 0 && !move.causedBy && batch.comment ? { comment: batch.comment } : {}),
              ...(move.causedBy ? { causedBy: move.causedBy } : {}),
              ...(batch.via ? { via: batch.via } : {}),
            },
            items.length,
          ),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    });
    // Each moved version's tag index items follow its new last-updated time.
    for (const move of batch.moves) items.push(...tagMoves(this.t, model.id, move.version, move.tags, now));
    items.push(this.anchorUpdate(batch));
    // Readers of the stage are given the version moved into it until the last batch is written.
    if (batch.pendingArchive !== undefined) items.push(this.archivingUpdate(batch));
    // The request is applied by the batch that moves the version it asked for (the first).
    if (batch.via?.kind === 'request' && !batch.moves[0]?.causedBy) {
      items.push(markApplied(this.t, model.id, batch.via.requestId, now));
    }
    items.push(...(batch.close ?? []).map((c) => closeItem(this.t, c, now)));
    try {
      await this.table.write(items, journal);
    } catch (err) {
      if (err instanceof WriteRefused) {
        const missing = batch.moves.findIndex((_, i) => err.failed(i * 2) && !err.item(i * 2));
        if (missing >= 0 && batch.moves[missing]!.version === batch.moves[0]!.version) {
          throw notFoundVersion(model.name, batch.moves[0]!.version);
        }
        throw new ConcurrentModificationError(
          `Model Version (name=${model.name}, version=${batch.moves[0]?.version}) or the versions in ${batch.moves[0]?.to} changed during the transition; nothing was changed. Retry.`,
        );
      }
      throw err;
    }
  }

  private archivingUpdate(batch: StageBatch): TransactItem {
    const pending = batch.pendingArchive;
    return {
      Update: {
        TableName: this.t,
        Key: modelKey.primary(batch.model.name),
        UpdateExpression: pending
          ? 'SET archiving = :a ADD revision :one'
          : 'REMOVE archiving ADD revision :one',
        ConditionExpression: 'modelId = :id',
        ExpressionAttributeValues: {
          ':id': batch.model.id,
          ':one': 1,
          ...(pending ? { ':a': { stage: pending.stage, keep: pending.keep } } : {}),
        },
      },
    };
  }

  private anchorUpdate(batch: StageBatch): TransactItem {
    const sets = ['revision = :next', 'updatedAt = :now', 'gsi3sk = :u'];
    const removes: string[] = [];
    const names: Record<string, string> = {};
    const values: Item = {
      ':next': batch.revision + 1,
      ':rev': batch.revision,
      ':now': batch.now,
      ':u': anchorKey.updatedIndex(batch.model.id, batch.now).gsi3sk,
    };
    Object.entries(batch.latest).forEach(([stage, summary], i) => {
      names[`#s${i}`] = stage;
      if (summary) {
        sets.push(`latest.#s${i} = :s${i}`);
        values[`:s${i}`] = summaryItem(summary);
      } else removes.push(`latest.#s${i}`);
    });
    if (batch.pendingArchive) {
      sets.push('pendingArchive = :pa');
      values[':pa'] = JSON.parse(JSON.stringify(batch.pendingArchive));
    } else if (batch.pendingArchive === null) removes.push('pendingArchive');
    // The count of versions in None follows the versions that leave or enter it.
    const intoNone = batch.moves.reduce(
      (n, m) => n + (m.to === 'None' ? 1 : 0) - (m.from === 'None' ? 1 : 0),
      0,
    );
    if (intoNone) values[':inNone'] = intoNone;
    return {
      Update: {
        TableName: this.t,
        Key: anchorKey.primary(batch.model.id),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}${intoNone ? ' ADD inNone :inNone' : ''}`,
        ConditionExpression: 'revision = :rev AND attribute_not_exists(deleting)',
        ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
      },
    };
  }

  listTransitions(
    model: RegisteredModel,
    options: { version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<StageTransition>> {
    const fingerprint = queryFingerprint(['transitions', model.id, options.version ?? null]);
    return this.table.stream({
      tokens: this.tokens,
      fingerprint,
      cursor: this.tokens.decode(options.pageToken, fingerprint),
      partition: modelPartition(model.id),
      sortKeyPrefix: transitionKey.prefix,
      ascending: false,
      maxResults: options.maxResults,
      convert: (item) =>
        options.version !== undefined && item.version !== options.version
          ? undefined
          : toTransition(item, model.name),
    });
  }
}
