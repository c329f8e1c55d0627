/**
 * What the use cases need from the outside world. The DynamoDB adapter implements
 * RegistryRepository; tests and the local runtime use the same adapter against DynamoDB Local.
 */

import type { ArtifactFile } from '../domain/artifacts';
import type { RegistryEvent, RegistryEventDetail } from '../domain/events';
import type { PolicyOverride, RequestStatus, TransitionRequest } from '../domain/governance';
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
  /** A location, or (registry-managed files) a function of the number the repository assigns. */
  readonly source: string | ((version: number) => string);
  readonly runId?: string;
  readonly runLink?: string;
  readonly dataset?: Dataset;
  readonly parameters: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly status: VersionStatus;
  readonly statusMessage?: string;
  readonly createdBy: string;
  readonly files?: readonly ArtifactFile[];
  /** Multipart upload ids by path; an empty map for a version that will receive files. */
  readonly uploads?: Readonly<Record<string, string>>;
  readonly pendingExpiresAt?: number;
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
  /** The approved transition request this change applies (marked APPLIED in the same write). */
  readonly requestId?: string;
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
  /**
   * This repository, recording the given events (audit entries, published by the outbox relay)
   * in the same transaction as its next write. A factory receives the version the write creates.
   */
  recording(
    ...events: readonly (RegistryEvent | ((created: ModelVersion) => RegistryEvent))[]
  ): RegistryRepository;

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

  /**
   * Records the multipart upload id of one file of a pending version. False when the version is
   * no longer pending or another request recorded an upload for that file first.
   */
  addUpload(model: RegisteredModel, version: number, path: string, uploadId: string): Promise<boolean>;
  /**
   * Moves a version out of PENDING_REGISTRATION (or updates its message while pending).
   * Returns false if the version was no longer pending.
   */
  setRegistrationStatus(
    model: RegisteredModel,
    version: number,
    status: VersionStatus,
    message: string,
    now: number,
  ): Promise<boolean>;

  setAlias(model: RegisteredModel, alias: string, version: number, now: number): Promise<void>;
  deleteAlias(model: RegisteredModel, alias: string, now: number): Promise<void>;

  setPolicy(
    model: RegisteredModel,
    policy: PolicyOverride | undefined,
    now: number,
  ): Promise<RegisteredModel>;
  createRequest(request: TransitionRequest): Promise<void>;
  getRequest(model: RegisteredModel, id: string): Promise<TransitionRequest | undefined>;
  getTaskToken(model: RegisteredModel, id: string): Promise<string | undefined>;
  /** Updates a request if it is still as `current` says (status and approvals), else conflict. */
  updateRequest(
    model: RegisteredModel,
    current: TransitionRequest,
    changes: {
      status?: RequestStatus;
      reason?: string;
      approvals?: TransitionRequest['approvals'];
      taskToken?: string | null;
    },
    now: number,
  ): Promise<TransitionRequest>;
  listRequests(
    model: RegisteredModel,
    options: { status?: RequestStatus; version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<TransitionRequest>>;
  /** The audit log of a model (by id: it outlives the model), newest first. */
  listAudit(
    modelId: string,
    options: { version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<{ type: string; detail: RegistryEventDetail }>>;

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

/** Registry-managed artifact storage (S3). Keys are built by the registry. */
export interface ArtifactStore {
  readonly bucket: string;
  /**
   * A presigned write-once PUT of exactly `size` bytes with the given SHA-256 (S3 checks it): the
   * returned headers are signed and must be sent as given.
   */
  presignPut(
    key: string,
    size: number,
    sha256: string,
    ttlSeconds: number,
  ): Promise<{ url: string; headers: Record<string, string> }>;
  createMultipartUpload(key: string): Promise<string>;
  presignPart(key: string, uploadId: string, partNumber: number, ttlSeconds: number): Promise<string>;
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
  /**
   * Completes write-once. 'exists': the key was already written (a retried or concurrent
   * completion), so its content still has to be verified; 'invalid-parts': S3 refused the parts
   * (a part missing, an ETag that differs, a part but the last under 5 MiB); 'conflict': another
   * write to the key kept S3 from completing, even after retries.
   */
  completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ): Promise<'completed' | 'exists' | 'no-such-upload' | 'invalid-parts' | 'conflict'>;
  head(key: string): Promise<{ size: number } | undefined>;
  /** Reads the object and returns its SHA-256 (lowercase hex). */
  sha256(key: string): Promise<string>;
  presignGet(key: string, ttlSeconds: number, fileName: string): Promise<string>;
}

/** Runs artifact verification after the request that asked for it has returned. */
export interface VerificationQueue {
  enqueue(job: VerificationJob): Promise<void>;
}

export interface VerificationJob {
  readonly name: string;
  readonly modelId: string;
  readonly version: number;
}
