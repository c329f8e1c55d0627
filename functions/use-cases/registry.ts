/**
 * The registry's use cases. Each method validates its input against the domain rules, reads what
 * it needs through the repository port and applies one atomic change. Changes of what a model
 * serves (stages, aliases, deletes of live versions) ask the gatekeeper first: governance decides
 * whether they apply now or wait for approval. No AWS SDK here.
 */
import { type ArtifactFile, artifactModelPrefix, type ModelUri as ModelUriRef } from '../domain/artifacts';
import { InvalidParameterError, InvalidStateError, ResourceNotFoundError } from '../domain/errors';
import type { TransitionRequest } from '../domain/governance';
import type { Principal } from '../domain/identity';
import {
  type Dataset,
  isActiveStage,
  type ModelActivity,
  type ModelVersion,
  parseStage,
  type RegisteredModel,
  STAGES,
  type Stage,
  type StageTransition,
  type VersionSummary,
} from '../domain/model';
import {
  assertAlias,
  assertDescription,
  assertLineage,
  assertModelName,
  assertTagKey,
  assertTags,
  assertTagValue,
  MAX_VERSION_NUMBER,
} from '../domain/rules';
import { effectiveOrder, parseFilter, parseOrderBy, type SearchKind } from '../domain/search-filter';
import { assertNotOtherModelsFiles, assertSource, isPromptVersion } from '../domain/sources';
import type { RegistryCore, TransitionInput, VersionView } from './core';
import type { Page } from './ports';

export type { TransitionInput, VersionView } from './core';

/** A registered model as the API shows it: with its activity and latest version per stage. */
export interface ModelView {
  readonly model: RegisteredModel;
  readonly activity: ModelActivity;
  /** The latest version of each stage that has one, in stage order (summaries). */
  readonly latestVersions: readonly VersionSummary[];
}

