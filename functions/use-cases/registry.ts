/**
 * The registry's use cases. Each method validates its input against the domain rules, reads what
 * it needs through the repository port and applies one atomic change. No AWS SDK here.
 */
import type { ArtifactFile } from '../domain/artifacts';
import {
  ConcurrentModificationError,
  InvalidParameterError,
  InvalidStateError,
  ResourceNotFoundError,
} from '../domain/errors';
import { type EventType, type RegistryEvent, registryEvent } from '../domain/events';
import {
  aliasesOf,
  type Dataset,
  isActiveStage,
  type ModelVersion,
  type RegisteredModel,
  STAGES,
  type Stage,
  type StageTransition,
} from '../domain/model';
import {
  assertAlias,
  assertDescription,
  assertLineage,
  assertModelName,
  assertSource,
  assertTagKey,
  assertTags,
  assertTagValue,
} from '../domain/rules';
import { effectiveOrder, parseFilter, parseOrderBy, type SearchKind } from '../domain/search-filter';
import { type Clock, type Page, type RegistryRepository, systemClock } from './ports';

/** A registered model as the API shows it. */
export interface ModelView {
  readonly model: RegisteredModel;
  readonly latestVersions: readonly VersionView[];
}

/** A model version as the API shows it: with the aliases that point at it. */
export interface VersionView {
  readonly version: ModelVersion;
  readonly aliases: readonly string[];
}

export interface CreateModelInput {
  readonly name: string;
  readonly description?: string | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
}

export interface CreateVersionInput {
  readonly source?: string | undefined;
  readonly runId?: string | undefined;
  readonly runLink?: string | undefined;
  readonly dataset?: Dataset | undefined;
  readonly parameters?: Readonly<Record<string, string>> | undefined;
  readonly metrics?: Readonly<Record<string, number>> | undefined;
  readonly description?: string | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
  /** Makes the create idempotent: a retry with the same token returns the same version. */
  readonly clientToken?: string | undefined;
  /** Registry-managed files: the version waits in PENDING_REGISTRATION until they are verified. */
  readonly pending?:
    | {
        readonly files: readonly ArtifactFile[];
        readonly expiresAt: number;
        /** The storage location of the version's files, known once its number is. */
        readonly source: (modelId: string, version: number) => string;
      }
    | undefined;
}

export interface TransitionInput {
  readonly stage: Stage;
  readonly archiveExistingVersions: boolean;
  readonly comment?: string | undefined;
}

export interface SearchInput {
  readonly filter?: string | undefined;
  readonly orderBy?: readonly string[] | undefined;
  readonly maxResults: number;
  readonly pageToken?: string | undefined;
}

/** What a transition policy decided about a requested stage change. */
export type TransitionDecision =
  | { readonly kind: 'apply' }
  /** The change needs approval first: nothing is applied now; `pending` describes the request. */
  | { readonly kind: 'defer'; readonly pending: unknown };

/**
 * The policy step before a stage change applies. The registry core applies every transition at
 * once; governance (approval gates) plugs in here without changing the transition itself.
 */
export interface TransitionPolicy {
  evaluate(request: {
    model: RegisteredModel;
    version: ModelVersion;
    input: TransitionInput;
    caller: string;
  }): Promise<TransitionDecision>;
  /** Refuses deleting a model (or one of its versions) the policy protects. */
  assertDeletable?(model: RegisteredModel, version?: ModelVersion): Promise<void>;
}

export const applyAtOnce: TransitionPolicy = { evaluate: async () => ({ kind: 'apply' }) };

export type TransitionOutcome =
  | { readonly kind: 'applied'; readonly version: VersionView }
  | { readonly kind: 'pending'; readonly pending: unknown };

const RETRIES_ON_CONFLICT = 8;

export class RegistryService {
  constructor(
    private readonly repo: RegistryRepository,
    private readonly policy: TransitionPolicy = applyAtOnce,
    private readonly clock: Clock = systemClock,
  ) {}

  // ---------------------------------------------------------------- helpers

