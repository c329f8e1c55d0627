/**
 * The registry's entities. Plain data: no AWS SDK, no persistence concerns.
 */
import type { ArtifactFile } from './artifacts';
import { InvalidParameterError } from './errors';
import type { PolicyOverride } from './governance';
import { describeValue } from './rules';

export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];

/** Stages whose members the registry tracks on the model item, for atomic archive-existing. */
export const ACTIVE_STAGES = ['Staging', 'Production'] as const;
export type ActiveStage = (typeof ACTIVE_STAGES)[number];

export function isActiveStage(stage: Stage): stage is ActiveStage {
  return stage === 'Staging' || stage === 'Production';
}

/** Parses a stage name case-insensitively into its canonical spelling. */
export function parseStage(value: string): Stage {
  const found = STAGES.find((s) => s.toLowerCase() === String(value).trim().toLowerCase());
  if (!found) {
    throw new InvalidParameterError(
      `Invalid Model Version stage: ${describeValue(String(value))}. Choose one of ${STAGES.join(', ')}.`,
    );
  }
  return found;
}

export type VersionStatus = 'PENDING_REGISTRATION' | 'READY' | 'FAILED_REGISTRATION';

export interface Dataset {
  /** A human-readable name of the training data set. */
  readonly name?: string;
  /** A content hash of the data set (e.g. `sha256:…`), to prove which data trained the model. */
  readonly digest?: string;
  /** Where the data set lives (e.g. `s3://bucket/prefix`). */
  readonly uri?: string;
}

export interface RegisteredModel {
  readonly name: string;
  /** Immutable internal id: versions are stored under it, so a rename does not move them. */
  readonly id: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  /** alias -> version number */
  readonly aliases: Readonly<Record<string, number>>;
  readonly creationTimestamp: number;
  readonly createdBy: string;
  /** A rename moved the model but has not yet renamed all of its versions (finished on next access). */
  readonly pendingRename?: boolean;
  /** A delete started and did not finish: the model is invisible; deleting it again finishes. */
  readonly deleting?: boolean;
  /** This model's overrides of the deployment's governance policy. */
  readonly policy?: PolicyOverride;
  /** Incremented by every change of `policy` (a policy change request applies only to its revision). */
  readonly policyRevision: number;
  /** Incremented by every write of the model (a rename copies it only if nothing changed since it was read). */
  readonly revision: number;
  /**
   * An archive-existing written in several batches is under way: `keep` is the version moved into
   * `stage`, the one readers of the stage are given until the others are archived.
   */
  readonly archiving?: { readonly stage: Stage; readonly keep: number };
}

/**
 * What changes with every version of a model, kept apart from the model (its anchor, under its
 * immutable id): the version counter, the last-updated time, the latest version in each stage and
 * the revision that stage changes are conditioned on.
 */
export interface ModelActivity {
  /** The highest version number ever assigned (0 before the first); numbers are never reused. */
  readonly lastVersion: number;
  readonly lastUpdatedTimestamp: number;
  /** The latest version in each stage that has one. */
  readonly latest: Readonly<Partial<Record<Stage, VersionSummary>>>;
  /** Incremented by every change of stage membership (optimistic concurrency of stage changes). */
  readonly revision: number;
  /**
   * How many versions are in None, counting a number spent by a create that has not stored its
   * version yet (never fewer than there are). Kept for models created since the anchor counts
   * them; undefined for older ones.
   */
  readonly versionsInNone?: number;
  /**
   * An archive-existing larger than one transaction: the versions of `stage` other than `keep` are
   * being archived in batches (finished by the next change of the model, or the reconciler).
   */
  readonly pendingArchive?: PendingArchive;
}

export interface PendingArchive {
  readonly stage: ActiveStage;
  readonly keep: number;
  /** Who made the change, for the events of the versions archived later. */
  readonly actor: { readonly person: string; readonly arn: string };
  readonly via?: ChangeProvenance;
}

/** A version as a model's `latest_versions` shows it: no description, tags, lineage or files. */
export interface VersionSummary {
  readonly version: number;
  readonly stage: Stage;
  readonly status: VersionStatus;
  readonly statusMessage?: string;
  readonly source: string;
  readonly runId?: string;
  readonly runLink?: string;
  readonly createdBy: string;
  readonly creationTimestamp: number;
  readonly lastUpdatedTimestamp: number;
}

export function summaryOf(v: ModelVersion): VersionSummary {
  return {
    version: v.version,
    stage: v.stage,
    status: v.status,
    ...(v.statusMessage ? { statusMessage: v.statusMessage } : {}),
    source: v.source,
    ...(v.runId ? { runId: v.runId } : {}),
    ...(v.runLink ? { runLink: v.runLink } : {}),
    createdBy: v.createdBy,
    creationTimestamp: v.creationTimestamp,
    lastUpdatedTimestamp: v.lastUpdatedTimestamp,
  };
}

export interface ModelVersion {
  /** Registry-managed files (absent for versions with an external source). */
  readonly files?: readonly ArtifactFile[];
  /** Multipart upload ids of files still being uploaded (path -> upload id). */
  readonly uploads?: Readonly<Record<string, string>>;
  /** A pending version not finalized by then (epoch ms) is expired. */
  readonly pendingExpiresAt?: number;
  readonly name: string;
  readonly modelId: string;
  readonly version: number;
  readonly source: string;
  readonly runId?: string;
  readonly runLink?: string;
  /** The MLflow 3 logged model the version was registered from (`m-<id>`). */
  readonly loggedModelId?: string;
  readonly dataset?: Dataset;
  readonly parameters: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly status: VersionStatus;
  readonly statusMessage?: string;
  readonly stage: Stage;
  readonly createdBy: string;
  readonly creationTimestamp: number;
  readonly lastUpdatedTimestamp: number;
}

/** One stage change, as recorded in the model's history. */
export interface StageTransition {
  readonly name: string;
  readonly version: number;
  readonly fromStage: Stage;
  readonly toStage: Stage;
  readonly actor: string;
  readonly timestamp: number;
  readonly comment?: string;
  /** Set on the records of versions archived as a side effect of another version's promotion. */
  readonly causedBy?: { readonly version: number; readonly toStage: Stage };
  /** How the change was authorized (absent: the target stage was not guarded). */
  readonly via?: ChangeProvenance;
}

/**
 * How a change of what a model serves was authorized: an approved request, the break-glass
 * routes, or a rollback to a version that was in the stage before.
 */
export type ChangeProvenance =
  | { readonly kind: 'request'; readonly requestId: string; readonly approvedBy: readonly string[] }
  | { readonly kind: 'break-glass'; readonly reason: string }
  | { readonly kind: 'rollback'; readonly fromVersion: number };

/** A model version as the API shows it: with the aliases that point at it. */
export function aliasesOf(model: RegisteredModel, version: number): string[] {
  return Object.entries(model.aliases)
    .filter(([, v]) => v === version)
    .map(([alias]) => alias)
    .sort();
}
