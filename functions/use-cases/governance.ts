/**
 * Governed changes of what a model serves. A transition into a guarded stage, or a move of a
 * protected alias, becomes a request; the approval workflow (a Step Functions state machine,
 * started by the TransitionRequested event, one execution per request) checks the quality gates,
 * waits for human approval, and applies the change after checking it again. Decisions are judged
 * by the stricter of the policy the request was filed under and the current one, with people (not
 * sessions) compared and counted. An approved request is always applied or visibly failed: the
 * approval retries resuming the workflow, and the reconciler applies (or fails) any request left
 * approved. Every step is recorded as an event in the audit log. No AWS SDK here.
 */
import {
  ConcurrentModificationError,
  InvalidParameterError,
  InvalidStateError,
  PermissionDeniedError,
  ResourceNotFoundError,
} from '../domain/errors';
import { REGISTRY_ACTOR } from '../domain/events';
import {
  type Approval,
  approvalRefusal,
  countingApprovals,
  effectivePolicy,
  type GovernancePolicy,
  gateFailures,
  isOpen,
  type RequestStatus,
  type RequestTarget,
  stricterPolicy,
  type TransitionRequest,
} from '../domain/governance';
import type { Actor, Principal } from '../domain/identity';
import {
  aliasesOf,
  isActiveStage,
  type ModelVersion,
  type RegisteredModel,
  type Stage,
} from '../domain/model';
import { assertDescription } from '../domain/rules';
import { WORKFLOW_ERRORS } from '../wiring/approval-workflow';
import { describeTarget, type RegistryCore, targetData, type VersionView } from './core';
import type { ApprovalWorkflow, Page, WorkflowExecution } from './ports';
import type { GateDecision, Gatekeeper } from './registry';

/** Thrown by the workflow to end an execution whose request is no longer open. */
export class RequestClosedError extends Error {
  override readonly name = WORKFLOW_ERRORS.closed;
}

export const QUALITY_GATE_TAG = 'quality_gate';
const MAX_REQUEST_LIST = 1000;
const REQUEST_ID = /^tr-[0-9a-f-]{36}$/;

/** A request with the rules it is judged by now (the stricter of its filing policy and today's). */
export interface RequestView {
  readonly request: TransitionRequest;
  readonly requiredApprovals: number;
  readonly requesterMayApprove: boolean;
  /** The name the model has now (requests follow renames). */
  readonly name: string;
}

export interface WorkflowJob {
  readonly modelId: string;
  readonly requestId: string;
}

export interface GovernanceSettings {
  /** A request left APPROVED (or PENDING without a running workflow) this long is reconciled. */
  readonly reconcileAfterMs: number;
  /** Attempts to resume the workflow after an approval before the reconciler takes over. */
  readonly resumeAttempts: number;
  /**
   * How long an approval of a request whose quality gates are still being checked waits for them
   * (they take moments) before it is refused as too early. Well inside API Gateway's 29 s.
   */
  readonly gateWaitMs?: number;
}

export const DEFAULT_GOVERNANCE_SETTINGS: GovernanceSettings = {
  reconcileAfterMs: 60_000,
  resumeAttempts: 3,
  gateWaitMs: 5_000,
};

export interface ReconcileReport {
  readonly examined: number;
  readonly applied: number;
  readonly failed: number;
  readonly expired: number;
  readonly cancelled: number;
  readonly started: number;
}

export class GovernanceService {
  constructor(
    private readonly core: RegistryCore,
    private readonly deploymentPolicy: GovernancePolicy,
    private readonly workflow: ApprovalWorkflow | undefined,
    private readonly settings: GovernanceSettings = DEFAULT_GOVERNANCE_SETTINGS,
  ) {}

  private get repo() {
    return this.core.repo;
  }

  private now(): number {
    return this.core.clock.now();
  }

  policyFor(model: RegisteredModel): GovernancePolicy {
    return effectivePolicy(this.deploymentPolicy, model.policy);
  }

  /** The rules a request is judged by now. */
  judged(request: TransitionRequest, model: RegisteredModel): GovernancePolicy {
    return stricterPolicy(request.filedPolicy, this.policyFor(model));
  }

