/**
 * The registry's storage on one DynamoDB table (functions/deployment/table.ts): the ports of
 * functions/use-cases/ports.ts, each served by the module of its aggregate — models.ts,
 * versions.ts, cards.ts, stages.ts, requests.ts, audit.ts, search.ts — on the primitives of
 * table.ts and the item codecs of codecs.ts. `recording()` gives the next write its events, so a
 * change never commits without them.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RegistryEvent, RegistryEventDetail } from '../../domain/events';
import type {
  Approval,
  PolicyChangeRequest,
  PolicyOverride,
  RequestStatus,
  TransitionRequest,
} from '../../domain/governance';
import {
  type ModelActivity,
  type ModelVersion,
  type RegisteredModel,
  type Stage,
  type StageTransition,
  summaryOf,
  type VersionStatus,
} from '../../domain/model';
import type { ModelCard } from '../../domain/model-card';
import type {
  ModelRef,
  ModelWithActivity,
  NewModelVersion,
  Page,
  RegistryRepository,
  RequestChanges,
  RequestClosure,
  SearchQuery,
  StageBatch,
} from '../../use-cases/ports';
import { AuditLog } from './audit';
import { Cards } from './cards';
import { summaryItem } from './codecs';
import { Models } from './models';
import { PageTokens } from './page-token';
import { markApplied, Requests } from './requests';
import { Search } from './search';
import { Stages } from './stages';
import { type Journal, RegistryTable } from './table';
import { Versions } from './versions';

type Named = ModelRef & { readonly name: string };

export class DynamoDbRegistryRepository implements RegistryRepository {
  private readonly models: Models;
  private readonly versions: Versions;
  private readonly cards: Cards;
  private readonly stages: Stages;
  private readonly requests: Requests;
  private readonly audit: AuditLog;
  private readonly search: Search;
  /** Own property of the view `recording()` returns; consumed by its next write. */
  private journal: Journal = [];

  constructor(db: DynamoDBDocumentClient, tableName: string, pageTokenSecret: string) {
    const table = new RegistryTable(db, tableName);
    const tokens = new PageTokens(pageTokenSecret);
    this.models = new Models(table);
    this.versions = new Versions(table);
    this.cards = new Cards(table);
    this.stages = new Stages(table, tokens);
    this.requests = new Requests(table, tokens);
    this.audit = new AuditLog(table, tokens);
    this.search = new Search(table, tokens);
    this.tableName = tableName;
  }

  readonly tableName: string;

  recording(...events: readonly (RegistryEvent | ((created: ModelVersion) => RegistryEvent))[]): this {
    const view = Object.create(this) as this;
    view.journal = events;
    return view;
  }

  /** The events for this write (a view's journal is spent by one write). */
  private take(): Journal {
    const journal = this.journal;
    this.journal = [];
    return journal;
  }

  // ---------------------------------------------------------------- models

  getModel(name: string) {
    return this.models.get(name);
  }
  newModelId(name: string) {
    return this.models.newId(name);
  }
  getModelById(id: string) {
    return this.models.getById(id);
  }
  getActivity(model: ModelRef): Promise<ModelActivity> {
    return this.models.activity(model);
  }
  createModel(model: RegisteredModel) {
    return this.models.create(model, this.take());
  }
  updateModelDescription(model: RegisteredModel, description: string, now: number) {
    return this.models.updateDescription(model, description, now, this.take());
  }
  setModelTag(model: RegisteredModel, key: string, value: string, _now: number) {
    return this.models.setTag(model, key, value, this.take());
  }
  deleteModelTag(model: RegisteredModel, key: string, _now: number) {
    return this.models.deleteTag(model, key, this.take());
  }
  renameModel(model: RegisteredModel, newName: string, now: number) {
    return this.models.rename(model, newName, now, this.take());
  }
  completeRename(model: RegisteredModel) {
    return this.models.completeRename(model);
  }
  deleteModel(model: RegisteredModel) {
    return this.models.delete(model, this.take());
  }
  setAlias(
    model: RegisteredModel,
    alias: string,
    version: number,
    now: number,
    options: { expected: number | null; requestId?: string },
  ) {
    const extra = options.requestId ? [markApplied(this.tableName, model.id, options.requestId, now)] : [];
    return this.models.setAlias(model, alias, version, { ...options, now }, extra, this.take());
  }
  deleteAlias(model: RegisteredModel, alias: string, _now: number, expected: number) {
    return this.models.deleteAlias(model, alias, expected, this.take());
  }
  setPolicy(
    model: RegisteredModel,
    policy: PolicyOverride | undefined,
    now: number,
    apply?: { request: PolicyChangeRequest; approvals: readonly Approval[] },
  ) {
    return this.models.setPolicy(model, policy, now, apply, this.take());
  }

  // ---------------------------------------------------------------- versions

  createVersion(model: RegisteredModel, draft: NewModelVersion, now: number, clientToken?: string) {
    return this.versions.create(model, draft, now, clientToken, this.take());
  }
  getVersion(model: Named, version: number) {
    return this.versions.get(model, version);
  }
  async unsettled(since: number, until: number) {
    const numbers: { model: Named; number: number }[] = [];
    const archives: { model: Named; activity: ModelActivity }[] = [];
    for await (const anchors of this.models.anchorsUpdated(since, until)) {
      archives.push(...anchors.filter((a) => a.activity.pendingArchive));
      numbers.push(
        ...(await this.versions.missing(
          anchors
            .filter((a) => a.draftFromCounter)
            .map((a) => ({ model: a.model, number: a.activity.lastVersion })),
        )),
      );
    }
    return { numbers, archives };
  }
  skipNumber(model: Named, number: number, reason: string) {
    return this.versions.skipNumber(model, number, reason);
  }
  getVersions(model: Named, versions: readonly number[]) {
    return this.versions.getMany(model, versions);
  }
  updateVersionDescription(model: RegisteredModel, version: ModelVersion, description: string, now: number) {
    return this.versions.updateDescription(model, version, description, now, this.take());
  }
  setVersionTag(model: RegisteredModel, version: ModelVersion, key: string, value: string, _now: number) {
    return this.versions.setTag(model, version, key, value, this.take());
  }
  deleteVersionTag(model: RegisteredModel, version: ModelVersion, key: string, _now: number) {
    return this.versions.deleteTag(model, version, key, this.take());
  }
  async deleteVersion(
    model: RegisteredModel,
    version: ModelVersion,
    now: number,
    close: readonly RequestClosure[] = [],
  ) {
    // The anchor: its revision (stage membership changes), and the latest of the version's stage.
    const activity = await this.models.activity(model);
    let latest: Record<string, unknown> | null | undefined;
    if (activity.latest[version.stage]?.version === version.version) {
      const next = await this.stages.latestBelow(model, version.stage, version.version);
      latest = next ? summaryItem(summaryOf(next)) : null;
    }
    return this.versions.delete(
      model,
      version,
      now,
      { revision: activity.revision, latest },
      close,
      this.take(),
    );
  }
  addUpload(model: RegisteredModel, version: number, path: string, uploadId: string) {
    return this.versions.addUpload(model, version, path, uploadId);
  }
  setRegistrationStatus(
    model: RegisteredModel,
    version: number,
    status: VersionStatus,
    message: string,
    now: number,
  ) {
    return this.versions.setStatus(model, version, status, message, now, this.take());
  }

  // ---------------------------------------------------------------- model cards

  getModelCard(model: ModelRef, version: number) {
    return this.cards.get(model, version);
  }
  getVersionWithCard(model: Named, version: number) {
    return this.cards.withVersion(model, version);
  }
  putModelCard(
    model: Named,
    version: number,
    card: ModelCard,
    options: { readonly expectedRevision: number | null; readonly now: number; readonly actor: string },
  ) {
    return this.cards.put(model, version, card, options, this.take());
  }

  // ---------------------------------------------------------------- stages

  stageMembers(model: Named, stage: Stage) {
    return this.stages.members(model, stage);
  }
  versionWithBelow(model: Named, version: number, below: number) {
    return this.stages.withBelow(model, version, below);
  }
  latestBelow(model: Named, stage: Stage, below: number) {
    return this.stages.latestBelow(model, stage, below);
  }
  applyStageBatch(batch: StageBatch) {
    return this.stages.apply(batch, this.take());
  }
  listTransitions(
    model: RegisteredModel,
    options: { version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<StageTransition>> {
    return this.stages.listTransitions(model, options);
  }

  // ---------------------------------------------------------------- requests

  createRequest(request: TransitionRequest) {
    return this.requests.create(request, this.take());
  }
  getRequest(model: ModelRef, id: string) {
    return this.requests.get(model, id);
  }
  getTaskToken(model: ModelRef, id: string) {
    return this.requests.taskToken(model, id);
  }
  updateRequest(model: ModelRef, current: TransitionRequest, changes: RequestChanges, now: number) {
    return this.requests.update(model, current, changes, now, this.take());
  }
  listRequests(
    model: RegisteredModel,
    options: { status?: RequestStatus; version?: number; maxResults: number; pageToken?: string },
  ) {
    return this.requests.list(model, options);
  }
  listOpenRequests(options: { modelId?: string; version?: number; maxResults: number; pageToken?: string }) {
    return this.requests.listOpen(options);
  }
  createPolicyRequest(request: PolicyChangeRequest) {
    return this.requests.createPolicy(request, this.take());
  }
  getPolicyRequest(model: ModelRef, id: string) {
    return this.requests.getPolicy(model, id);
  }
  updatePolicyRequest(
    model: ModelRef,
    current: PolicyChangeRequest,
    changes: Pick<RequestChanges, 'status' | 'reason' | 'approvals'>,
    now: number,
  ) {
    return this.requests.updatePolicy(model, current, changes, now, this.take());
  }
  listPolicyRequests(
    model: RegisteredModel,
    options: { status?: RequestStatus; maxResults: number; pageToken?: string },
  ) {
    return this.requests.listPolicy(model, options);
  }

  // ---------------------------------------------------------------- audit, search

  listAudit(
    modelId: string,
    options: { version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<{ type: string; detail: RegistryEventDetail }>> {
    return this.audit.list(modelId, options);
  }
  auditRange(options: { from: number; to: number; modelId?: string; maxItems: number; pageToken?: string }) {
    return this.audit.range(options);
  }
  searchModels(query: SearchQuery): Promise<Page<ModelWithActivity>> {
    return this.search.models(query);
  }
  searchVersions(query: SearchQuery) {
    return this.search.versions(query);
  }
}
