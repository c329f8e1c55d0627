/**
 * Model cards: one item per version, beside it in the model's partition (`VC#<version>`), written
 * with its event in one transaction that also checks the version exists, and conditioned on the
 * card's revision as read (a concurrent edit is a conflict, never a lost update). The version's
 * delete and the model's delete remove it (versions.ts, models.ts).
 */
import { ConcurrentModificationError } from '../../domain/errors';
import type { ModelVersion } from '../../domain/model';
import type { ModelCard, StoredModelCard } from '../../domain/model-card';
import type { ModelRef } from '../../use-cases/ports';
import { cardItem, toStoredCard, toVersion } from './codecs';
import { cardKey, versionKey } from './keys';
import { assertItemSize, type Journal, type RegistryTable, WriteRefused } from './table';
import { notFoundVersion } from './versions';

type Named = ModelRef & { readonly name: string };

export class Cards {
  constructor(private readonly table: RegistryTable) {}

  async get(model: ModelRef, version: number): Promise<StoredModelCard | undefined> {
    const item = await this.table.get(cardKey.primary(model.id, version), true);
    return item ? toStoredCard(item) : undefined;
  }

  /** A version and its card in one read (one BatchGetItem of the two keys). */
  async withVersion(
    model: Named,
    version: number,
  ): Promise<{ version?: ModelVersion; card?: StoredModelCard }> {
    const versionItemKey = versionKey.primary(model.id, version);
    const items = await this.table.getMany([versionItemKey, cardKey.primary(model.id, version)], true);
    const found = items.find((i) => i.sk === versionItemKey.sk);
    const card = items.find((i) => i.sk !== versionItemKey.sk);
    return {
      ...(found ? { version: { ...toVersion(found), name: model.name } } : {}),
      ...(card ? { card: toStoredCard(card) } : {}),
    };
  }

  /**
   * Stores a version's card if the version exists (else ResourceNotFoundError) and the stored card
   * is still at `expectedRevision` (null: there was none), else ConcurrentModificationError.
   */
  async put(
    model: Named,
    version: number,
    card: ModelCard,
    options: { readonly expectedRevision: number | null; readonly now: number; readonly actor: string },
    journal: Journal,
  ): Promise<StoredModelCard> {
    const stored: StoredModelCard = {
      card,
      revision: (options.expectedRevision ?? 0) + 1,
      updatedAt: options.now,
      updatedBy: options.actor,
    };
    const item = cardItem(model.id, version, stored);
    assertItemSize(item, `The model card of Model Version (name=${model.name}, version=${version})`);
    try {
      await this.table.write(
        [
          {
            ConditionCheck: {
              TableName: this.table.name,
              Key: versionKey.primary(model.id, version),
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
          {
            Put: {
              TableName: this.table.name,
              Item: item,
              ...(options.expectedRevision === null
                ? { ConditionExpression: 'attribute_not_exists(pk)' }
                : {
                    ConditionExpression: 'revision = :rev',
                    ExpressionAttributeValues: { ':rev': options.expectedRevision },
                  }),
            },
          },
        ],
        journal,
      );
    } catch (err) {
      if (err instanceof WriteRefused) {
        if (err.failed(0)) throw notFoundVersion(model.name, version);
        if (err.failed(1)) {
          throw new ConcurrentModificationError(
            `The model card of Model Version (name=${model.name}, version=${version}) was changed by another request meanwhile; nothing was changed. Retry.`,
          );
        }
      }
      throw err;
    }
    return stored;
  }
}
