/**
 * Governed promotion. A transition into a guarded stage becomes a transition request; the approval
 * workflow (a Step Functions state machine, started by the TransitionRequested event) checks the
 * quality gates, waits for human approval, and applies the transition. Decisions are checked
 * against the policy (separation of duties, distinct approvers) and resume the workflow. Every
 * step is recorded as an event in the audit log. No AWS SDK here.
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
  effectivePolicy,
  failedGates,
  type GovernancePolicy,
  type PolicyOverride,
  parsePolicyOverride,
  type RequestStatus,
  type TransitionRequest,
} from '../domain/governance';
import { aliasesOf, type ModelVersion, type RegisteredModel, type Stage } from '../domain/model';
import { assertDescription } from '../domain/rules';
import { WORKFLOW_ERRORS } from '../wiring/approval-workflow';
import { type Clock, type Page, type RegistryRepository, systemClock } from './ports';
import type { RegistryService, TransitionInput, TransitionPolicy, VersionView } from './registry';

/** Resumes a waiting approval task (SendTaskSuccess / SendTaskFailure). */
export interface ApprovalTasks {
  succeed(token: string, output: Record<string, unknown>): Promise<void>;
  fail(token: string, error: string, cause: string): Promise<void>;
}

/** Thrown by the workflow to end an execution whose request is no longer open. */
export class RequestClosedError extends Error {
  override readonly name = WORKFLOW_ERRORS.closed;
}

export const QUALITY_GATE_TAG = 'quality_gate';
const MAX_REQUEST_LIST = 1000;

export class GovernanceService {
  private registry!: RegistryService;