export function modelView(model: RegisteredModel, activity: ModelActivity): ModelView {
  return {
    model,
    activity,
    latestVersions: STAGES.flatMap((s) => (activity.latest[s] ? [activity.latest[s]] : [])),
  };
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
  /** The MLflow 3 logged model the version comes from (`model_id`). */
  readonly loggedModelId?: string | undefined;
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

export interface SearchInput {
  readonly filter?: string | undefined;
  readonly orderBy?: readonly string[] | undefined;
  readonly maxResults: number;
  readonly pageToken?: string | undefined;
}

/** What the gatekeeper decided about a change of what a model serves. */
export type GateDecision =
  | { readonly kind: 'apply' }
  /** The change needs approval first: nothing is applied now; this request was filed. */
  | { readonly kind: 'defer'; readonly request: TransitionRequest };

/**
 * The policy step before a change of what a model serves applies. The registry core applies
 * every change at once; governance plugs in here without changing the changes themselves.
 */
export interface Gatekeeper {
  transition(change: {
    model: RegisteredModel;
    version: ModelVersion;
    input: TransitionInput;
    caller: Principal;
  }): Promise<GateDecision>;
  alias(change: {
    model: RegisteredModel;
    alias: string;
    version: number;
    caller: Principal;
  }): Promise<GateDecision>;
  /** Refuses deleting a model (or one of its versions) the policy protects. */
  assertDeletable(model: RegisteredModel, version?: ModelVersion): Promise<void>;
  /** Refuses removing an alias the policy protects. */
  assertAliasRemovable(model: RegisteredModel, alias: string): Promise<void>;
}

export const applyAtOnce: Gatekeeper = {
  transition: async () => ({ kind: 'apply' }),
  alias: async () => ({ kind: 'apply' }),
  assertDeletable: async () => undefined,
  assertAliasRemovable: async () => undefined,
};

export type ChangeOutcome<T> =
  | { readonly kind: 'applied'; readonly value: T }
  | { readonly kind: 'pending'; readonly request: TransitionRequest };

/** A create older than this has finished or stopped (a Lambda function stops at 30 s). */
export const SETTLE_AFTER_MS = 2 * 60_000;
/** How far back the scheduled settling looks (the schedule runs every minute). */
export const SETTLE_WINDOW_MS = 60 * 60_000;

export class RegistryService {
  private readonly repo;
  private readonly clock;

  constructor(
    readonly core: RegistryCore,
    private readonly gatekeeper: Gatekeeper = applyAtOnce,
    /** The bucket of registry-managed files: sources may not point into another model's. */
    private readonly managedBucket?: string,
  ) {
    this.repo = core.repo;
    this.clock = core.clock;
  }

  requireModel(name: string): Promise<RegisteredModel> {
    return this.core.requireModel(name);
  }

  /**
   * Finishes what writes that stopped midway left (the reconciler's schedule): numbers spent by
   * creates that never stored their version get a ModelVersionNumberSkipped event and the model's
   * latest version in None is a stored one again; archives left between batches are finished.
   * Looks at the models updated in the last SETTLE_WINDOW_MS (all of them with `all`), leaving
   * writes younger than SETTLE_AFTER_MS alone.
   */
  async settleInterruptedWrites(
    options: { all?: boolean } = {},
  ): Promise<{ skipped: number; archives: number }> {
    const now = this.clock.now();
    const since = options.all ? 0 : now - SETTLE_WINDOW_MS;
    const { numbers, archives } = await this.repo.unsettled(since, now - SETTLE_AFTER_MS);
    let skipped = 0;
    for (const { model, number } of numbers) {
      const reason = 'The create that spent this number stopped before storing its version.';
      if (await this.repo.skipNumber(model, number, reason)) skipped++;
    }
    let finished = 0;
    for (const { model } of archives) {
      const current = await this.core.modelById(model.id);
      if (!current) continue;
      await this.core.finishArchive(current, await this.repo.getActivity(current));
      finished++;
    }
    return { skipped, archives: finished };
  }

  requireVersion(model: RegisteredModel, version: number): Promise<ModelVersion> {
    return this.core.requireVersion(model, version);
  }

  view(model: RegisteredModel, version: ModelVersion): VersionView {
    return this.core.view(model, version);
  }

  private async modelView(model: RegisteredModel): Promise<ModelView> {
    return modelView(model, await this.repo.getActivity(model));
  }

  // ---------------------------------------------------------------- registered models

  async createRegisteredModel(input: CreateModelInput, caller: Principal): Promise<ModelView> {
    assertModelName(input.name);
    const description = assertDescription(input.description ?? '');
    const tags = assertTags(input.tags ?? {});
    const id = await this.repo.newModelId(input.name);
    const now = this.clock.now();
    const model: RegisteredModel = {
      name: input.name,
      id,
      description,
      tags,
      aliases: {},
      creationTimestamp: now,
      createdBy: caller.arn,
      revision: 0,
      policyRevision: 0,
    };
    await this.repo
      .recording(
        this.core.event('RegisteredModelCreated', model, caller, {
          description: model.description,
          tags: model.tags,
        }),
      )
      .createModel(model);
    return modelView(model, { lastVersion: 0, lastUpdatedTimestamp: now, latest: {}, revision: 0 });
  }

  async getRegisteredModel(name: string): Promise<ModelView> {
    return this.modelView(await this.requireModel(name));
  }

  async updateRegisteredModel(name: string, description: string, caller: Principal): Promise<ModelView> {
    assertDescription(description);
    const model = await this.requireModel(name);
    const event = this.core.event('RegisteredModelUpdated', model, caller, {
      before: { description: model.description },
      after: { description },
    });
    return this.modelView(
      await this.repo.recording(event).updateModelDescription(model, description, this.clock.now()),
    );
  }

  /** Renames a model; its versions, aliases and open requests (keyed by its id) follow. */
  async renameRegisteredModel(name: string, newName: string, caller: Principal): Promise<ModelView> {
    assertModelName(newName, 'new_name');
    const renamed = await this.core.withFreshModel(await this.requireModel(name), (model) =>
      newName === model.name
        ? Promise.resolve(model)
        : this.repo
            .recording(
              this.core.event('RegisteredModelRenamed', { id: model.id, name: newName }, caller, {
                before: { name: model.name },
                after: { name: newName },
              }),
            )
            .renameModel(model, newName, this.clock.now()),
    );
    return this.modelView(renamed);
  }

  async deleteRegisteredModel(name: string, caller: Principal): Promise<void> {
    assertModelName(name);
    const model = await this.repo.getModel(name);
    if (!model) throw new ResourceNotFoundError(`Registered Model with name=${name} not found`);
    // A delete that was interrupted is finished without asking again.
    if (!model.deleting) await this.gatekeeper.assertDeletable(model);
    await this.core.removeModel(model, caller);
  }

  async setRegisteredModelTag(name: string, key: string, value: string, caller: Principal): Promise<void> {
    assertTagKey(key);
    assertTagValue(key, value);
    const model = await this.requireModel(name);
    await this.repo
      .recording(
        this.core.event('RegisteredModelTagSet', model, caller, {
          key,
          before: model.tags[key] ?? null,
          after: value,
        }),
      )
      .setModelTag(model, key, value, this.clock.now());
  }

  async deleteRegisteredModelTag(name: string, key: string, caller: Principal): Promise<void> {
    assertTagKey(key);
    const model = await this.requireModel(name);
    await this.repo
      .recording(
        this.core.event('RegisteredModelTagDeleted', model, caller, { key, before: model.tags[key] ?? null }),
      )
      .deleteModelTag(model, key, this.clock.now());
  }

  async searchRegisteredModels(input: SearchInput): Promise<Page<ModelView>> {
    const page = await this.repo.searchModels(this.searchQuery('models', input));
    const items = page.items.map((m) => modelView(m.model, m.activity));
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
    caller: Principal,
  ): Promise<{ version: VersionView; created: boolean }> {
    if (input.pending) {
      if (input.source !== undefined) {
        throw new InvalidParameterError('Give either a source or files to upload, not both.');
      }
    } else {
      assertSource(input.source, { prompt: isPromptVersion(input.tags) });
    }
    assertLineage(input);
    const model = await this.requireModel(name);
    if (!input.pending && this.managedBucket) {
      assertNotOtherModelsFiles(input.source!, this.managedBucket, artifactModelPrefix(model.id));
    }
    const pending = input.pending;
    const { version, created } = await this.repo
      .recording((v) =>
        this.core.event(
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
            tags: v.tags,
            description: v.description,
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
          ...(input.loggedModelId ? { loggedModelId: input.loggedModelId } : {}),
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
          createdBy: caller.arn,
        },
        this.clock.now(),
        input.clientToken,
      );
    return { version: this.view(model, version), created };
  }

  async getModelVersion(name: string, version: number): Promise<VersionView> {
    const { model, value } = await this.core.requireModelWith(name, (m) =>
      this.core.requireVersion(m, version),
    );
    return this.view(model, value);
  }

  async updateModelVersion(
    name: string,
    version: number,
    description: string,
    caller: Principal,
  ): Promise<VersionView> {
    assertDescription(description);
    return this.core.changeVersion(name, version, async (model, current) => {
      const event = this.core.event(
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
    });
  }

  async setModelVersionTag(name: string, version: number, key: string, value: string, caller: Principal) {
    assertTagKey(key);
    assertTagValue(key, value);
    await this.core.changeVersion(name, version, async (model, current) => {
      const event = this.core.event(
        'ModelVersionTagSet',
        model,
        caller,
        { key, before: current.tags[key] ?? null, after: value },
        version,
      );
      await this.repo.recording(event).setVersionTag(model, current, key, value, this.clock.now());
    });
  }

  async deleteModelVersionTag(name: string, version: number, key: string, caller: Principal) {
    assertTagKey(key);
    await this.core.changeVersion(name, version, (model, current) =>
      this.repo
        .recording(
          this.core.event(
            'ModelVersionTagDeleted',
            model,
            caller,
            { key, before: current.tags[key] ?? null },
            version,
          ),
        )
        .deleteVersionTag(model, current, key, this.clock.now()),
    );
  }

  async deleteModelVersion(name: string, version: number, caller: Principal): Promise<void> {
    const model = await this.requireModel(name);
    await this.gatekeeper.assertDeletable(model, await this.requireVersion(model, version));
    await this.core.removeVersion(model, version, caller);
  }

  /**
   * Requests a stage change. The gatekeeper decides whether it applies now or waits for approval;
   * when it applies, the version moves and (if asked) the other versions in the target stage are
   * archived in the same write. A version already in the stage is left as it is (unless archiving
   * the others was asked and there are some).
   */
  async transitionModelVersionStage(
    name: string,
    version: number,
    input: TransitionInput,
    caller: Principal,
  ): Promise<ChangeOutcome<VersionView>> {
    if (input.archiveExistingVersions && !isActiveStage(input.stage)) {
      throw new InvalidParameterError(
        `archive_existing_versions can only be used when transitioning to Staging or Production, not ${input.stage}.`,
      );
    }
    // The model and everything the change needs, in one round trip (what it reads is spent if
    // the change waits for approval).
    const { model, value: reads } = await this.core.requireModelWith(name, (m) =>
      this.core.stageChangeReads(m, version, input),
    );
    const current = reads.version;
    this.core.assertTransitionable(model, current);
    const othersInStage = reads.members.some((v) => v.version !== version);
    if (current.stage === input.stage && !othersInStage) {
      return { kind: 'applied', value: this.view(model, current) };
    }
    const decision = await this.gatekeeper.transition({ model, version: current, input, caller });
    if (decision.kind === 'defer') return { kind: 'pending', request: decision.request };
    return {
      kind: 'applied',
      value: await this.core.moveStage(model, version, input, caller, undefined, reads),
    };
  }

  /** The latest version in each of the given stages (every stage when none is given), whole. */
  async getLatestVersions(name: string, stages: readonly Stage[]): Promise<VersionView[]> {
    const model = await this.requireModel(name);
    const wanted = stages.length ? [...new Set(stages)] : STAGES;
    const { latest } = await this.repo.getActivity(model);
    const numbers = wanted.flatMap((s) => (latest[s] ? [latest[s].version] : []));
    const found = await this.repo.getVersions(model, numbers);
    // A summary can name a version whose create did not complete (a crash): look below it.
    const versions = await Promise.all(
      wanted.flatMap((stage) => {
        const summary = latest[stage];
        if (!summary) return [];
        const hit = found.find((v) => v.version === summary.version && v.stage === stage);
        return [hit ? Promise.resolve(hit) : this.repo.latestBelow(model, stage, summary.version + 1)];
      }),
    );
    return versions
      .filter((v): v is ModelVersion => Boolean(v))
      .sort((a, b) => STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage))
      .map((v) => this.view(model, v));
  }

  async searchModelVersions(input: SearchInput): Promise<Page<VersionView>> {
    const page = await this.repo.searchVersions(this.searchQuery('versions', input));
    const items = page.items.map(({ version, model }) =>
      model ? this.view(model, version) : { version, aliases: [] },
    );
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

  /** Points an alias at a version, or files a request when the policy protects the alias. */
  async setRegisteredModelAlias(
    name: string,
    alias: string,
    version: number,
    caller: Principal,
  ): Promise<ChangeOutcome<void>> {
    assertAlias(alias);
    const model = await this.requireModel(name);
    if (model.aliases[alias] === version) return { kind: 'applied', value: undefined };
    // The write checks the version exists (a 404 if not); a protected alias's request reads it.
    const decision = await this.gatekeeper.alias({ model, alias, version, caller });
    if (decision.kind === 'defer') return { kind: 'pending', request: decision.request };
    await this.core.pointAlias(model, alias, version, caller);
    return { kind: 'applied', value: undefined };
  }

  async deleteRegisteredModelAlias(name: string, alias: string, caller: Principal): Promise<void> {
    assertAlias(alias);
    const model = await this.requireModel(name);
    if (model.aliases[alias] === undefined) return; // as in MLflow: nothing to delete, nothing recorded
    await this.gatekeeper.assertAliasRemovable(model, alias);
    await this.core.removeAlias(model, alias, caller);
  }

  /**
   * The version a model URI names, on a model already read: by number, alias, stage (an active
   * stage is one read of its index, whole) or `latest`.
   */
  async resolveVersion(model: RegisteredModel, ref: ModelUriRef): Promise<ModelVersion> {
    switch (ref.kind) {
      case 'version':
        return this.requireVersion(model, ref.version);
      case 'alias': {
        assertAlias(ref.alias);
        const number = model.aliases[ref.alias];
        if (number === undefined)
          throw new InvalidParameterError(`Registered model alias ${ref.alias} not found.`);
        return this.requireVersion(model, number);
      }
      case 'latest':
        return (await this.getModelVersionByAlias(model.name, 'latest')).version;
      case 'stage': {
        const stage = parseStage(ref.stage);
        // While an archive-existing is between batches, the stage's reader gets the version moved in.
        const archiving = model.archiving?.stage === stage ? model.archiving.keep : undefined;
        const kept = archiving !== undefined ? await this.repo.getVersion(model, archiving) : undefined;
        const found =
          kept?.stage === stage
            ? kept
            : isActiveStage(stage)
              ? await this.repo.latestBelow(model, stage, MAX_VERSION_NUMBER + 1)
              : (await this.getLatestVersions(model.name, [stage]))[0]?.version;
        if (!found) {
          throw new InvalidStateError(
            `Registered Model with name=${model.name} has no version in stage ${stage}.`,
          );
        }
        return found;
      }
    }
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
      return this.view(model, latest.version);
    }
    assertAlias(alias);
    const version = model.aliases[alias];
    if (version === undefined) throw new InvalidParameterError(`Registered model alias ${alias} not found.`);
    return this.view(model, await this.requireVersion(model, version));
  }
}
