/**
 * The batches of a stage change are weighed in transaction items: each move takes its update, its
 * history record, its event and one item per tag (its tag index entry follows the version's last
 * update), and no transaction may hold more than DynamoDB's 100 items.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ModelVersion } from '../../functions/domain/model';
import { MAX_TAGS_PER_ENTITY } from '../../functions/domain/rules';
import { batchMoves, moveItems, planStageChange } from '../../functions/domain/stage-change';
import { STAGE_BATCH_ITEMS } from '../../functions/use-cases/core';

const version = (n: number, tags: number, stage: ModelVersion['stage'] = 'Production'): ModelVersion => ({
  name: 'm',
  modelId: 'id',
  version: n,
  source: `s3://b/${n}`,
  parameters: {},
  metrics: {},
  description: '',
  tags: Object.fromEntries(Array.from({ length: tags }, (_, i) => [`t${i}`, 'v'])),
  status: 'READY',
  stage,
  createdBy: 'alice',
  creationTimestamp: n,
  lastUpdatedTimestamp: n,
});

const plan = (main: ModelVersion, archive: ModelVersion[], batchItems = STAGE_BATCH_ITEMS) =>
  planStageChange({
    version: main,
    toStage: 'Production',
    archive,
    latest: {},
    openRequests: [],
    now: 1000,
    batchItems,
  });

const weight = (batch: readonly { tags: readonly string[] }[]) => batch.reduce((n, m) => n + moveItems(m), 0);

describe('stage change batches', () => {
  it('leaves room in every transaction for what a stage change writes besides its moves', () => {
    // The anchor, the model's archiving mark, the applied request, 8 closures with their events.
    expect(STAGE_BATCH_ITEMS + 3 + 2 * 8).toBeLessThanOrEqual(100);
    // The heaviest move fits.
    expect(moveItems({ tags: Array.from({ length: MAX_TAGS_PER_ENTITY }, String) })).toBeLessThanOrEqual(
      STAGE_BATCH_ITEMS,
    );
  });

  it('moves untagged versions 3 items each: the version asked for with the first 26 archived', () => {
    const archive = Array.from({ length: 60 }, (_, i) => version(i + 1, 0));
    const { batches, moves } = plan(version(61, 0, 'None'), archive);
    expect(batches.map((b) => b.length)).toEqual([27, 27, 7]);
    expect(batches[0]![0]!.version).toBe(61);
    expect(batches.flat()).toEqual(moves);
    expect(moves.slice(1).map((m) => m.version)).toEqual(archive.map((v) => v.version).reverse());
  });

  it(`gives a version with ${MAX_TAGS_PER_ENTITY} tags a transaction of its own`, () => {
    const archive = [1, 2, 3].map((n) => version(n, MAX_TAGS_PER_ENTITY));
    const { batches } = plan(version(4, MAX_TAGS_PER_ENTITY, 'None'), archive);
    expect(batches.map((b) => b.map((m) => m.version))).toEqual([[4], [3], [2], [1]]);
    for (const b of batches) expect(weight(b)).toBe(3 + MAX_TAGS_PER_ENTITY);
    // Its tags move with it.
    expect(batches[0]![0]!.tags).toHaveLength(MAX_TAGS_PER_ENTITY);
  });

  it('keeps the first archived versions that fit with the version asked for', () => {
    const archive = [version(1, 0), version(2, 50), version(3, 10), version(4, 0)];
    const { batches } = plan(version(5, 20, 'None'), archive);
    // 23 (asked for) + 3 (4) + 13 (3) = 39; + 53 (2) would pass 81.
    expect(batches.map((b) => b.map((m) => m.version))).toEqual([
      [5, 4, 3],
      [2, 1],
    ]);
  });

  it('plans one batch when nothing is archived, and finishing an archive of nothing writes one batch', () => {
    expect(plan(version(1, 50, 'None'), []).batches.map((b) => b.length)).toEqual([1]);
    expect(batchMoves([], STAGE_BATCH_ITEMS)).toEqual([[]]);
  });

  it('fills transactions in order, never past the capacity, each as full as the next move allows', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: MAX_TAGS_PER_ENTITY }),
        fc.array(fc.nat({ max: MAX_TAGS_PER_ENTITY }), { maxLength: 80 }),
        fc.integer({ min: 3 + MAX_TAGS_PER_ENTITY, max: STAGE_BATCH_ITEMS }),
        (mainTags, archivedTags, capacity) => {
          const archive = archivedTags.map((t, i) => version(i + 1, t));
          const { batches, moves } = plan(version(archive.length + 1, mainTags, 'None'), archive, capacity);
          expect(batches.flat()).toEqual(moves);
          expect(batches[0]![0]).toBe(moves[0]);
          for (const [i, b] of batches.entries()) {
            expect(b.length).toBeGreaterThan(0);
            expect(weight(b)).toBeLessThanOrEqual(capacity);
            // Greedy: the next batch's first move did not fit in this one.
            const next = batches[i + 1]?.[0];
            if (next) expect(weight(b) + moveItems(next)).toBeGreaterThan(capacity);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