  constructor(
    private readonly repo: RegistryRepository,
    private readonly deploymentPolicy: GovernancePolicy,
    private readonly tasks: ApprovalTasks | undefined,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The registry this governs (set once, as the registry is built with this as its policy). */
  attach(registry: RegistryService): this {
    this.registry = registry;
    return this;
  }

  policyFor(model: RegisteredModel): GovernancePolicy {
    return effectivePolicy(this.deploymentPolicy, model.policy);
  }

  /** The hook the registry calls before a transition applies and before deletes. */
  readonly transitionPolicy: TransitionPolicy = {
    evaluate: async ({ model, version, input, caller }) => {
      const policy = this.policyFor(model);
      if (!policy.guardedStages.includes(input.stage)) return { kind: 'apply' };
      return { kind: 'defer', pending: await this.createRequest(model, version, input, caller, policy) };
    },
    assertDeletable: async (model, version) => {
      if (!this.policyFor(model).protectLiveVersions) return;
      const live = version
        ? [version.version]
        : [...model.stageMembers.Production, ...Object.values(model.aliases)];
      for (const v of live) {
        const inProduction = model.stageMembers.Production.includes(v);
        const aliases = aliasesOf(model, v);
        if (!inProduction && aliases.length === 0) continue;
        const why = inProduction
          ? 'is in Production'
          : `has the alias${aliases.length > 1 ? 'es' : ''} ${aliases.map((a) => `@${a}`).join(', ')}`;
        throw new InvalidStateError(
          `${version ? `Model Version (name=${model.name}, version=${v})` : `Registered Model (name=${model.name}) has version ${v}, which`} ${why}; the governance policy protects live versions from deletion. Archive it or move the alias first.`,
        );
      }
    },
  };

  // ---------------------------------------------------------------- requests

  private async createRequest(
    model: RegisteredModel,
    version: ModelVersion,
    input: TransitionInput,
    caller: string,
    policy: GovernancePolicy,
  ): Promise<TransitionRequest> {
    const open = await this.repo.listRequests(model, {
      status: 'PENDING',
      version: version.version,
      maxResults: 50,
    });
    const duplicate = open.items.find((r) => r.toStage === input.stage);
    if (duplicate) {
      throw new InvalidStateError(
        `Transition request ${duplicate.id} already asks to move version ${version.version} of ${model.name} to ${input.stage}; approve, reject or cancel it first.`,
      );
    }
    const now = this.clock.now();
    const ttlSeconds = Math.max(1, Math.round(policy.requestTtlHours * 3600));
    const request: TransitionRequest = {
      id: `tr-${crypto.randomUUID()}`,
      modelId: model.id,
      name: model.name,
      version: version.version,
      fromStage: version.stage,
      toStage: input.stage,
      archiveExistingVersions: input.archiveExistingVersions,
      requester: caller,
      ...(input.comment ? { comment: input.comment } : {}),
      status: 'PENDING',
      approvals: [],
      requiredApprovals: policy.requiredApprovals,
      requesterMayApprove: policy.requesterMayApprove,
      createdAt: now,
      updatedAt: now,
      expiresAt: now + ttlSeconds * 1000,
      awaitingApproval: false,
    };
    const event = this.registry.event(
      'TransitionRequested',
      model,
      caller,
      {
        request_id: request.id,
        from_stage: request.fromStage,
        to_stage: request.toStage,
        archive_existing_versions: request.archiveExistingVersions,
        ...(request.comment ? { comment: request.comment } : {}),
        expires_at: request.expiresAt,
        approval_timeout_seconds: ttlSeconds,
        required_approvals: request.requiredApprovals,
      },
      version.version,
      input.comment,
    );
    await this.repo.recording(event).createRequest(request);
    return request;
  }

  async getRequest(name: string, id: string): Promise<TransitionRequest> {
    const model = await this.registry.requireModel(name);
    return this.requireRequest(model, id);
  }

  async listRequests(
    name: string,
    options: { status?: RequestStatus; version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<TransitionRequest>> {
    const model = await this.registry.requireModel(name);
    return this.repo.listRequests(model, {
      ...options,
      maxResults: Math.min(options.maxResults, MAX_REQUEST_LIST),
    });
  }

  private async requireRequest(model: RegisteredModel, id: string): Promise<TransitionRequest> {
    const request = /^tr-[0-9a-f-]{36}$/.test(id) ? await this.repo.getRequest(model, id) : undefined;
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
    if (request.expiresAt <= this.clock.now()) {
      throw new InvalidStateError(
        `Transition request ${request.id} expired at ${new Date(request.expiresAt).toISOString()}.`,
      );
    }
  }

  // ---------------------------------------------------------------- decisions

  async approve(name: string, id: string, caller: string, comment?: string): Promise<TransitionRequest> {
    const model = await this.registry.requireModel(name);
    const request = await this.requireRequest(model, id);
    this.assertPending(request, 'approved');
    if (caller === request.requester && !request.requesterMayApprove) {
      throw new PermissionDeniedError(
        `${caller} requested this transition and cannot approve it: the policy requires an approver other than the requester (separation of duties).`,
      );
    }
    if (request.approvals.some((a) => a.principal === caller)) {
      throw new InvalidStateError(
        `${caller} has already approved transition request ${id}; it needs ${request.requiredApprovals} distinct approvers.`,
      );
    }
    if (!request.awaitingApproval) {
      throw new InvalidStateError(
        `Transition request ${id} is still being checked against the quality gates; approve it once it is waiting for approval.`,
      );
    }
    if (comment !== undefined) assertDescription(comment);
    const approval: Approval = {
      principal: caller,
      timestamp: this.clock.now(),
      ...(comment ? { comment } : {}),
    };
    const approvals = [...request.approvals, approval];
    const complete = approvals.length >= request.requiredApprovals;
    const event = this.registry.event(
      'TransitionApproved',
      model,
      caller,
      {
        request_id: id,
        to_stage: request.toStage,
        approvals: approvals.length,
        required_approvals: request.requiredApprovals,
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
        this.clock.now(),
      );
    if (complete) {
      const token = await this.repo.getTaskToken(model, id);
      if (token) await this.tasks?.succeed(token, { approvedBy: approvals.map((a) => a.principal) });
    }
    return updated;
  }

  async reject(name: string, id: string, caller: string, reason: string): Promise<TransitionRequest> {
    return this.close(name, id, caller, 'REJECTED', reason, WORKFLOW_ERRORS.rejected);
  }

  async cancel(name: string, id: string, caller: string, reason?: string): Promise<TransitionRequest> {
    return this.close(name, id, caller, 'CANCELLED', reason ?? '', WORKFLOW_ERRORS.cancelled);
  }

  private async close(
    name: string,
    id: string,
    caller: string,
    status: 'REJECTED' | 'CANCELLED',
    reason: string,
    error: string,
  ): Promise<TransitionRequest> {
    assertDescription(reason);
    const model = await this.registry.requireModel(name);
    const request = await this.requireRequest(model, id);
    this.assertPending(request, status === 'REJECTED' ? 'rejected' : 'cancelled');
    if (status === 'CANCELLED' && caller !== request.requester) {
      throw new PermissionDeniedError(
        `Only the requester (${request.requester}) can cancel transition request ${id}; an approver rejects it instead.`,
      );
    }
    if (status === 'REJECTED' && !reason.trim()) {
      throw new InvalidParameterError('Give a reason when rejecting a transition request.');
    }
    const event =
      status === 'REJECTED'
        ? this.registry.event(
            'TransitionRejected',
            model,
            caller,
            { request_id: id, to_stage: request.toStage, reason },
            request.version,
            reason,
          )
        : this.registry.event(
            'TransitionCancelled',
            model,
            caller,
            { request_id: id, to_stage: request.toStage, ...(reason ? { reason } : {}) },
            request.version,
            reason || undefined,
          );
    const updated = await this.repo
      .recording(event)
      .updateRequest(model, request, { status, ...(reason ? { reason } : {}) }, this.clock.now());
    const token = await this.repo.getTaskToken(model, id);
    if (token) await this.tasks?.fail(token, error, reason || status);
    return updated;
  }

  // ---------------------------------------------------------------- workflow steps

  /** Quality gates: a failing version is rejected with the failing metrics, and tagged. */
  async checkGates(job: WorkflowJob): Promise<{ outcome: 'passed' | 'failed' | 'closed' }> {
    const { model, request } = await this.jobRequest(job);
    if (request.status !== 'PENDING') return { outcome: 'closed' };
    const version = await this.registry.requireVersion(model, request.version);
    const failures = failedGates(version.metrics, this.policyFor(model).qualityGates);
    if (failures.length === 0) return { outcome: 'passed' };
    const reason = `Quality gates failed: ${failures.join('; ')}`;
    await this.registry.setModelVersionTag(
      model.name,
      request.version,
      QUALITY_GATE_TAG,
      `failed: ${failures.join('; ')}`.slice(0, 5000),
      REGISTRY_ACTOR,
    );
    const event = this.registry.event(
      'TransitionRejected',
      model,
      REGISTRY_ACTOR,
      { request_id: request.id, to_stage: request.toStage, reason, quality_gate_failures: failures },
      request.version,
      reason,
    );
    await this.repo
      .recording(event)
      .updateRequest(model, request, { status: 'REJECTED', reason }, this.clock.now());
    return { outcome: 'failed' };
  }

  /** The approval task is waiting: store its token and ask for approval (ApprovalRequested). */
  async awaitApproval(job: WorkflowJob & { taskToken: string }): Promise<{ outcome: 'waiting' }> {
    const { model, request } = await this.jobRequest(job);
    if (request.status !== 'PENDING') {
      throw new RequestClosedError(`Transition request ${request.id} is ${request.status}.`);
    }
    const event = this.registry.event(
      'ApprovalRequested',
      model,
      REGISTRY_ACTOR,
      {
        request_id: request.id,
        to_stage: request.toStage,
        requester: request.requester,
        required_approvals: request.requiredApprovals,
        expires_at: request.expiresAt,
      },
      request.version,
    );
    await this.repo
      .recording(event)
      .updateRequest(model, request, { taskToken: job.taskToken }, this.clock.now());
    return { outcome: 'waiting' };
  }

  /** Applies an approved request (idempotent: an applied request is left as it is). */
  async apply(job: WorkflowJob): Promise<{ outcome: 'applied' }> {
    const { model, request } = await this.jobRequest(job);
    if (request.status === 'APPLIED') return { outcome: 'applied' };
    if (request.status !== 'APPROVED') {
      throw new RequestClosedError(`Transition request ${request.id} is ${request.status}, not APPROVED.`);
    }
    await this.registry.applyTransition(
      model.name,
      request.version,
      {
        stage: request.toStage,
        archiveExistingVersions: request.archiveExistingVersions,
        ...(request.comment ? { comment: request.comment } : {}),
      },
      request.requester,
      { requestId: request.id, approvedBy: request.approvals.map((a) => a.principal) },
    );
    return { outcome: 'applied' };
  }

  async expire(job: WorkflowJob): Promise<{ outcome: 'expired' | 'closed' }> {
    const { model, request } = await this.jobRequest(job);
    if (request.status !== 'PENDING') return { outcome: 'closed' };
    const event = this.registry.event(
      'TransitionExpired',
      model,
      REGISTRY_ACTOR,
      { request_id: request.id, to_stage: request.toStage },
      request.version,
    );
    await this.repo
      .recording(event)
      .updateRequest(
        model,
        request,
        { status: 'EXPIRED', reason: 'No decision before the request expired.', taskToken: null },
        this.clock.now(),
      );
    return { outcome: 'expired' };
  }

  /** Records why the workflow failed, so the request shows it (and can be requested again). */
  async fail(
    job: WorkflowJob & { error?: { Error?: string; Cause?: string } },
  ): Promise<{ outcome: 'failed' | 'closed' }> {
    const { model, request } = await this.jobRequest(job);
    if (request.status !== 'PENDING' && request.status !== 'APPROVED') return { outcome: 'closed' };
    const reason = `The transition could not be applied: ${describeCause(job.error)}. Request it again.`;
    const event = this.registry.event(
      'TransitionFailed',
      model,
      REGISTRY_ACTOR,
      { request_id: request.id, to_stage: request.toStage, reason },
      request.version,
      reason,
    );
    await this.repo
      .recording(event)
      .updateRequest(model, request, { status: 'FAILED', reason, taskToken: null }, this.clock.now());
    return { outcome: 'failed' };
  }

  private async jobRequest(job: WorkflowJob) {
    const model = await this.registry.requireModel(job.name);
    if (model.id !== job.modelId) throw new RequestClosedError(`Registered Model ${job.name} was replaced.`);
    return { model, request: await this.requireRequest(model, job.requestId) };
  }

  // ---------------------------------------------------------------- rollback, history, policy

  /**
   * Re-promotes the version that was in Production before the current one and archives the
   * current one, at once (the route is separately authorized), recorded as a rollback.
   */
  async rollback(name: string, caller: string, comment?: string): Promise<VersionView> {
    if (comment !== undefined) assertDescription(comment);
    const model = await this.registry.requireModel(name);
    const current = Math.max(...model.stageMembers.Production, 0);
    if (!current)
      throw new InvalidStateError(
        `Registered Model (name=${name}) has no version in Production to roll back.`,
      );
    let previous: number | undefined;
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
          previous = t.version;
          break search;
        }
      }
      token = page.nextPageToken;
    } while (token);
    if (previous === undefined) {
      throw new InvalidStateError(
        `Registered Model (name=${name}) has no earlier Production version to roll back to (version ${current} is the first still present).`,
      );
    }
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.registry.applyTransition(
          name,
          previous,
          {
            stage: 'Production',
            archiveExistingVersions: true,
            comment: comment ?? `Rollback from version ${current}`,
          },
          caller,
          { rollback: true },
        );
      } catch (err) {
        if (!(err instanceof ConcurrentModificationError) || attempt >= 3) throw err;
      }
    }
  }

  /** The versions that were in `stage` at time `at` (epoch ms), replayed from the transitions. */
  async versionsInStageAt(name: string, stage: Stage, at: number): Promise<number[]> {
    const model = await this.registry.requireModel(name);
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

  async getPolicy(name: string): Promise<{ effective: GovernancePolicy; override?: PolicyOverride }> {
    const model = await this.registry.requireModel(name);
    return { effective: this.policyFor(model), ...(model.policy ? { override: model.policy } : {}) };
  }

  async setPolicy(name: string, input: Record<string, unknown> | null, caller: string) {
    const override = input === null ? undefined : parsePolicyOverride(input);
    const model = await this.registry.requireModel(name);
    const event = this.registry.event('GovernancePolicyChanged', model, caller, {
      before: model.policy ?? null,
      after: override ?? null,
    });
    const updated = await this.repo.recording(event).setPolicy(model, override, this.clock.now());
    return { effective: this.policyFor(updated), ...(updated.policy ? { override: updated.policy } : {}) };
  }

  async auditLog(name: string, options: { version?: number; maxResults: number; pageToken?: string }) {
    const model = await this.registry.requireModel(name);
    return this.repo.listAudit(model.id, options);
  }
}

export interface WorkflowJob {
  readonly modelId: string;
  readonly name: string;
  readonly requestId: string;
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
