/**
 * What the registry's use cases share: looking models and versions up, building the event of a
 * change, and the changes of what a model serves (stages, aliases, deletes), each written with
 * its events and with the open requests it makes moot closed in the same transaction.
 *
 * The registry (registry.ts) and governance (governance.ts) both stand on this layer; neither
 * needs the other to change what is live, so they are wired without a cycle.
 */
import {
  ConcurrentModificationError,
  InvalidParameterError,
  InvalidStateError,
  ResourceNotFoundError,
} from '../domain/errors';
import { type EventType, type RegistryEvent, registryEvent } from '../domain/events';
import type { RequestTarget, TransitionRequest } from '../domain/governance';
import type { Actor } from '../domain/identity';
import {
  aliasesOf,
  type ChangeProvenance,
  isActiveStage,
  type ModelActivity,
  type ModelVersion,
  type RegisteredModel,
  type Stage,
  summaryOf,
} from '../domain/model';
import type { ModelCard } from '../domain/model-card';
import { firstModelId } from '../domain/model-id';
import { assertModelName } from '../domain/rules';
import { batchMoves, planStageChange } from '../domain/stage-change';
import {
  type Clock,
  type ModelRef,
  type RegistryRepository,
  type RequestClosure,
  systemClock,
} from './ports';

type Named = ModelRef & { readonly name: string };

/** A model version as the API shows it: with the aliases that point at it. */
export interface VersionView {
  readonly version: ModelVersion;
  readonly aliases: readonly string[];
  /** Its model card, on the reads that fetch it (a single version, not pages). */
  readonly card?: ModelCard;
}

export interface TransitionInput {
  readonly stage: Stage;
  readonly archiveExistingVersions: boolean;
  readonly comment?: string | undefined;
}

/**
 * Attempts of a write that lost a race for the model (a stage change conditioned on the anchor's
 * revision): 16 concurrent archiving transitions all apply, one after another, instead of some
 * answering 409.
 */
const RETRIES_ON_CONFLICT = 40;
/** Attempts of a write of one version that lost a race with another write of it. */
const VERSION_WRITE_ATTEMPTS = 10;
/** Moot requests closed in the stage change's own transaction (each takes 2 items); more follow it. */
const MAX_CLOSURES_PER_WRITE = 8;
/**
 * Items of a stage change's transaction (DynamoDB holds at most 100) left to its moves
 * (`moveItems`: an update, a history record, an event and one item per tag each) besides the
 * anchor, the model's archiving mark, the request it applies and the moot requests it closes.
 */
export const STAGE_BATCH_ITEMS = 100 - 3 - 2 * MAX_CLOSURES_PER_WRITE;

/**
 * Versions read under the one a stage change moves, with it: if it is the latest of its stage,
 * the next latest is usually among them, so the change needs no further read before its write.
 */
const VERSIONS_READ_BELOW = 5;

/** What a stage change reads before it plans (functions/domain/stage-change.ts). */
export interface StageChangeReads {
  readonly activity: ModelActivity;
  readonly version: ModelVersion;
  /** Versions under it, highest first; `complete` when no other version lies below them. */
  readonly below: { readonly versions: readonly ModelVersion[]; readonly complete: boolean };
  readonly open: readonly TransitionRequest[];
  /** The versions now in the target stage (archiving only). */
  readonly members: readonly ModelVersion[];
}

/** The target of a request as event data. */
export function targetData(target: RequestTarget): { to_stage?: Stage; alias?: string } {
  return target.kind === 'stage' ? { to_stage: target.toStage } : { alias: target.alias };
}

/** What a request does, in words (messages, reasons). */
export function describeTarget(request: Pick<TransitionRequest, 'version' | 'target'>): string {
  return request.target.kind === 'stage'
    ? `move version ${request.version} to ${request.target.toStage}`
    : `point @${request.target.alias} at version ${request.version}`;
}

export class RegistryCore {
  constructor(
    readonly repo: RegistryRepository,
    readonly clock: Clock = systemClock,
  ) {}

  // ---------------------------------------------------------------- lookups

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

