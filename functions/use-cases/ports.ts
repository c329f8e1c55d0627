/**
 * What the use cases need from the outside world. The DynamoDB adapter implements
 * RegistryRepository; tests and the local runtime use the same adapter against DynamoDB Local.
 */

import type { ArtifactFile } from '../domain/artifacts';
import type { RegistryEvent, RegistryEventDetail } from '../domain/events';
import type {
  Approval,
  PolicyChangeRequest,
  PolicyOverride,
  RequestStatus,
  TransitionRequest,
} from '../domain/governance';
import type {
  ChangeProvenance,
  Dataset,
  ModelActivity,
  ModelVersion,
  PendingArchive,
  RegisteredModel,
  Stage,
  StageTransition,
  VersionStatus,
  VersionSummary,
} from '../domain/model';
import type { ModelCard, StoredModelCard } from '../domain/model-card';
import type { FilterClause, OrderTerm } from '../domain/search-filter';
import type { StageMove } from '../domain/stage-change';
import type { Webhook, WebhookDelivery } from '../domain/webhooks';

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

/** One batch of a planned stage change (functions/domain/stage-change.ts), written atomically. */
export interface StageBatch {
  readonly model: RegisteredModel;
  /** The anchor revision the plan was made from; the write is refused if it moved. */
  readonly revision: number;
  readonly moves: readonly StageMove[];
  /** The latest version per stage after this batch (null: the stage is empty). */
  readonly latest: Readonly<Partial<Record<Stage, VersionSummary | null>>>;
  /** The ARN of who made the change. */
  readonly actor: string;
  readonly comment?: string;
  readonly now: number;
  /** How the change was authorized; a request it applies is marked APPLIED with the first batch. */
  readonly via?: ChangeProvenance;
  /** Open requests the change makes moot, closed in the same write. */
  readonly close?: readonly RequestClosure[];
  /** Set when batches follow (a crash leaves it, and the next change finishes them); cleared by the last. */
  readonly pendingArchive?: PendingArchive | null;
}

/** An open request closed as a side effect of a change (its version deleted or archived). */
export interface RequestClosure {
  readonly request: TransitionRequest;
  readonly status: Extract<RequestStatus, 'CANCELLED' | 'FAILED'>;
  readonly reason: string;
}

/** What a request update may change. */
export interface RequestChanges {
  readonly status?: RequestStatus;
  readonly reason?: string;
  readonly approvals?: TransitionRequest['approvals'];
  /** The approval task's token (null removes it). */
  readonly taskToken?: string | null;
}

