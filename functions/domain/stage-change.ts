/**
 * Planning a stage change: which versions move (the one asked for, and with archive-existing the
 * others in the target stage), in which batches they are written, which open requests the change
 * makes moot, and the latest version per stage afterwards. Pure: the storage adapter only writes
 * the plan.
 */
import type { TransitionRequest } from './governance';
import { type ModelVersion, type Stage, summaryOf, type VersionSummary } from './model';

export interface StageMove {
  readonly version: number;
  readonly from: Stage;
  readonly to: Stage;
  /** The version as it is after the move. */
  readonly summary: VersionSummary;
  /** Set on versions archived by another version's move. */
  readonly causedBy?: { readonly version: number; readonly toStage: Stage };
  /** The keys of the version's tags: each tag's index entry moves with its last-updated time. */
  readonly tags: readonly string[];
}

/**
 * Items a move takes in a transaction: the version's update, its history record and its event,
 * and one per tag (its tag index item follows the version's last-updated time).
 */
export const moveItems = (move: Pick<StageMove, 'tags'>): number => 3 + move.tags.length;

/**
 * Splits moves, in order, into consecutive batches of at most `capacity` items (`moveItems`),
 * the first one starting with `first` (which it holds whatever its weight). A move heavier than
 * `capacity` has a batch of its own.
 */
export function batchMoves<T extends Pick<StageMove, 'tags'>>(
  moves: readonly T[],
  capacity: number,
  first: readonly T[] = [],
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [...first];
  let used = first.reduce((n, m) => n + moveItems(m), 0);
  for (const move of moves) {
    const weight = moveItems(move);
    if (current.length > 0 && used + weight > capacity) {
      batches.push(current);
      current = [];
      used = 0;
    }
    current.push(move);
    used += weight;
  }
  if (current.length > 0 || batches.length === 0) batches.push(current);
  return batches;
}

export interface StageChangePlan {
  /** The version asked for first, then the versions archived by it. */
  readonly moves: readonly StageMove[];
  /**
   * The moves in write order, one transaction each (at most `batchItems` items of moves): the
   * first holds the version asked for (so a reader sees it in its stage at once) and the first
   * archived versions that fit; the others archive the rest.
   */
  readonly batches: readonly (readonly StageMove[])[];
  /** Open stage requests of versions that move: they can no longer apply from the stage they were filed from. */
  readonly closures: readonly { readonly request: TransitionRequest; readonly reason: string }[];
  /** The latest version of each stage the change touches, after each batch (null: the stage is empty). */
  readonly latestAfter: readonly Readonly<Partial<Record<Stage, VersionSummary | null>>>[];
}

export interface StageChangeInput {
  readonly version: ModelVersion;
  readonly toStage: Stage;
  /** The other versions now in the (active) target stage, when archive-existing was asked. */
  readonly archive: readonly ModelVersion[];
  /** The latest version per stage now. */
  readonly latest: Readonly<Partial<Record<Stage, VersionSummary>>>;
  /**
   * The latest version of `version.stage` other than `version`, when `version` is that stage's
   * latest now (null: there is none).
   */
  readonly nextLatestOfFromStage?: VersionSummary | null;
  readonly openRequests: readonly TransitionRequest[];
  /** The request this change applies (it is marked APPLIED, not cancelled). */
  readonly appliedRequestId?: string;
  readonly now: number;
  /**
   * Items one transaction gives the moves (`moveItems` each: an update, a history record, an
   * event and one item per tag).
   */
  readonly batchItems: number;
  /** Why the moot requests are cancelled: the change is a break glass or an ordinary change. */
  readonly breakGlass?: boolean;
}

export function planStageChange(input: StageChangeInput): StageChangePlan {
  const { version, toStage, now } = input;
  const main: StageMove = {
    version: version.version,
    from: version.stage,
    to: toStage,
    summary: summaryOf({ ...version, stage: toStage, lastUpdatedTimestamp: now }),
    tags: Object.keys(version.tags),
  };
  const archived: StageMove[] = [...input.archive]
    .filter((v) => v.version !== version.version)
    // Highest first: the stage's highest-numbered members (what its readers would take for the
    // latest) leave it first.
    .sort((a, b) => b.version - a.version)
    .map((v) => ({
      version: v.version,
      from: toStage,
      to: 'Archived' as const,
      summary: summaryOf({ ...v, stage: 'Archived', lastUpdatedTimestamp: now }),
      causedBy: { version: version.version, toStage },
      tags: Object.keys(v.tags),
    }));
  const moves = [main, ...archived];
  // The version asked for with the first archived versions that fit (so a reader sees it in its
  // stage at once), then the rest, each transaction within its items.
  const batches = batchMoves(archived, input.batchItems, [main]);

  // The latest per stage after each batch.
  const latestAfter: Partial<Record<Stage, VersionSummary | null>>[] = [];
  const current: Partial<Record<Stage, VersionSummary | null>> = { ...input.latest };
  batches.forEach((batch, i) => {
    const changed: Partial<Record<Stage, VersionSummary | null>> = {};
    for (const move of batch) {
      if (move === main && move.from !== move.to) {
        if (current[move.from]?.version === move.version) {
          changed[move.from] = current[move.from] = input.nextLatestOfFromStage ?? null;
        }
      }
      const top = current[move.to];
      // With archive-existing the version asked for is the only one left in its stage.
      if (
        move === main
          ? !top || top.version <= move.version || archived.length > 0
          : !top || top.version <= move.version
      ) {
        changed[move.to] = current[move.to] = move.summary;
      }
    }
    if (i === 0 && archived.length > 0) changed[toStage] = current[toStage] = main.summary;
    latestAfter.push(changed);
  });

  const moving = new Map(moves.map((m) => [m.version, m.to]));
  const closures = input.openRequests
    .filter((r) => r.id !== input.appliedRequestId && r.target.kind === 'stage' && moving.has(r.version))
    .map((request) => ({
      request,
      reason: `Version ${request.version} moved to ${moving.get(request.version)} (${input.breakGlass ? 'break-glass' : 'by another change'}) after the request was filed.`,
    }));
  return { moves, batches, closures, latestAfter };
}