  /** What the registry asks before a change of what a model serves applies. */
  readonly gatekeeper: Gatekeeper = {
    transition: async ({ model, version, input, caller }): Promise<GateDecision> => {
      const policy = this.policyFor(model);
      // Archiving the other versions of the target stage moves them into Archived: when that
      // stage is guarded, so is the transition that archives them.
      const guarded =
        policy.guardedStages.includes(input.stage) ||
        (input.archiveExistingVersions &&
          isActiveStage(input.stage) &&
          policy.guardedStages.includes('Archived') &&
          (await this.repo.stageMembers(model, input.stage)).some((v) => v.version !== version.version));
      if (!guarded) return { kind: 'apply' };
      const target: RequestTarget = {
        kind: 'stage',
        fromStage: version.stage,
        toStage: input.stage,
        archiveExistingVersions: input.archiveExistingVersions,
      };
      return {
        kind: 'defer',
        request: await this.fileRequest(model, version, target, caller, policy, input.comment),
      };
    },
    alias: async ({ model, alias, version, caller }): Promise<GateDecision> => {
      const policy = this.policyFor(model);
      if (!policy.protectedAliases.includes(alias)) return { kind: 'apply' };
      const target: RequestTarget = { kind: 'alias', alias, previousVersion: model.aliases[alias] ?? null };
      const v = await this.core.requireVersion(model, version);
      return { kind: 'defer', request: await this.fileRequest(model, v, target, caller, policy) };
    },
    assertDeletable: async (model, version) => {
      const policy = this.policyFor(model);
      // Live: in Production or a guarded active stage, or with an alias.
      const liveStages = new Set<Stage>(
        (['Staging', 'Production'] as const).filter(
          (st) => st === 'Production' || policy.guardedStages.includes(st),
        ),
      );
      const refuse = (v: number, stage: Stage | undefined) => {
        const aliases = aliasesOf(model, v);
        const protectedAliases = aliases.filter((a) => policy.protectedAliases.includes(a));
        const inLiveStage = stage !== undefined && liveStages.has(stage);
        if (
          !(policy.protectLiveVersions && (inLiveStage || aliases.length > 0)) &&
          protectedAliases.length === 0
        )
          return;
        const why =
          inLiveStage && policy.protectLiveVersions
            ? `is in ${stage}`
            : `has the alias${aliases.length > 1 ? 'es' : ''} ${aliases.map((a) => `@${a}`).join(', ')}`;
        throw new InvalidStateError(
          `${version ? `Model Version (name=${model.name}, version=${v})` : `Registered Model (name=${model.name}) has version ${v}, which`} ${why}; the governance policy protects live versions from deletion. Archive it or move the alias first, or use the break-glass route.`,
        );
      };
      if (version) return refuse(version.version, version.stage);
      const { latest } = await this.core.repo.getActivity(model);
      for (const stage of liveStages) if (latest[stage]) refuse(latest[stage].version, stage);
      for (const v of new Set(Object.values(model.aliases))) refuse(v, undefined);
    },
    assertAliasRemovable: async (model, alias) => {
      if (!this.policyFor(model).protectedAliases.includes(alias)) return;
      throw new InvalidStateError(
        `@${alias} of Registered Model (name=${model.name}) is a protected alias: it moves only through an approved request. Remove it with the break-glass route, or unprotect it with a policy change.`,
      );
    },
  };

  // ---------------------------------------------------------------- requests