  /**
   * Reads a model by name and, in the same round trip, what `read` reads under its id: `read`
   * starts at once with the id the name's model most likely has (`firstModelId`: a model keeps
   * it unless it was renamed or its name had been used before) and runs again with the model's
   * id when that guess was wrong.
   */
  async requireModelWith<T>(
    name: string,
    read: (model: Named) => Promise<T>,
  ): Promise<{ model: RegisteredModel; value: T }> {
    assertModelName(name);
    const guess: Named = { id: firstModelId(name), name };
    // Settled either way, so a failure read under a wrong guess is never unhandled.
    const early = Promise.resolve()
      .then(() => read(guess))
      .then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
    const model = await this.requireModel(name);
    if (model.id !== guess.id) return { model, value: await read(model) };
    const got = await early;
    if ('error' in got) throw got.error;
    return { model, value: got.value };
  }

  /** The model with this id under its current name (requests and workflows follow renames). */
  async modelById(id: string): Promise<RegisteredModel | undefined> {
    const model = await this.repo.getModelById(id);
    if (!model || model.deleting) return undefined;
    if (model.pendingRename) await this.repo.completeRename(model);
    return model;
  }

  async requireVersion(model: Named, version: number): Promise<ModelVersion> {
    const found = await this.repo.getVersion(model, version);
    if (!found)
      throw new ResourceNotFoundError(`Model Version (name=${model.name}, version=${version}) not found`);
    return found;
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

  /**
   * Runs a write of one version on a fresh read of the model and the version (read together), and
   * again on a fresh read when a concurrent write won the race (its condition names what it read:
   * the version's tags, its last update): contention is absorbed in the request, bounded.
   */
  async changeVersion<T>(
    name: string,
    version: number,
    write: (model: RegisteredModel, current: ModelVersion) => Promise<T>,
  ): Promise<T> {
    const read = await this.requireModelWith(name, (m) => this.requireVersion(m, version));
    // The first attempt writes on the version read with the model; a retry reads it again.
    let first: ModelVersion | undefined = read.value;
    return this.withFreshModel(
      read.model,
      async (model) => {
        const current = first ?? (await this.requireVersion(model, version));
        first = undefined;
        return write(model, current);
      },
      VERSION_WRITE_ATTEMPTS,
    );
  }

  /** Runs a write conditioned on the model's revision again on a fresh read if it lost a race. */
  async withFreshModel<T>(
    model: RegisteredModel,
    write: (model: RegisteredModel) => Promise<T>,
    attempts = RETRIES_ON_CONFLICT,
  ): Promise<T> {
    let current = model;
    for (let attempt = 1; ; attempt++) {
      try {
        return await write(current);
      } catch (err) {
        if (!(err instanceof ConcurrentModificationError) || attempt >= attempts) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** attempt)));
        const fresh = await this.modelById(model.id);
        if (!fresh) throw new ResourceNotFoundError(`Registered Model with name=${model.name} not found`);
        current = fresh;
      }
    }
  }

  /** The event of a change made by `actor`, recorded with the write (audit log and outbox). */
  event<T extends EventType>(
    type: T,
    model: { readonly id: string; readonly name: string; readonly tags?: Readonly<Record<string, string>> },
    actor: Actor,
    data: Parameters<typeof registryEvent<T>>[1]['data'],
    version?: number,
    reason?: string,
  ): RegistryEvent {
    return registryEvent(type, { now: this.clock.now(), actor, model, version, reason, data });
  }

  /** The event of a request closed as a side effect of another change. */
  closureEvent(model: RegisteredModel, closure: RequestClosure, actor: Actor): RegistryEvent {
    const { request, status, reason } = closure;
    const base = { request_id: request.id, ...targetData(request.target) };
    return status === 'CANCELLED'
      ? this.event('TransitionCancelled', model, actor, { ...base, reason }, request.version, reason)
      : this.event('TransitionFailed', model, actor, { ...base, reason }, request.version, reason);
  }

  // ---------------------------------------------------------------- changes of what is served

  assertTransitionable(model: RegisteredModel, version: ModelVersion): void {
    if (version.status !== 'READY') {
      throw new InvalidStateError(
        `Model Version (name=${model.name}, version=${version.version}) is ${version.status}, not READY; only READY versions can change stage.`,
      );
    }
  }

  /**
   * Moves a version to a stage now (and archives the other versions of an active target stage
   * when asked), planned by `planStageChange` and written with its events: the version asked for
   * and the first archived versions that fit in one transaction (so `models:/name/Stage`
   * resolves to it at once), the others in further transactions. Open stage requests of versions
   * that move are cancelled in the same write; a request this change applies (`via`) is marked
   * APPLIED. An archive interrupted between batches is finished by the model's next stage change.
   */
  async moveStage(
    model: RegisteredModel,
    version: number,
    input: TransitionInput,
    actor: Actor,
    via?: ChangeProvenance,
    preloaded?: StageChangeReads,
  ): Promise<VersionView> {
    if (input.archiveExistingVersions && !isActiveStage(input.stage)) {
      throw new InvalidParameterError(
        `archive_existing_versions can only be used when transitioning to Staging or Production, not ${input.stage}.`,
      );
    }
    let first = preloaded;
    return this.withFreshModel(model, async (fresh) => {
      // The reads of the first attempt may come with the call (read alongside the version);
      // a retry reads everything again.
      const reads = first ?? (await this.stageChangeReads(fresh, version, input));
      first = undefined;
      const { activity, version: current, open, members } = reads;
      if (activity.pendingArchive) {
        await this.finishArchive(fresh, activity);
        throw new ConcurrentModificationError(
          'An earlier archive of this model was finished first; retrying.',
        );
      }
      this.assertTransitionable(fresh, current);
      const archive = members;
      const nextLatest =
        activity.latest[current.stage]?.version === version && current.stage !== input.stage
          ? await this.nextLatestBelow(fresh, activity, current.stage, version, reads.below)
          : undefined;
      const now = this.clock.now();
      const plan = planStageChange({
        version: current,
        toStage: input.stage,
        archive,
        latest: activity.latest,
        ...(nextLatest !== undefined
          ? { nextLatestOfFromStage: nextLatest ? summaryOf(nextLatest) : null }
          : {}),
        openRequests: open,
        ...(via?.kind === 'request' ? { appliedRequestId: via.requestId } : {}),
        now,
        batchItems: STAGE_BATCH_ITEMS,
        breakGlass: via?.kind === 'break-glass',
      });
      const closures: RequestClosure[] = plan.closures.map((c) => ({ ...c, status: 'CANCELLED' }));
      const provenance = provenanceData(via);
      const last = plan.batches.length - 1;
      for (const [i, moves] of plan.batches.entries()) {
        const events = moves.map((m) =>
          m.causedBy
            ? this.event(
                'ModelVersionStageChanged',
                fresh,
                actor,
                {
                  from_stage: m.from,
                  to_stage: m.to,
                  archived_versions: [],
                  comment: `Archived by the move of version ${version} to ${input.stage}`,
                  ...provenance,
                },
                m.version,
              )
            : this.event(
                'ModelVersionStageChanged',
                fresh,
                actor,
                {
                  from_stage: m.from,
                  to_stage: m.to,
                  archived_versions: plan.moves.slice(1).map((x) => x.version),
                  ...(input.comment ? { comment: input.comment } : {}),
                  ...provenance,
                },
                m.version,
                input.comment,
              ),
        );
        const close = i === 0 ? closures.slice(0, MAX_CLOSURES_PER_WRITE) : [];
        await this.repo
          .recording(...events, ...close.map((c) => this.closureEvent(fresh, c, actor)))
          .applyStageBatch({
            model: fresh,
            revision: activity.revision + i,
            moves,
            latest: plan.latestAfter[i]!,
            actor: actor.arn,
            ...(input.comment ? { comment: input.comment } : {}),
            now,
            ...(via ? { via } : {}),
            close,
            ...(plan.batches.length > 1
              ? {
                  pendingArchive:
                    i < last
                      ? {
                          stage: input.stage as 'Staging' | 'Production',
                          keep: version,
                          actor,
                          ...(via ? { via } : {}),
                        }
                      : null,
                }
              : {}),
          });
      }
      // Requests beyond what one transaction holds are closed one by one (each with its event).
      for (const closure of closures.slice(MAX_CLOSURES_PER_WRITE)) {
        await this.repo
          .recording(this.closureEvent(fresh, closure, actor))
          .updateRequest(
            fresh,
            closure.request,
            { status: 'CANCELLED', reason: closure.reason, taskToken: null },
            now,
          )
          .catch((err) => {
            if (!(err instanceof ConcurrentModificationError)) throw err;
          });
      }
      return this.view(fresh, { ...current, stage: input.stage, lastUpdatedTimestamp: now });
    });
  }

  /**
   * What a stage change reads, in one round trip: the anchor, the version, the model's open
   * requests and (archiving) the versions now in the target stage.
   */
  async stageChangeReads(model: Named, version: number, input: TransitionInput): Promise<StageChangeReads> {
    const [activity, read, open, members] = await Promise.all([
      this.repo.getActivity(model),
      this.repo.versionWithBelow(model, version, VERSIONS_READ_BELOW),
      this.openRequestsOf(model),
      input.archiveExistingVersions && isActiveStage(input.stage)
        ? this.repo.stageMembers(model, input.stage)
        : Promise.resolve([]),
    ]);
    if (!read.version) {
      throw new ResourceNotFoundError(`Model Version (name=${model.name}, version=${version}) not found`);
    }
    return {
      activity,
      version: read.version,
      below: { versions: read.below, complete: read.complete },
      open,
      members,
    };
  }

  /**
   * The highest version of `stage` below `version`: among the versions read under it when it is
   * there; none when they were all of them, or when the version is the only one the anchor counts
   * in None; else read.
   */
  private async nextLatestBelow(
    model: Named,
    activity: ModelActivity,
    stage: Stage,
    version: number,
    below: StageChangeReads['below'],
  ): Promise<ModelVersion | null> {
    const found = below.versions.find((v) => v.stage === stage);
    if (found) return found;
    if (below.complete) return null;
    if (stage === 'None' && activity.versionsInNone !== undefined && activity.versionsInNone <= 1)
      return null;
    return this.repo.latestBelow(model, stage, below.versions.at(-1)?.version ?? version);
  }

  /**
   * Finishes an archive-existing that was interrupted between its batches: the versions of the
   * stage other than the one promoted are archived now, in batches, recorded as the original
   * change's.
   */
  async finishArchive(model: RegisteredModel, activity: ModelActivity): Promise<void> {
    const pending = activity.pendingArchive;
    if (!pending) return;
    const rest = (await this.repo.stageMembers(model, pending.stage)).filter(
      (v) => v.version !== pending.keep,
    );
    const now = this.clock.now();
    const provenance = provenanceData(pending.via);
    let latestArchived = activity.latest.Archived;
    const batches = batchMoves(
      rest.map((v) => ({
        version: v.version,
        from: pending.stage,
        to: 'Archived' as const,
        summary: summaryOf({ ...v, stage: 'Archived', lastUpdatedTimestamp: now }),
        causedBy: { version: pending.keep, toStage: pending.stage },
        tags: Object.keys(v.tags),
      })),
      STAGE_BATCH_ITEMS,
    );
    for (const [i, moves] of batches.entries()) {
      for (const m of moves)
        if (!latestArchived || latestArchived.version <= m.version) latestArchived = m.summary;
      await this.repo
        .recording(
          ...moves.map((m) =>
            this.event(
              'ModelVersionStageChanged',
              model,
              pending.actor,
              {
                from_stage: m.from,
                to_stage: m.to,
                archived_versions: [],
                comment: `Archived by the move of version ${pending.keep} to ${pending.stage}`,
                ...provenance,
              },
              m.version,
            ),
          ),
        )
        .applyStageBatch({
          model,
          revision: activity.revision + i,
          moves,
          latest: latestArchived ? { Archived: latestArchived } : {},
          actor: pending.actor.arn,
          now,
          ...(pending.via && pending.via.kind !== 'request' ? { via: pending.via } : {}),
          pendingArchive: i === batches.length - 1 ? null : pending,
        });
    }
  }

  /** Points an alias at a version now (with the request it applies, if any). */
  async pointAlias(
    model: RegisteredModel,
    alias: string,
    version: number,
    actor: Actor,
    via?: ChangeProvenance,
  ): Promise<void> {
    await this.withFreshModel(model, async (fresh) => {
      const before = fresh.aliases[alias] ?? null;
      const event = this.event(
        'AliasChanged',
        fresh,
        actor,
        { alias, before, after: version, ...provenanceData(via) },
        version,
      );
      await this.repo.recording(event).setAlias(fresh, alias, version, this.clock.now(), {
        expected: before,
        ...(via?.kind === 'request' ? { requestId: via.requestId } : {}),
      });
    });
  }

  /** Removes an alias now; removing one that does not exist records nothing (as in MLflow). */
  async removeAlias(model: RegisteredModel, alias: string, actor: Actor, via?: ChangeProvenance) {
    await this.withFreshModel(model, async (fresh) => {
      const before = fresh.aliases[alias];
      if (before === undefined) return;
      const event = this.event(
        'AliasChanged',
        fresh,
        actor,
        { alias, before, after: null, ...provenanceData(via) },
        before,
      );
      await this.repo.recording(event).deleteAlias(fresh, alias, this.clock.now(), before);
    });
  }

  /** Deletes a version now, cancelling its open requests in the same write. */
  async removeVersion(model: RegisteredModel, version: number, actor: Actor, via?: ChangeProvenance) {
    await this.withFreshModel(model, async (fresh) => {
      const current = await this.requireVersion(fresh, version);
      const close: RequestClosure[] = (await this.openRequestsOf(fresh, version)).map((request) => ({
        request,
        status: 'CANCELLED',
        reason: `Version ${version} was deleted.`,
      }));
      const events = [
        this.event(
          'ModelVersionDeleted',
          fresh,
          actor,
          { stage: current.stage, aliases: [...aliasesOf(fresh, version)], ...provenanceData(via) },
          version,
        ),
        ...close.map((c) => this.closureEvent(fresh, c, actor)),
      ];
      await this.repo.recording(...events).deleteVersion(fresh, current, this.clock.now(), close);
    });
  }

  /**
   * Deletes a model with its versions. Its open requests are cancelled first (a request filed
   * meanwhile is closed by the reconciler, which finds its model gone).
   */
  async removeModel(model: RegisteredModel, actor: Actor, via?: ChangeProvenance): Promise<void> {
    if (!model.deleting) {
      for (const request of await this.openRequestsOf(model)) {
        const closure: RequestClosure = {
          request,
          status: 'CANCELLED',
          reason: `Registered Model ${model.name} was deleted.`,
        };
        await this.repo
          .recording(this.closureEvent(model, closure, actor))
          .updateRequest(
            model,
            request,
            { status: 'CANCELLED', reason: closure.reason, taskToken: null },
            this.clock.now(),
          )
          .catch((err) => {
            if (!(err instanceof ConcurrentModificationError)) throw err; // decided meanwhile
          });
      }
    }
    await this.repo
      .recording(this.event('RegisteredModelDeleted', model, actor, { ...provenanceData(via) }))
      .deleteModel(model);
  }

  /** Open requests of a model (or of one of its versions). */
  async openRequestsOf(model: ModelRef, version?: number): Promise<TransitionRequest[]> {
    const out: TransitionRequest[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.repo.listOpenRequests({
        modelId: model.id,
        ...(version !== undefined ? { version } : {}),
        maxResults: 100,
        ...(pageToken ? { pageToken } : {}),
      });
      out.push(...page.items);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return out;
  }
}

/** Event fields saying how a change was authorized. */
export function provenanceData(via: ChangeProvenance | undefined): {
  request_id?: string;
  approved_by?: string[];
  rollback?: boolean;
  break_glass?: boolean;
  break_glass_reason?: string;
} {
  if (!via) return {};
  switch (via.kind) {
    case 'request':
      return { request_id: via.requestId, approved_by: [...via.approvedBy] };
    case 'break-glass':
      return { break_glass: true, break_glass_reason: via.reason };
    case 'rollback':
      return { rollback: true };
  }
}
