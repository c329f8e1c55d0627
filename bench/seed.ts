/**
 * Bulk seeding for the data-layer benchmark: registered models and their versions written
 * straight into the table, far faster than through the API, with the storage layer's own item
 * builders so the seeded items are the items the API would have written (minus their audit
 * entries). This is the only benchmark module that knows the storage layout: when the layout
 * changes, adapt this file and nothing else.
 *
 * Seeded versions are READY, in stage None, with an external source, and never updated: like a
 * version the API has just created they are not in the sparse gsi7 (`versionItem` gives gsi7 keys
 * only to a version whose last update is not its creation). Each model's version counter is
 * moved past the seeded versions, so the API numbers the next version correctly.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { summaryItem, versionItem, versionTagItem } from '../functions/adapters/dynamodb/codecs';
import { anchorKey } from '../functions/adapters/dynamodb/keys';
import { DynamoDbRegistryRepository } from '../functions/adapters/dynamodb/repository';
import { type ModelVersion, type RegisteredModel, summaryOf } from '../functions/domain/model';
import { documentClient } from '../functions/handlers/runtime';
import type { LocalRegistry } from '../local/registry';

/** The caller the local API records for unsigned requests (so seeded items have the API's size). */
const LOCAL_CALLER = 'arn:aws:iam::000000000000:user/local-user';

export interface SeededModel {
  readonly name: string;
  readonly id: string;
}

export interface SeedVersionsOptions {
  /** Tags of each seeded version, given its number (default: none). */
  readonly tags?: (version: number) => Record<string, string>;
  /**
   * Creation (and last update) time of the i-th version of this call, epoch ms (default: now,
   * one millisecond apart). Lets a caller interleave the versions of several models in time.
   */
  readonly createdAt?: (index: number) => number;
}

export interface Seeder {
  /** Creates a registered model (no versions). */
  seedModel(name: string): Promise<SeededModel>;
  /**
   * Appends `count` READY versions to a model (created through the API or seedModel) and moves its
   * version counter past them. One call per model at a time; calls on different models may run
   * concurrently (the seeder bounds the BatchWriteItem requests in flight).
   */
  seedVersions(modelName: string, count: number, options?: SeedVersionsOptions): Promise<void>;
  close(): void;
}

/**
 * A seeder writing to the registry's table with its own client (not observed by the benchmark).
 * `concurrency`: BatchWriteItem requests in flight (25 items each).
 */
export function openSeeder(registry: LocalRegistry, options: { concurrency?: number } = {}): Seeder {
  const db: DynamoDBDocumentClient = documentClient(registry.env);
  const repo = new DynamoDbRegistryRepository(
    db,
    registry.tableName,
    registry.env.PAGE_TOKEN_SECRET ?? 'a-seeder-page-token-secret',
  );
  const limit = options.concurrency ?? 8;
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const slot = async <T>(work: () => Promise<T>): Promise<T> => {
    while (inFlight >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    inFlight++;
    try {
      return await work();
    } finally {
      inFlight--;
      waiting.shift()?.();
    }
  };
  // Distinct, increasing timestamps across everything seeded (the default search order uses them).
  let last = 0;
  const tick = () => {
    last = Math.max(last + 1, Date.now());
    return last;
  };

  const batchPut = async (items: Record<string, unknown>[]) => {
    let pending = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      const out = await slot(() =>
        db.send(new BatchWriteCommand({ RequestItems: { [registry.tableName]: pending } })),
      );
      pending = (out.UnprocessedItems?.[registry.tableName] ?? []) as typeof pending;
      if (pending.length) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
    }
  };

  return {
    async seedModel(name) {
      const now = tick();
      const model: RegisteredModel = {
        name,
        id: await slot(() => repo.newModelId(name)),
        description: '',
        tags: {},
        aliases: {},
        creationTimestamp: now,
        createdBy: LOCAL_CALLER,
        policyRevision: 0,
        revision: 0,
      };
      await slot(() => repo.createModel(model));
      return { name, id: model.id };
    },

    async seedVersions(modelName, count, opts = {}) {
      const model = await slot(() => repo.getModel(modelName));
      if (!model) throw new Error(`seedVersions: no model ${modelName}`);
      const activity = await slot(() => repo.getActivity(model));
      const first = activity.lastVersion + 1;
      const items: Record<string, unknown>[] = [];
      let lastSeeded: ModelVersion | undefined;
      for (let n = first; n < first + count; n++) {
        const at = opts.createdAt?.(n - first) ?? tick();
        const version: ModelVersion = {
          name: model.name,
          modelId: model.id,
          version: n,
          source: `s3://bench-artifacts/${model.name}/${n}/model`,
          parameters: { learning_rate: '0.01', epochs: '10' },
          metrics: {
            accuracy: Math.round(Math.random() * 1e4) / 1e4,
            loss: Math.round(Math.random() * 1e4) / 1e4,
          },
          description: '',
          tags: opts.tags?.(n) ?? {},
          status: 'READY',
          stage: 'None',
          createdBy: LOCAL_CALLER,
          creationTimestamp: at,
          lastUpdatedTimestamp: at,
        };
        items.push(versionItem(version));
        for (const [key, value] of Object.entries(version.tags))
          items.push(versionTagItem(version, key, value));
        lastSeeded = version;
      }
      const batches: Promise<void>[] = [];
      for (let i = 0; i < items.length; i += 25) batches.push(batchPut(items.slice(i, i + 25)));
      await Promise.all(batches);
      // The version counter, the model's last update, its latest version in None and the count
      // of versions in None, as version creation moves them (on the model's anchor).
      const now = tick();
      await slot(() =>
        db.send(
          new UpdateCommand({
            TableName: registry.tableName,
            Key: anchorKey.primary(model.id),
            UpdateExpression:
              'SET lastVersion = :n, updatedAt = :now, gsi3sk = :u, latest.#none = :s ADD inNone :count',
            ConditionExpression: 'lastVersion = :prev',
            ExpressionAttributeNames: { '#none': 'None' },
            ExpressionAttributeValues: {
              ':n': first + count - 1,
              ':prev': activity.lastVersion,
              ':now': now,
              ':u': anchorKey.updatedIndex(model.id, now).gsi3sk,
              ':s': summaryItem(summaryOf(lastSeeded!)),
              ':count': count,
            },
          }),
        ),
      );
    },

    close() {
      db.destroy();
    },
  };
}