  private async fileRequest(
    model: RegisteredModel,
    version: ModelVersion,
    target: RequestTarget,
    caller: Principal,
    policy: GovernancePolicy,
    comment?: string,
  ): Promise<TransitionRequest> {
    if (comment !== undefined) assertDescription(comment);
    const open = await this.core.openRequestsOf(model);
    const duplicate = open.find((r) =>
      target.kind === 'stage'
        ? r.target.kind === 'stage' && r.version === version.version && r.target.toStage === target.toStage
        : r.target.kind === 'alias' && r.target.alias === target.alias,
    );
    if (duplicate) {
      throw new InvalidStateError(
        `Transition request ${duplicate.id} already asks to ${describeTarget(duplicate)} of ${model.name}; approve, reject or cancel it first.`,
      );
    }
    const now = this.now();
    const ttlSeconds = Math.max(1, Math.round(policy.requestTtlHours * 3600));
    const request: TransitionRequest = {
      id: `tr-${crypto.randomUUID()}`,
      modelId: model.id,
      name: model.name,
      version: version.version,
      target,
      requester: { person: caller.person, arn: caller.arn },
      ...(comment ? { comment } : {}),
      status: 'PENDING',
      approvals: [],
      filedPolicy: policy,
      createdAt: now,
      updatedAt: now,
      expiresAt: now + ttlSeconds * 1000,
      awaitingApproval: false,
    };
    const event = this.core.event(
      'TransitionRequested',
      model,
      caller,
      {
        request_id: request.id,
        kind: target.kind,
        ...(target.kind === 'stage'
          ? {
              from_stage: target.fromStage,
              to_stage: target.toStage,
              archive_existing_versions: target.archiveExistingVersions,
            }
          : { alias: target.alias, previous_version: target.previousVersion }),
        ...(comment ? { comment } : {}),
        expires_at: request.expiresAt,
        approval_timeout_seconds: ttlSeconds,
        required_approvals: policy.requiredApprovals,
      },
      version.version,
      comment,
    );
    await this.repo.recording(event).createRequest(request);
    return request;
  }

  view(request: TransitionRequest, model: RegisteredModel): RequestView {
    const rules = this.judged(request, model);
    return {
      request,
      requiredApprovals: rules.requiredApprovals,
      requesterMayApprove: rules.requesterMayApprove,
      name: model.name,
    };
  }

  async getRequest(name: string, id: string): Promise<RequestView> {
    const model = await this.core.requireModel(name);
    return this.view(await this.requireRequest(model, id), model);
  }