  /** Reads a model or throws the not-found error MLflow clients match on. */
  async requireModel(name: string): Promise<RegisteredModel> {
    assertModelName(name);
    const model = await this.repo.getModel(name);
    if (!model || model.deleting) {
      throw new ResourceNotFoundError(`Registered Model with name=${name} not found`);
    }
    if (model.pendingRename) await this.repo.completeRename(model);
    return model;
  }

  async requireVersion(model: RegisteredModel, version: number): Promise<ModelVersion> {
    const found = await this.repo.getVersion(model, version);
    if (!found)
      throw new ResourceNotFoundError(`Model Version (name=${model.name}, version=${version}) not found`);
    return found;
  }

  /** Runs a write that is conditioned on the model's revision again on a fresh read if it lost a race. */
  private async withFreshModel<T>(name: string, write: (model: RegisteredModel) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const model = await this.requireModel(name);
      try {
        return await write(model);
      } catch (err) {
        if (!(err instanceof ConcurrentModificationError) || attempt >= RETRIES_ON_CONFLICT) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  /** A version as callers see it; a pending upload past its deadline shows as failed. */
  view(model: RegisteredModel, version: ModelVersion): VersionView {
    const expired =
      version.status === 'PENDING_REGISTRATION' &&
      version.pendingExpiresAt !== undefined &&
      version.pendingExpiresAt <= this.clock.now();
    const shown: ModelVersion = expired
      ? {
          ...version,
          status: 'FAILED_REGISTRATION',
          statusMessage: `The upload was not finalized before ${new Date(version.pendingExpiresAt!).toISOString()}; register a new version.`,
        }
      : version;
    return { version: { ...shown, name: model.name }, aliases: aliasesOf(model, version.version) };
  }

  private async modelView(model: RegisteredModel): Promise<ModelView> {
    const latest = await this.repo.latestVersions(model, STAGES);
    return { model, latestVersions: latest.map((v) => this.view(model, v)) };
  }

  // ---------------------------------------------------------------- registered models

  async createRegisteredModel(input: CreateModelInput, caller: string): Promise<ModelView> {
    assertModelName(input.name);
    const now = this.clock.now();
    const model: RegisteredModel = {
      name: input.name,
      id: crypto.randomUUID(),
      description: assertDescription(input.description ?? ''),
      tags: assertTags(input.tags ?? {}),
      aliases: {},
      creationTimestamp: now,
      lastUpdatedTimestamp: now,
      createdBy: caller,
      lastVersion: 0,
      stageMembers: { Staging: [], Production: [] },
      revision: 0,
    };
    await this.repo
      .recording(
        this.event('RegisteredModelCreated', model, caller, {
          description: model.description,
          tags: model.tags,
        }),
      )
      .createModel(model);
    return { model, latestVersions: [] };
  }

  async getRegisteredModel(name: string): Promise<ModelView> {
    return this.modelView(await this.requireModel(name));
  }

  async updateRegisteredModel(name: string, description: string, caller: string): Promise<ModelView> {
    assertDescription(description);
    const model = await this.requireModel(name);
    const event = this.event('RegisteredModelUpdated', model, caller, {
      before: { description: model.description },
      after: { description },
    });
    return this.modelView(
      await this.repo.recording(event).updateModelDescription(model, description, this.clock.now()),
    );
  }

  async renameRegisteredModel(name: string, newName: string, caller: string): Promise<ModelView> {
    assertModelName(newName, 'new_name');
    const renamed = await this.withFreshModel(name, (model) =>
      newName === model.name
        ? Promise.resolve(model)
        : this.repo
            .recording(
              this.event('RegisteredModelRenamed', { id: model.id, name: newName }, caller, {
                before: { name: model.name },
                after: { name: newName },
              }),
            )
            .renameModel(model, newName, this.clock.now()),
    );
    return this.modelView(renamed);
  }

  async deleteRegisteredModel(name: string, caller: string): Promise<void> {
    assertModelName(name);
    const model = await this.repo.getModel(name);
    if (!model) throw new ResourceNotFoundError(`Registered Model with name=${name} not found`);
    // A delete that was interrupted is finished without asking again.
    if (!model.deleting) await this.policy.assertDeletable?.(model);
    await this.repo.recording(this.event('RegisteredModelDeleted', model, caller, {})).deleteModel(model);
  }

  async setRegisteredModelTag(name: string, key: string, value: string, caller: string): Promise<void> {
    assertTagKey(key);
    assertTagValue(key, value);
    const model = await this.requireModel(name);
    await this.repo
      .recording(
        this.event('RegisteredModelTagSet', model, caller, {
          key,
          before: model.tags[key] ?? null,
          after: value,
        }),
      )
      .setModelTag(model, key, value, this.clock.now());
  }

  async deleteRegisteredModelTag(name: string, key: string, caller: string): Promise<void> {
    assertTagKey(key);
    const model = await this.requireModel(name);
    await this.repo
      .recording(
        this.event('RegisteredModelTagDeleted', model, caller, { key, before: model.tags[key] ?? null }),
      )
      .deleteModelTag(model, key, this.clock.now());
  }

  async searchRegisteredModels(input: SearchInput): Promise<Page<ModelView>> {
    const page = await this.repo.searchModels(this.searchQuery('models', input));
    const items = await Promise.all(page.items.map((m) => this.modelView(m)));
    return { items, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }

  private searchQuery(kind: SearchKind, input: SearchInput) {
    const clauses = parseFilter(kind, input.filter);
    const order = effectiveOrder(kind, parseOrderBy(kind, input.orderBy));
    return {
      clauses,
      order,
      maxResults: input.maxResults,
      ...(input.pageToken ? { pageToken: input.pageToken } : {}),
    };
  }

  // ---------------------------------------------------------------- model versions

  async createModelVersion(
    name: string,
    input: CreateVersionInput,
    caller: string,
  ): Promise<{ version: VersionView; created: boolean }> {
    if (input.pending) {
      if (input.source !== undefined) {
        throw new InvalidParameterError('Give either a source or files to upload, not both.');
      }
    } else {
      assertSource(input.source);
    }
    assertLineage(input);
    const model = await this.requireModel(name);
    const pending = input.pending;
    const { version, created } = await this.repo
      .recording((v) =>
        this.event(
          'ModelVersionCreated',
          model,
          caller,
          {
            version: v.version,
            stage: v.stage,
            status: v.status,
            source: v.source,
            ...(v.runId ? { run_id: v.runId } : {}),
            metrics: v.metrics,
            managed_files: v.files?.length ?? 0,
          },
          v.version,
        ),
      )
      .createVersion(
        model,
        {
          source: pending ? (n) => pending.source(model.id, n) : input.source!,
          ...(input.runId ? { runId: input.runId } : {}),
          ...(input.runLink ? { runLink: input.runLink } : {}),
          ...(input.dataset && Object.keys(input.dataset).length ? { dataset: input.dataset } : {}),
          parameters: input.parameters ?? {},
          metrics: input.metrics ?? {},
          description: assertDescription(input.description ?? ''),
          tags: assertTags(input.tags ?? {}),
          // External sources are READY at once; registry-managed artifacts start PENDING_REGISTRATION.
          status: input.pending ? 'PENDING_REGISTRATION' : 'READY',
          ...(input.pending
            ? {
                files: input.pending.files,
                uploads: {},
                pendingExpiresAt: input.pending.expiresAt,
                statusMessage: 'Waiting for the upload',
              }
            : {}),
          createdBy: caller,
        },
        this.clock.now(),
        input.clientToken,
      );
    return { version: this.view(model, version), created };
  }

  async getModelVersion(name: string, version: number): Promise<VersionView> {
    const model = await this.requireModel(name);
    return this.view(model, await this.requireVersion(model, version));
  }

  async updateModelVersion(
    name: string,
    version: number,
    description: string,
    caller: string,
  ): Promise<VersionView> {
    assertDescription(description);
    const model = await this.requireModel(name);
    const current = await this.requireVersion(model, version);
    const event = this.event(
      'ModelVersionUpdated',
      model,
      caller,
      { before: { description: current.description }, after: { description } },
      version,
    );
    return this.view(
      model,
      await this.repo
        .recording(event)
        .updateVersionDescription(model, current, description, this.clock.now()),
    );
  }

  async setModelVersionTag(name: string, version: number, key: string, value: string, caller: string) {
    assertTagKey(key);
    assertTagValue(key, value);
    const model = await this.requireModel(name);
    const current = await this.requireVersion(model, version);
    const event = this.event(
      'ModelVersionTagSet',
      model,
      caller,
      { key, before: current.tags[key] ?? null, after: value },
      version,
    );
    await this.repo.recording(event).setVersionTag(model, current, key, value, this.clock.now());
  }

  async deleteModelVersionTag(name: string, version: number, key: string, caller: string) {
    assertTagKey(key);
    const model = await this.requireModel(name);
    const current = await this.requireVersion(model, version);
    await this.repo
      .recording(
        this.event(
          'ModelVersionTagDeleted',
          model,
          caller,
          { key, before: current.tags[key] ?? null },
          version,
        ),
      )
      .deleteVersionTag(model, current, key, this.clock.now());
  }

  async deleteModelVersion(name: string, version: number, caller: string): Promise<void> {
    await this.withFreshModel(name, async (model) => {
      const current = await this.requireVersion(model, version);
      await this.policy.assertDeletable?.(model, current);
      const event = this.event(
        'ModelVersionDeleted',
        model,
        caller,
        { stage: current.stage, aliases: [...aliasesOf(model, version)] },
        version,
      );
      await this.repo.recording(event).deleteVersion(model, current, this.clock.now());
    });
  }

  /**
   * Requests a stage change. The policy decides whether it applies now or waits for approval;
   * when it applies, the version moves and (if asked) the other versions in the target stage are
   * archived in the same write.
   */
  async transitionModelVersionStage(
    name: string,
    version: number,
    input: TransitionInput,
    caller: string,
  ): Promise<TransitionOutcome> {
    if (input.archiveExistingVersions && !isActiveStage(input.stage)) {
      throw new InvalidParameterError(
        `archive_existing_versions can only be used when transitioning to Staging or Production, not ${input.stage}.`,
      );
    }
    const model = await this.requireModel(name);
    const current = await this.requireVersion(model, version);
    this.assertTransitionable(model, current);
    const decision = await this.policy.evaluate({ model, version: current, input, caller });
    if (decision.kind === 'defer') return { kind: 'pending', pending: decision.pending };
    return { kind: 'applied', version: await this.applyTransition(name, version, input, caller) };
  }

  private assertTransitionable(model: RegisteredModel, version: ModelVersion): void {
    if (version.status !== 'READY') {
      throw new InvalidStateError(
        `Model Version (name=${model.name}, version=${version.version}) is ${version.status}, not READY; only READY versions can change stage.`,
      );
    }
  }

  /** Applies a stage change now (used directly, and by governance once a request is approved). */
  async applyTransition(
    name: string,
    version: number,
    input: TransitionInput,
    caller: string,
    governed: {
      readonly requestId?: string;
      readonly approvedBy?: readonly string[];
      readonly rollback?: boolean;
    } = {},
  ): Promise<VersionView> {
    return this.withFreshModel(name, async (model) => {
      const current = await this.requireVersion(model, version);
      this.assertTransitionable(model, current);
      const archive =
        input.archiveExistingVersions && isActiveStage(input.stage)
          ? this.repo.stageMembers(model, input.stage).filter((v) => v !== version)
          : [];
      const events = [
        this.event(
          'ModelVersionStageChanged',
          model,
          caller,
          {
            from_stage: current.stage,
            to_stage: input.stage,
            archived_versions: archive,
            ...(input.comment ? { comment: input.comment } : {}),
            ...(governed.requestId ? { request_id: governed.requestId } : {}),
            ...(governed.approvedBy ? { approved_by: [...governed.approvedBy] } : {}),
            ...(governed.rollback ? { rollback: true } : {}),
          },
          version,
          input.comment,
        ),
        ...archive.map((v) =>
          this.event(
            'ModelVersionStageChanged',
            model,
            caller,
            {
              from_stage: input.stage,
              to_stage: 'Archived',
              archived_versions: [],
              comment: `Archived by the move of version ${version} to ${input.stage}`,
              ...(governed.requestId ? { request_id: governed.requestId } : {}),
            },
            v,
          ),
        ),
      ];
      const moved = await this.repo.recording(...events).transitionStage({
        model,
        version: current,
        toStage: input.stage,
        archive,
        actor: caller,
        ...(input.comment ? { comment: input.comment } : {}),
        now: this.clock.now(),
        ...(governed.requestId ? { requestId: governed.requestId } : {}),
      });
      return this.view(model, moved);
    });
  }

  async getLatestVersions(name: string, stages: readonly Stage[]): Promise<VersionView[]> {
    const model = await this.requireModel(name);
    const wanted = stages.length ? [...new Set(stages)] : STAGES;
    const latest = await this.repo.latestVersions(model, wanted);
    return latest.map((v) => this.view(model, v));
  }

  async searchModelVersions(input: SearchInput): Promise<Page<VersionView>> {
    const page = await this.repo.searchVersions(this.searchQuery('versions', input));
    // Aliases live on the model item: read each distinct model once.
    const names = [...new Set(page.items.map((v) => v.name))];
    const models = new Map(
      (await Promise.all(names.map((n) => this.repo.getModel(n)))).filter(Boolean).map((m) => [m!.id, m!]),
    );
    const items = page.items.map((v) => {
      const model = models.get(v.modelId);
      return {
        version: model ? { ...v, name: model.name } : v,
        aliases: model ? aliasesOf(model, v.version) : [],
      };
    });
    return { items, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }

  async listTransitions(
    name: string,
    options: { version?: number | undefined; maxResults: number; pageToken?: string | undefined },
  ): Promise<Page<StageTransition>> {
    const model = await this.requireModel(name);
    if (options.version !== undefined) await this.requireVersion(model, options.version);
    return this.repo.listTransitions(model, {
      maxResults: options.maxResults,
      ...(options.version !== undefined ? { version: options.version } : {}),
      ...(options.pageToken ? { pageToken: options.pageToken } : {}),
    });
  }

  // ---------------------------------------------------------------- aliases

  async setRegisteredModelAlias(name: string, alias: string, version: number, caller: string): Promise<void> {
    assertAlias(alias);
    const model = await this.requireModel(name);
    const event = this.event(
      'AliasChanged',
      model,
      caller,
      { alias, before: model.aliases[alias] ?? null, after: version },
      version,
    );
    await this.repo.recording(event).setAlias(model, alias, version, this.clock.now());
  }

  async deleteRegisteredModelAlias(name: string, alias: string, caller: string): Promise<void> {
    assertAlias(alias);
    const model = await this.requireModel(name);
    const before = model.aliases[alias];
    // Deleting an alias that does not exist succeeds (as in MLflow) and records nothing.
    const repo =
      before === undefined
        ? this.repo
        : this.repo.recording(
            this.event('AliasChanged', model, caller, { alias, before, after: null }, before),
          );
    await repo.deleteAlias(model, alias, this.clock.now());
  }

  /** The event of a change made by `caller`, recorded with the write (audit log and outbox). */
  event<T extends EventType>(
    type: T,
    model: { readonly id: string; readonly name: string },
    caller: string,
    data: Parameters<typeof registryEvent<T>>[1]['data'],
    version?: number,
    reason?: string,
  ): RegistryEvent {
    return registryEvent(type, { now: this.clock.now(), actor: caller, model, version, reason, data });
  }

  /** Resolves an alias; `latest` is the highest existing version. */
  async getModelVersionByAlias(name: string, alias: string): Promise<VersionView> {
    const model = await this.requireModel(name);
    if (alias.toLowerCase() === 'latest') {
      const page = await this.repo.searchVersions({
        clauses: [{ key: { type: 'attribute', name: 'name' }, comparator: '=', value: model.name }],
        order: [{ key: 'version_number', direction: 'DESC' }],
        maxResults: 1,
      });
      const latest = page.items[0];
      if (!latest) throw new InvalidParameterError(`Registered model alias ${alias} not found.`);
      return this.view(model, latest);
    }
    assertAlias(alias);
    const version = model.aliases[alias];
    if (version === undefined) throw new InvalidParameterError(`Registered model alias ${alias} not found.`);
    return this.view(model, await this.requireVersion(model, version));
  }
}
