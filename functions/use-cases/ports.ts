/**
 * What the use cases need from the outside world. The DynamoDB adapter implements
 * RegistryRepository; tests and the local runtime use the same adapter against DynamoDB Local.
 */

import type {
  ActiveStage,
  Dataset,
  ModelVersion,
  RegisteredModel,
  Stage,
  StageTransition,
  VersionStatus,
} from '../domain/model';
import type { FilterClause, OrderTerm } from '../domain/search-filter';

export interface NewModelVersion {
  readonly source: string;
  readonly runId?: string;
  readonly runLink?: string;
  readonly dataset?: Dataset;
  readonly parameters: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly status: VersionStatus;
  readonly createdBy: string;
}

export interface StageChange {
  readonly model: RegisteredModel;
  readonly version: ModelVersion;
  readonly toStage: Stage;
  /** Versions to move to Archived in the same write (archive-existing). */
  readonly archive: readonly number[];
  readonly actor: string;
  readonly comment?: string;
  readonly now: number;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextPageToken?: string;
}

export interface SearchQuery {
  readonly clauses: readonly FilterClause[];
  /** The complete ordering (user terms plus tiebreaks). */
  readonly order: readonly OrderTerm[];
  readonly maxResults: number;
  readonly pageToken?: string;
}

export interface RegistryRepository {
  getModel(name: string): Promise<RegisteredModel | undefined>;
  /** Throws ResourceAlreadyExistsError when the name is taken. */
  createModel(model: RegisteredModel): Promise<void>;
  updateModelDescription(model: RegisteredModel, description: string, now: number): Promise<RegisteredModel>;
  setModelTag(model: RegisteredModel, key: string, value: string, now: number): Promise<void>;
  deleteModelTag(model: RegisteredModel, key: string, now: number): Promise<void>;
  /** Moves the model to a new name; its versions, tags and aliases follow. */
  renameModel(model: RegisteredModel, newName: string, now: number): Promise<RegisteredModel>;
  /** Finishes a rename that was interrupted after the model moved (idempotent). */
  completeRename(model: RegisteredModel): Promise<void>;
  deleteModel(model: RegisteredModel): Promise<void>;

  /**
   * Assigns the next version number and stores the version in one transaction. With a client
   * token, a retry returns the version the first attempt created (`created: false`).
   */
  createVersion(
    model: RegisteredModel,
    draft: NewModelVersion,
    now: number,
    clientToken?: string,
  ): Promise<{ version: ModelVersion; created: boolean }>;
  getVersion(model: RegisteredModel, version: number): Promise<ModelVersion | undefined>;
  updateVersionDescription(
    model: RegisteredModel,
    version: ModelVersion,
    description: string,
    now: number,
  ): Promise<ModelVersion>;
  setVersionTag(
    model: RegisteredModel,
    version: ModelVersion,
    key: string,
    value: string,
    now: number,
  ): Promise<void>;
  deleteVersionTag(model: RegisteredModel, version: ModelVersion, key: string, now: number): Promise<void>;
  /** Applies a stage change (and archive-existing) atomically and records the transitions. */
  transitionStage(change: StageChange): Promise<ModelVersion>;
  /** Deletes a version, drops the aliases that point at it; never frees its number. */
  deleteVersion(model: RegisteredModel, version: ModelVersion, now: number): Promise<void>;
  /** The highest version in each of the given stages. */
  latestVersions(model: RegisteredModel, stages: readonly Stage[]): Promise<ModelVersion[]>;
  /** Versions currently in an active stage, as tracked on the model item. */
  stageMembers(model: RegisteredModel, stage: ActiveStage): readonly number[];

  setAlias(model: RegisteredModel, alias: string, version: number, now: number): Promise<void>;
  deleteAlias(model: RegisteredModel, alias: string, now: number): Promise<void>;

  searchModels(query: SearchQuery): Promise<Page<RegisteredModel>>;
  searchVersions(query: SearchQuery): Promise<Page<ModelVersion>>;
  /** Stage transitions of a model (optionally one version), newest first. */
  listTransitions(
    model: RegisteredModel,
    options: { version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<StageTransition>>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