  async listRequests(
    name: string,
    options: { status?: RequestStatus; version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<RequestView>> {
    const model = await this.core.requireModel(name);
    const page = await this.repo.listRequests(model, {
      ...options,
      maxResults: Math.min(options.maxResults, MAX_REQUEST_LIST),
    });
    return { ...page, items: page.items.map((r) => this.view(r, model)) };
  }

  /** Open requests across every model (the approval inbox), optionally of one status. */
  async inbox(options: {
    status?: RequestStatus;
    maxResults: number;
    pageToken?: string;
  }): Promise<Page<RequestView>> {
    if (options.status && !isOpen(options.status)) {
      throw new InvalidParameterError(
        `The inbox lists open requests (PENDING or APPROVED), not ${options.status}; list a model's closed requests with GET /models/{name}/transition-requests?status=${options.status}.`,
      );
    }
    const page = await this.repo.listOpenRequests({
      maxResults: Math.min(options.maxResults, MAX_REQUEST_LIST),
      ...(options.pageToken ? { pageToken: options.pageToken } : {}),
    });
    const models = new Map<string, RegisteredModel | undefined>();
    for (const id of new Set(page.items.map((r) => r.modelId))) models.set(id, await this.core.modelById(id));
    const items = page.items
      .filter((r) => !options.status || r.status === options.status)
      .flatMap((r) => {
        const model = models.get(r.modelId);
        return model ? [this.view(r, model)] : [];
      });
    return { items, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }

  private async requireRequest(model: RegisteredModel, id: string): Promise<TransitionRequest> {
    const request = REQUEST_ID.test(id) ? await this.repo.getRequest(model, id) : undefined;
    if (!request) {
      throw new ResourceNotFoundError(
        `Transition request ${id} of Registered Model (name=${model.name}) not found`,
      );
    }
    return request;
  }

  private assertPending(request: TransitionRequest, action: string): void {
    if (request.status !== 'PENDING') {
      throw new InvalidStateError(
        `Transition request ${request.id} is ${request.status}${request.reason ? ` (${request.reason})` : ''}; only a PENDING request can be ${action}.`,
      );
    }
    if (request.expiresAt <= this.now()) {
      throw new InvalidStateError(
        `Transition request ${request.id} expired at ${new Date(request.expiresAt).toISOString()}.`,
      );
    }
  }

  // ---------------------------------------------------------------- decisions

  /**
   * A request just filed is checked against the quality gates before it waits for approval: an
   * approver who is quicker than the check waits for it (briefly) rather than being refused.
   */
  private async gatesChecked(model: RegisteredModel, request: TransitionRequest): Promise<TransitionRequest> {
    const deadline = Date.now() + (this.settings.gateWaitMs ?? 0);
    let current = request;
    for (
      let pause = 50;
      current.status === 'PENDING' && !current.awaitingApproval && Date.now() < deadline;
    ) {
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(500, pause * 2);
      current = await this.requireRequest(model, request.id);
    }
    return current;
  }

  /**
   * Records an approval. Once the request has the approvals it needs it is APPROVED and the
   * workflow is resumed (retried; if it still fails, the reconciler applies the request).
   */
  async approve(name: string, id: string, caller: Principal, comment?: string): Promise<RequestView> {
    if (comment !== undefined) assertDescription(comment);
    const model = await this.core.requireModel(name);
    const request = await this.gatesChecked(model, await this.requireRequest(model, id));
    this.assertPending(request, 'approved');
    const rules = this.judged(request, model);
    const refusal = approvalRefusal(request, rules, caller);
    if (refusal?.kind === 'separation-of-duties') throw new PermissionDeniedError(refusal.message);
    if (refusal) throw new InvalidStateError(refusal.message);
    if (!request.awaitingApproval) {
      throw new InvalidStateError(
        `Transition request ${id} is still being checked against the quality gates; approve it once it is waiting for approval.`,
      );
    }
    const approval: Approval = {
      person: caller.person,
      arn: caller.arn,
      timestamp: this.now(),
      ...(comment ? { comment } : {}),
    };
    const approvals = [...request.approvals, approval];
    const count = countingApprovals({ requester: request.requester, approvals }, rules.requesterMayApprove);
    const complete = count >= rules.requiredApprovals;
    const event = this.core.event(
      'TransitionApproved',
      model,
      caller,
      {
        request_id: id,
        ...targetData(request.target),
        approvals: count,
        required_approvals: rules.requiredApprovals,
        ...(comment ? { comment } : {}),
      },
      request.version,
      comment,
    );
    const updated = await this.repo
      .recording(event)
      .updateRequest(
        model,
        request,
        { approvals, ...(complete ? { status: 'APPROVED' as const } : {}) },
        this.now(),
      );
    if (complete) await this.resume(model, updated);
    return this.view(updated, model);
  }

  /** Resumes the waiting approval task, a few times; the reconciler covers a resume that never lands. */
  private async resume(model: RegisteredModel, request: TransitionRequest): Promise<boolean> {
    if (!this.workflow) return false;
    for (let attempt = 1; attempt <= this.settings.resumeAttempts; attempt++) {
      try {
        const token = await this.repo.getTaskToken(model, request.id);
        if (!token) return false;
        await this.workflow.succeed(token, { approvedBy: request.approvals.map((a) => a.person) });
        return true;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
    return false;
  }

  async reject(name: string, id: string, caller: Principal, reason: string): Promise<RequestView> {
    return this.close(name, id, caller, 'REJECTED', reason, WORKFLOW_ERRORS.rejected);
  }

  async cancel(name: string, id: string, caller: Principal, reason?: string): Promise<RequestView> {
    return this.close(name, id, caller, 'CANCELLED', reason ?? '', WORKFLOW_ERRORS.cancelled);
  }

  private async close(
    name: string,
    id: string,
    caller: Principal,
    status: 'REJECTED' | 'CANCELLED',
    reason: string,
    error: string,
  ): Promise<RequestView> {
    assertDescription(reason);
    const model = await this.core.requireModel(name);
    const request = await this.requireRequest(model, id);
    this.assertPending(request, status === 'REJECTED' ? 'rejected' : 'cancelled');
    if (status === 'CANCELLED' && caller.person !== request.requester.person) {
      throw new PermissionDeniedError(
        `Only the requester (${request.requester.person}) can cancel transition request ${id}; an approver rejects it instead.`,
      );
    }
    if (status === 'REJECTED' && !reason.trim()) {
      throw new InvalidParameterError('Give a reason when rejecting a transition request.');
    }
    const base = { request_id: id, ...targetData(request.target) };
    const event =
      status === 'REJECTED'
        ? this.core.event('TransitionRejected', model, caller, { ...base, reason }, request.version, reason)
        : this.core.event(
            'TransitionCancelled',
            model,
            caller,
            { ...base, ...(reason ? { reason } : {}) },
            request.version,
            reason || undefined,
          );
    const updated = await this.repo
      .recording(event)
      .updateRequest(model, request, { status, ...(reason ? { reason } : {}) }, this.now());
    await this.endTask(model, request.id, error, reason || status);
    return this.view(updated, model);
  }

  /** Ends the request's waiting approval task, if it has one (best effort: it expires anyway). */
  private async endTask(model: { id: string }, requestId: string, error: string, cause: string) {
    const token = await this.repo.getTaskToken(model, requestId);
    if (token) await this.workflow?.fail(token, error, cause).catch(() => undefined);
  }

  // ---------------------------------------------------------------- workflow steps

  /** The request and its model, by id (requests follow renames); closed when either is gone. */
  private async jobRequest(job: WorkflowJob) {
    const request = REQUEST_ID.test(job.requestId)
      ? await this.repo.getRequest({ id: job.modelId }, job.requestId)
      : undefined;
    if (!request) throw new RequestClosedError(`Transition request ${job.requestId} does not exist.`);
    const model = await this.core.modelById(job.modelId);
    return { request, model };
  }

  /** Closes an open request whose model or version is gone; true if it did. */
  private async closeIfOrphaned(
    request: TransitionRequest,
    model: RegisteredModel | undefined,
    version: ModelVersion | undefined,
  ): Promise<boolean> {
    if (model && version) return false;
    const reason = model ? `Version ${request.version} was deleted.` : `The registered model was deleted.`;
    const ref = model ?? { id: request.modelId, name: request.name };
    await this.repo
      .recording(
        this.core.event(
          'TransitionCancelled',
          ref,
          REGISTRY_ACTOR,
          { request_id: request.id, ...targetData(request.target), reason },
          request.version,
          reason,
        ),
      )
      .updateRequest(ref, request, { status: 'CANCELLED', reason, taskToken: null }, this.now());
    return true;
  }

  /**
   * The quality gates a version fails under `rules`: its metrics, and its model card's required
   * sections (the card is read only when the rules require some).
   */
  private async gateFailuresOf(
    model: RegisteredModel,
    version: ModelVersion,
    rules: Pick<GovernancePolicy, 'qualityGates' | 'requiredCardSections'>,
  ): Promise<string[]> {
    const card = rules.requiredCardSections.length
      ? (await this.repo.getModelCard(model, version.version))?.card
      : undefined;
    return gateFailures(version, card, rules);
  }

  /**
   * Quality gates: a failing version (its metrics, or its model card's required sections) is
   * rejected with the failures, and tagged.
   */
  async checkGates(job: WorkflowJob): Promise<{ outcome: 'passed' | 'failed' | 'closed' }> {
    const { model, request } = await this.jobRequest(job);
    if (request.status !== 'PENDING') return { outcome: 'closed' };
    const version = model ? await this.repo.getVersion(model, request.version) : undefined;
    if (await this.closeIfOrphaned(request, model, version)) return { outcome: 'closed' };
    const failures = await this.gateFailuresOf(model!, version!, this.judged(request, model!));
    if (failures.length === 0) return { outcome: 'passed' };
    const reason = `Quality gates failed: ${failures.join('; ')}`;
    const tag = `failed: ${failures.join('; ')}`.slice(0, 5000);
    await this.repo
      .recording(
        this.core.event(
          'ModelVersionTagSet',
          model!,
          REGISTRY_ACTOR,
          { key: QUALITY_GATE_TAG, before: version!.tags[QUALITY_GATE_TAG] ?? null, after: tag },
          request.version,
        ),
      )
      .setVersionTag(model!, version!, QUALITY_GATE_TAG, tag, this.now());
    const event = this.core.event(
      'TransitionRejected',
      model!,
      REGISTRY_ACTOR,
      { request_id: request.id, ...targetData(request.target), reason, quality_gate_failures: failures },
      request.version,
      reason,
    );
    await this.repo
      .recording(event)
      .updateRequest(model!, request, { status: 'REJECTED', reason }, this.now());
    return { outcome: 'failed' };
  }

  /** The approval task is waiting: store its token and ask for approval (ApprovalRequested). */
  async awaitApproval(job: WorkflowJob & { taskToken: string }): Promise<{ outcome: 'waiting' }> {
    const { model, request } = await this.jobRequest(job);
    if (request.status !== 'PENDING' || !model) {
      throw new RequestClosedError(`Transition request ${request.id} is ${request.status}.`);
    }
    const event = this.core.event(
      'ApprovalRequested',
      model,
      REGISTRY_ACTOR,
      {
        request_id: request.id,
        ...targetData(request.target),
        requester: request.requester.person,
        required_approvals: this.judged(request, model).requiredApprovals,
        expires_at: request.expiresAt,
      },
      request.version,
    );
    await this.repo.recording(event).updateRequest(model, request, { taskToken: job.taskToken }, this.now());
    return { outcome: 'waiting' };
  }

  /**
   * Why an approved request can no longer apply as approved, checked just before it does: its
   * version changed, the alias moved, the gates or the approvals no longer satisfy the rules.
   */
  private async recheck(
    request: TransitionRequest,
    model: RegisteredModel,
    version: ModelVersion,
  ): Promise<string | undefined> {
    const rules = this.judged(request, model);
    if (version.status !== 'READY') return `version ${version.version} is ${version.status}`;
    if (request.target.kind === 'stage' && version.stage !== request.target.fromStage) {
      return `version ${version.version} moved from ${request.target.fromStage} to ${version.stage} after the request was filed`;
    }
    if (request.target.kind === 'alias') {
      const now = model.aliases[request.target.alias] ?? null;
      if (now !== request.target.previousVersion) {
        return `@${request.target.alias} moved from ${request.target.previousVersion ?? 'nothing'} to ${now ?? 'nothing'} after the request was filed`;
      }
    }
    const failures = await this.gateFailuresOf(model, version, rules);
    if (failures.length) return `quality gates fail: ${failures.join('; ')}`;
    const count = countingApprovals(request, rules.requesterMayApprove);
    if (count < rules.requiredApprovals) {
      return `the policy now needs ${rules.requiredApprovals} approvals and the request has ${count}`;
    }
    return undefined;
  }

  /**
   * Applies an approved request once (idempotent: an applied request is left as it is), after
   * checking it again; a request that can no longer apply ends FAILED with the reason.
   */
  async apply(job: WorkflowJob): Promise<{ outcome: 'applied' | 'failed' }> {
    const { model, request } = await this.jobRequest(job);
    if (request.status === 'APPLIED') return { outcome: 'applied' };
    if (request.status === 'FAILED') return { outcome: 'failed' };
    if (request.status !== 'APPROVED') {
      throw new RequestClosedError(`Transition request ${request.id} is ${request.status}, not APPROVED.`);
    }
    const version = model ? await this.repo.getVersion(model, request.version) : undefined;
    if (!model || !version) {
      await this.markFailed(
        request,
        model,
        model ? `version ${request.version} was deleted` : 'the registered model was deleted',
      );
      return { outcome: 'failed' };
    }
    const problem = await this.recheck(request, model, version);
    if (problem) {
      await this.markFailed(request, model, problem);
      return { outcome: 'failed' };
    }
    const requester: Actor = request.requester;
    const via = {
      kind: 'request' as const,
      requestId: request.id,
      approvedBy: request.approvals.map((a) => a.person),
    };
    try {
      if (request.target.kind === 'stage') {
        await this.core.moveStage(
          model,
          request.version,
          {
            stage: request.target.toStage,
            archiveExistingVersions: request.target.archiveExistingVersions,
            ...(request.comment ? { comment: request.comment } : {}),
          },
          requester,
          via,
        );
      } else {
        await this.core.pointAlias(model, request.target.alias, request.version, requester, via);
      }
    } catch (err) {
      // Someone else applied or closed it meanwhile: what it is now is the answer.
      const now = await this.repo.getRequest(model, request.id);
      if (now?.status === 'APPLIED') return { outcome: 'applied' };
      if (now?.status === 'FAILED') return { outcome: 'failed' };
      throw err;
    }
    return { outcome: 'applied' };
  }

  private async markFailed(request: TransitionRequest, model: RegisteredModel | undefined, why: string) {
    const reason = `The change could not be applied: ${why}. Request it again.`;
    const ref = model ?? { id: request.modelId, name: request.name };
    await this.repo
      .recording(
        this.core.event(
          'TransitionFailed',
          ref,
          REGISTRY_ACTOR,
          { request_id: request.id, ...targetData(request.target), reason },
          request.version,
          reason,
        ),
      )
      .updateRequest(ref, request, { status: 'FAILED', reason, taskToken: null }, this.now());
  }

  /**
   * The approval task timed out. A request still PENDING expires; one that was APPROVED (its
   * resume was lost) is applied, not dropped.
   */
  async expire(job: WorkflowJob): Promise<{ outcome: 'expired' | 'approved' | 'closed' }> {
    const { model, request } = await this.jobRequest(job);
    if (request.status === 'APPROVED') return { outcome: 'approved' };
    if (request.status !== 'PENDING') return { outcome: 'closed' };
    const ref = model ?? { id: request.modelId, name: request.name };
    await this.repo
      .recording(
        this.core.event(
          'TransitionExpired',
          ref,
          REGISTRY_ACTOR,
          { request_id: request.id, ...targetData(request.target) },
          request.version,
        ),
      )
      .updateRequest(
        ref,
        request,
        { status: 'EXPIRED', reason: 'No decision before the request expired.', taskToken: null },
        this.now(),
      );
    return { outcome: 'expired' };
  }

  /** Records why the workflow failed, so the request shows it (and can be requested again). */
  async fail(
    job: WorkflowJob & { error?: { Error?: string; Cause?: string } },
  ): Promise<{ outcome: 'failed' | 'closed' }> {
    const { model, request } = await this.jobRequest(job);
    if (!isOpen(request.status)) return { outcome: 'closed' };
    await this.markFailed(request, model, `the approval workflow failed (${describeCause(job.error)})`);
    return { outcome: 'failed' };
  }

  // ---------------------------------------------------------------- the reconciler

  /** Starts the approval workflow of a request (the TransitionRequested rule's target). */
  async startWorkflow(ref: { modelId: string; requestId: string }): Promise<'started' | 'exists' | 'closed'> {
    const request = REQUEST_ID.test(ref.requestId)
      ? await this.repo.getRequest({ id: ref.modelId }, ref.requestId)
      : undefined;
    if (!request || request.status !== 'PENDING' || !this.workflow) return 'closed';
    return this.workflow.start(this.execution(request));
  }

  private execution(request: TransitionRequest): WorkflowExecution {
    return {
      requestId: request.id,
      modelId: request.modelId,
      name: request.name,
      approvalTimeoutSeconds: Math.max(1, Math.round((request.expiresAt - this.now()) / 1000)),
    };
  }

  /**
   * Brings every open request to a state that will end: an APPROVED request left unapplied is
   * applied (or failed) now; an expired one expires; one whose model or version is gone is
   * cancelled; one whose workflow never started (or was lost) gets a fresh execution, or fails if
   * its execution ended without deciding. Runs on a schedule (deployed) or a timer (local mode).
   */
  async reconcile(options: { all?: boolean } = {}): Promise<ReconcileReport> {
    const report = { examined: 0, applied: 0, failed: 0, expired: 0, cancelled: 0, started: 0 };
    // With `all`, nothing is fresh: used at a local start, when no earlier execution survives.
    const stale = options.all ? Number.POSITIVE_INFINITY : this.now() - this.settings.reconcileAfterMs;
    let pageToken: string | undefined;
    do {
      const page = await this.repo.listOpenRequests({ maxResults: 100, ...(pageToken ? { pageToken } : {}) });
      for (const request of page.items) {
        report.examined++;
        try {
          const outcome = await this.reconcileOne(request, stale);
          if (outcome) report[outcome]++;
        } catch (err) {
          // A request that changed meanwhile is looked at again on the next run.
          if (!(err instanceof ConcurrentModificationError) && !(err instanceof RequestClosedError))
            throw err;
        }
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    return report;
  }

  private async reconcileOne(
    request: TransitionRequest,
    stale: number,
  ): Promise<'applied' | 'failed' | 'expired' | 'cancelled' | 'started' | undefined> {
    const model = await this.core.modelById(request.modelId);
    const version = model ? await this.repo.getVersion(model, request.version) : undefined;
    if (request.status === 'PENDING' && (await this.closeIfOrphaned(request, model, version))) {
      await this.endTask({ id: request.modelId }, request.id, WORKFLOW_ERRORS.closed, 'closed');
      return 'cancelled';
    }
    const job = { modelId: request.modelId, requestId: request.id };
    if (request.status === 'APPROVED') {
      if (request.updatedAt > stale) return undefined;
      const { outcome } = await this.apply(job);
      await this.endTask(
        { id: request.modelId },
        request.id,
        WORKFLOW_ERRORS.closed,
        'applied by the reconciler',
      );
      return outcome;
    }
    if (request.expiresAt <= this.now()) {
      await this.expire(job);
      await this.endTask({ id: request.modelId }, request.id, WORKFLOW_ERRORS.closed, 'expired');
      return 'expired';
    }
    if (request.updatedAt > stale || !this.workflow) return undefined;
    const status = await this.workflow.status(request.id);
    if (status === 'RUNNING') return undefined;
    if (status === 'NOT_FOUND') {
      await this.workflow.start(this.execution(request));
      return 'started';
    }
    await this.markFailed(request, model, 'its approval workflow ended without a decision');
    return 'failed';
  }

  // ---------------------------------------------------------------- rollback, history, audit

  /**
   * Re-promotes the version that was in Production before the current one and archives the
   * current one, at once. Its own route (and IAM permission); it needs no approval because the
   * version it restores entered Production through the policy of its time, but the quality gates
   * are checked again unless the policy says otherwise.
   */
  async rollback(name: string, caller: Principal, comment?: string): Promise<VersionView> {
    if (comment !== undefined) assertDescription(comment);
    const model = await this.core.requireModel(name);
    const current = (await this.repo.getActivity(model)).latest.Production?.version ?? 0;
    if (!current)
      throw new InvalidStateError(
        `Registered Model (name=${name}) has no version in Production to roll back.`,
      );
    let previous: ModelVersion | undefined;
    let token: string | undefined;
    search: do {
      const page = await this.repo.listTransitions(model, {
        maxResults: 100,
        ...(token ? { pageToken: token } : {}),
      });
      for (const t of page.items) {
        if (t.toStage !== 'Production' || t.version === current) continue;
        const candidate = await this.repo.getVersion(model, t.version);
        if (candidate?.status === 'READY' && candidate.stage !== 'Production') {
          previous = candidate;
          break search;
        }
      }
      token = page.nextPageToken;
    } while (token);
    if (!previous) {
      throw new InvalidStateError(
        `Registered Model (name=${name}) has no earlier Production version to roll back to (version ${current} is the first still present).`,
      );
    }
    const policy = this.policyFor(model);
    if (policy.rollbackRequiresGates) {
      const failures = await this.gateFailuresOf(model, previous, policy);
      if (failures.length) {
        throw new InvalidStateError(
          `Version ${previous.version} of ${name} fails today's quality gates (${failures.join('; ')}); rollback checks them (policy rollback_requires_gates). Promote another version through a request, or use the break-glass route.`,
        );
      }
    }
    return this.core.moveStage(
      model,
      previous.version,
      {
        stage: 'Production',
        archiveExistingVersions: true,
        comment: comment ?? `Rollback from version ${current}`,
      },
      caller,
      { kind: 'rollback', fromVersion: current },
    );
  }

  /** The versions that were in `stage` at time `at` (epoch ms), replayed from the transitions. */
  async versionsInStageAt(name: string, stage: Stage, at: number): Promise<number[]> {
    const model = await this.core.requireModel(name);
    const transitions = [];
    let token: string | undefined;
    do {
      const page = await this.repo.listTransitions(model, {
        maxResults: 1000,
        ...(token ? { pageToken: token } : {}),
      });
      transitions.push(...page.items);
      token = page.nextPageToken;
    } while (token);
    const members = new Set<number>();
    for (const t of transitions.reverse()) {
      if (t.timestamp > at) break;
      if (t.toStage === stage) members.add(t.version);
      else members.delete(t.version);
    }
    return [...members].sort((a, b) => a - b);
  }

  async auditLog(name: string, options: { version?: number; maxResults: number; pageToken?: string }) {
    const model = await this.core.requireModel(name);
    return this.repo.listAudit(model.id, options);
  }
}

function describeCause(error: { Error?: string; Cause?: string } | undefined): string {
  if (!error) return 'unknown error';
  let cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed.errorMessage) cause = parsed.errorMessage;
  } catch {
    // keep the text
  }
  return `${error.Error ?? 'Error'}${cause ? `: ${cause}` : ''}`.slice(0, 1000);
}