/** A model by its immutable id (what requests and the audit log are stored under). */
export interface ModelRef {
  readonly id: string;
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

/** A registered model with its activity (counter, last update, latest version per stage). */
export interface ModelWithActivity {
  readonly model: RegisteredModel;
  readonly activity: ModelActivity;
}

/** Registered models: the model (by name) and its anchor (by id). */
export interface ModelsPort {
  getModel(name: string): Promise<RegisteredModel | undefined>;
  /** The id a new model of this name gets (its name's first id when no model had it). */
  newModelId(name: string): Promise<string>;
  /** The model with this immutable id, whatever its name is now (it follows renames). */
  getModelById(id: string): Promise<RegisteredModel | undefined>;
  getActivity(model: ModelRef): Promise<ModelActivity>;
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
   * Points an alias at a version, if the alias still points where `expected` says (null: absent).
   * With `requestId`, the approved request it applies is marked APPLIED in the same write.
   */
  setAlias(
    model: RegisteredModel,
    alias: string,
    version: number,
    now: number,
    options: { expected: number | null; requestId?: string },
  ): Promise<void>;
  /** Removes an alias if it still points at `expected`. */
  deleteAlias(model: RegisteredModel, alias: string, now: number, expected: number): Promise<void>;
  /**
   * Replaces the model's policy override if its policy revision is still `model.policyRevision`
   * (else ConcurrentModificationError). With `apply`, the policy change request it applies gets
   * its final approvals and is marked APPLIED in the same write (if it is still as read).
   */
  setPolicy(
    model: RegisteredModel,
    policy: PolicyOverride | undefined,
    now: number,
    apply?: { request: PolicyChangeRequest; approvals: readonly Approval[] },
  ): Promise<RegisteredModel>;
}

/** Model versions. */
export interface VersionsPort {
  /**
   * Assigns the next version number (an atomic counter: concurrent creates never conflict) and
   * stores the version. With a client token, a retry returns the version the first attempt
   * created (`created: false`).
   */
  createVersion(
    model: RegisteredModel,
    draft: NewModelVersion,
    now: number,
    clientToken?: string,
  ): Promise<{ version: ModelVersion; created: boolean }>;
  getVersion(model: ModelRef & { readonly name: string }, version: number): Promise<ModelVersion | undefined>;
  /**
   * Among the models updated in [since, until], what a stopped write left unfinished: numbers
   * spent by creates that have not stored their version, and archives left between batches.
   */
  unsettled(
    since: number,
    until: number,
  ): Promise<{
    numbers: { model: ModelRef & { readonly name: string }; number: number }[];
    archives: { model: ModelRef & { readonly name: string }; activity: ModelActivity }[];
  }>;
  /**
   * Records a spent number whose version was never stored (ModelVersionNumberSkipped) and points
   * the model's latest version in None back at a stored one. False if there was nothing to settle.
   */
  skipNumber(model: ModelRef & { readonly name: string }, number: number, reason: string): Promise<boolean>;
  /** Versions by number, in one read (missing ones are left out). */
  getVersions(
    model: ModelRef & { readonly name: string },
    versions: readonly number[],
  ): Promise<ModelVersion[]>;
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
  /** Deletes a version, drops the aliases that point at it; never frees its number. */
  deleteVersion(
    model: RegisteredModel,
    version: ModelVersion,
    now: number,
    close?: readonly RequestClosure[],
  ): Promise<void>;
  /**
   * Records the multipart upload id of one file of a pending version. False when the version is
   * no longer pending or another request recorded an upload for that file first.
   */
  addUpload(model: RegisteredModel, version: number, path: string, uploadId: string): Promise<boolean>;
  /**
   * Moves a version out of PENDING_REGISTRATION (or updates its message while pending). Either
   * way the version stops expiring: from then on it is settled or being verified. Returns false
   * if the version was no longer pending.
   */
  setRegistrationStatus(
    model: RegisteredModel,
    version: number,
    status: VersionStatus,
    message: string,
    now: number,
  ): Promise<boolean>;
}

/** Model cards, one per version. */
export interface CardsPort {
  getModelCard(model: ModelRef, version: number): Promise<StoredModelCard | undefined>;
  /** A version and its card, in one read. */
  getVersionWithCard(
    model: ModelRef & { readonly name: string },
    version: number,
  ): Promise<{ version?: ModelVersion; card?: StoredModelCard }>;
  /**
   * Stores a version's card with the write's events if the version exists (else
   * ResourceNotFoundError) and its stored card is still at `expectedRevision` (null: none), else
   * ConcurrentModificationError.
   */
  putModelCard(
    model: ModelRef & { readonly name: string },
    version: number,
    card: ModelCard,
    options: { readonly expectedRevision: number | null; readonly now: number; readonly actor: string },
  ): Promise<StoredModelCard>;
}

/** Stages: membership, planned changes, history. */
export interface StagesPort {
  /** The versions now in an active stage (Staging, Production), by number. */
  stageMembers(model: ModelRef & { readonly name: string }, stage: Stage): Promise<ModelVersion[]>;
  /**
   * A version (if it exists) and up to `below` versions under it, highest first, in one read;
   * `complete` when no other version lies below them.
   */
  versionWithBelow(
    model: ModelRef & { readonly name: string },
    version: number,
    below: number,
  ): Promise<{ version?: ModelVersion; below: ModelVersion[]; complete: boolean }>;
  /** The highest version of `stage` below `below` (null: none). */
  latestBelow(
    model: ModelRef & { readonly name: string },
    stage: Stage,
    below: number,
  ): Promise<ModelVersion | null>;
  /** Writes one batch of a planned stage change atomically with its events. */
  applyStageBatch(batch: StageBatch): Promise<void>;
  /** Stage transitions of a model (optionally one version), newest first. */
  listTransitions(
    model: RegisteredModel,
    options: { version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<StageTransition>>;
}

/** Transition and policy change requests. */
export interface RequestsPort {
  createRequest(request: TransitionRequest): Promise<void>;
  getRequest(model: ModelRef, id: string): Promise<TransitionRequest | undefined>;
  getTaskToken(model: ModelRef, id: string): Promise<string | undefined>;
  /** Updates a request if it is still as `current` says (status and approvals), else conflict. */
  updateRequest(
    model: ModelRef,
    current: TransitionRequest,
    changes: RequestChanges,
    now: number,
  ): Promise<TransitionRequest>;
  listRequests(
    model: RegisteredModel,
    options: { status?: RequestStatus; version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<TransitionRequest>>;
  /**
   * Open (PENDING or APPROVED) requests: of one model (optionally one version), or of every model
   * (the inbox and the reconciler), oldest model first.
   */
  listOpenRequests(options: {
    modelId?: string;
    version?: number;
    maxResults: number;
    pageToken?: string;
  }): Promise<Page<TransitionRequest>>;
  createPolicyRequest(request: PolicyChangeRequest): Promise<void>;
  getPolicyRequest(model: ModelRef, id: string): Promise<PolicyChangeRequest | undefined>;
  updatePolicyRequest(
    model: ModelRef,
    current: PolicyChangeRequest,
    changes: Pick<RequestChanges, 'status' | 'reason' | 'approvals'>,
    now: number,
  ): Promise<PolicyChangeRequest>;
  listPolicyRequests(
    model: RegisteredModel,
    options: { status?: RequestStatus; maxResults: number; pageToken?: string },
  ): Promise<Page<PolicyChangeRequest>>;
}

/** The audit log. */
export interface AuditPort {
  /** The audit log of a model (by id: it outlives the model), newest first. */
  listAudit(
    modelId: string,
    options: { version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<{ type: string; detail: RegistryEventDetail }>>;
  /**
   * The recorded events (outbox records) that occurred in [from, to), of one model or of every
   * model (deleted ones too), for replay: oldest first within a model; every model's are read by a
   * scan of the table, in pages that stop after `maxItems` items were examined.
   */
  auditRange(options: {
    from: number;
    to: number;
    modelId?: string;
    maxItems: number;
    pageToken?: string;
  }): Promise<Page<RegistryEvent>>;
}

/** Search with MLflow's filter grammar, planned onto the indexes. */
export interface SearchPort {
  searchModels(query: SearchQuery): Promise<Page<ModelWithActivity>>;
  /** Versions with their models (for aliases and current names). */
  searchVersions(query: SearchQuery): Promise<Page<{ version: ModelVersion; model?: RegisteredModel }>>;
}

/**
 * The registry's storage: one port per aggregate, and `recording`, which makes the next write
 * carry the given events (audit entries, published by the outbox relay) in the same transaction.
 */
export interface RegistryRepository
  extends ModelsPort,
    VersionsPort,
    CardsPort,
    StagesPort,
    RequestsPort,
    AuditPort,
    SearchPort {
  /** A factory receives the version the write creates. */
  recording(
    ...events: readonly (RegistryEvent | ((created: ModelVersion) => RegistryEvent))[]
  ): RegistryRepository;
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

/**
 * The approval workflow (a Step Functions state machine deployed; aws-local-stepfunctions
 * locally). Executions are named by request id, so a duplicate start is a no-op.
 */
export interface ApprovalWorkflow {
  /** Starts the request's execution unless one with its name exists. */
  start(execution: WorkflowExecution): Promise<'started' | 'exists'>;
  /** Whether the request's execution is running, has ended, or was never started. */
  status(requestId: string): Promise<'RUNNING' | 'ENDED' | 'NOT_FOUND'>;
  /** Resumes a waiting approval task (SendTaskSuccess). */
  succeed(token: string, output: Record<string, unknown>): Promise<void>;
  /** Ends a waiting approval task with an error (SendTaskFailure). */
  fail(token: string, error: string, cause: string): Promise<void>;
}

/** The input of an approval workflow execution (its name is the request id). */
export interface WorkflowExecution {
  readonly requestId: string;
  readonly modelId: string;
  readonly name: string;
  /** How long the approval task waits (the request's remaining time to live). */
  readonly approvalTimeoutSeconds: number;
}

// ---------------------------------------------------------------- webhooks

/** How a failed or successful attempt of a delivery ended. */
export type AttemptOutcome =
  | { readonly kind: 'succeeded'; readonly responseStatus: number }
  | {
      readonly kind: 'failed';
      readonly responseStatus?: number;
      readonly error: string;
      /** Another attempt then (FAILED), or none (DEAD). */
      readonly nextAttemptAt?: number;
    };

/**
 * Webhooks and their delivery logs (registry-wide). Changes of a webhook are written with their
 * event (the audit entry, published by the outbox relay) in one transaction.
 */
export interface WebhooksPort {
  createWebhook(webhook: Webhook, event: RegistryEvent): Promise<void>;
  getWebhook(id: string): Promise<Webhook | undefined>;
  /** Webhooks, oldest first. */
  listWebhooks(options: { maxResults: number; pageToken?: string }): Promise<Page<Webhook>>;
  /** Every webhook (they are few: MAX_WEBHOOKS). */
  allWebhooks(): Promise<Webhook[]>;
  /** Replaces a webhook if it is still as `current` (else ConcurrentModificationError). */
  updateWebhook(current: Webhook, next: Webhook, event: RegistryEvent): Promise<void>;
  /** Deletes a webhook (its delivery log and audit entries stay until they expire). */
  deleteWebhook(webhook: Webhook, event: RegistryEvent): Promise<void>;
  /** Records a delivery unless one with its id exists (false then: nothing was written). */
  recordDelivery(delivery: WebhookDelivery): Promise<boolean>;
  getDelivery(webhookId: string, deliveryId: string): Promise<WebhookDelivery | undefined>;
  /** A webhook's delivery log, newest first. */
  listDeliveries(
    webhookId: string,
    options: { maxResults: number; pageToken?: string },
  ): Promise<Page<WebhookDelivery>>;
  /**
   * Takes a PENDING or FAILED delivery whose time has come for one attempt: counts the attempt and
   * holds the delivery until `leaseUntil` (so no one else attempts it meanwhile). Undefined when
   * it changed since it was read (another attempt took it, or it was settled).
   */
  claimDelivery(
    delivery: WebhookDelivery,
    now: number,
    leaseUntil: number,
  ): Promise<WebhookDelivery | undefined>;
  /** Records how the claimed attempt ended (ignored if the delivery was claimed again since). */
  settleDelivery(claimed: WebhookDelivery, outcome: AttemptOutcome, now: number): Promise<WebhookDelivery>;
  /** Deliveries waiting for an attempt whose time has come, oldest first. */
  dueDeliveries(now: number, limit: number): Promise<WebhookDelivery[]>;
  /** Puts a FAILED or DEAD delivery back to PENDING, due now, with its attempts counted afresh. */
  resetDelivery(delivery: WebhookDelivery, now: number): Promise<WebhookDelivery>;
}

/**
 * Seals secrets at rest: KMS deployed (with an encryption context), AES-256-GCM with a key in the
 * data directory locally. The context binds a sealed secret to its webhook: it opens only with it.
 */
export interface SecretSealer {
  seal(plaintext: string, context: Readonly<Record<string, string>>): Promise<string>;
  open(sealed: string, context: Readonly<Record<string, string>>): Promise<string>;
}

/** What a target answered (or why it could not be reached). */
export type TransportResult =
  | { readonly kind: 'response'; readonly status: number; readonly body: string }
  | { readonly kind: 'error'; readonly error: string };

/** POSTs a delivery to a webhook's URL (never following redirects, within a timeout). */
export interface WebhookTransport {
  /** Why the URL's target is refused (a non-public address, deployed), or undefined. */
  check(url: string): Promise<string | undefined>;
  post(url: string, headers: Readonly<Record<string, string>>, body: string): Promise<TransportResult>;
}
