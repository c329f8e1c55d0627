/**
 * Governed policy changes. A model's policy is changed through its own route (a policy admin's
 * permission, not the registry writers'), every change is audited with its before and after, and
 * a change that weakens governance (fewer approvers, fewer guarded stages or protected aliases,
 * the requester allowed to approve, gates removed or loosened, …) becomes a request that other
 * people must approve — as many as the policy being weakened requires. No AWS SDK here.
 */
import {
  InvalidParameterError,
  InvalidStateError,
  PermissionDeniedError,
  ResourceNotFoundError,
} from '../domain/errors';
import {
  type Approval,
  approvalRefusal,
  countingApprovals,
  effectivePolicy,
  type GovernancePolicy,
  type PolicyChangeRequest,
  type PolicyOverride,
  parsePolicyOverride,
  policyToWire,
  type RequestStatus,
  weakenings,
} from '../domain/governance';
import type { Principal } from '../domain/identity';
import type { RegisteredModel } from '../domain/model';
import { assertDescription } from '../domain/rules';
import type { RegistryCore } from './core';
import type { Page } from './ports';

export interface PolicyView {
  readonly effective: GovernancePolicy;
  readonly override?: PolicyOverride;
}

export type PolicyChangeOutcome =
  | { readonly kind: 'applied'; readonly policy: PolicyView }
  | { readonly kind: 'pending'; readonly request: PolicyChangeRequest };

const REQUEST_ID = /^pr-[0-9a-f-]{36}$/;

export class PolicyService {
  constructor(
    private readonly core: RegistryCore,
    private readonly deploymentPolicy: GovernancePolicy,
  ) {}

  private now() {
    return this.core.clock.now();
  }

  private view(model: RegisteredModel): PolicyView {
    return {
      effective: effectivePolicy(this.deploymentPolicy, model.policy),
      ...(model.policy ? { override: model.policy } : {}),
    };
  }

  async getPolicy(name: string): Promise<PolicyView> {
    return this.view(await this.core.requireModel(name));
  }

  /** Sets the model's override (`input` as JSON); a weakening change waits for approval. */
  async setPolicy(
    name: string,
    input: unknown,
    caller: Principal,
    comment?: string,
  ): Promise<PolicyChangeOutcome> {
    const override = parsePolicyOverride(input);
    return this.change(await this.core.requireModel(name), override, caller, comment);
  }

  /** Removes the model's override (the deployment's policy applies); a weakening waits for approval. */
  async deletePolicy(name: string, caller: Principal, comment?: string): Promise<PolicyChangeOutcome> {
    return this.change(await this.core.requireModel(name), undefined, caller, comment);
  }

  private async change(
    model: RegisteredModel,
    override: PolicyOverride | undefined,
    caller: Principal,
    comment: string | undefined,
  ): Promise<PolicyChangeOutcome> {
    if (comment !== undefined) assertDescription(comment);
    const before = effectivePolicy(this.deploymentPolicy, model.policy);
    const after = effectivePolicy(this.deploymentPolicy, override);
    const weakened = weakenings(before, after);
    if (weakened.length > 0 && before.policyChangesNeedApproval) {
      return {
        kind: 'pending',
        request: await this.fileRequest(model, override, weakened, before, caller, comment),
      };
    }
    const event = this.core.event(
      'GovernancePolicyChanged',
      model,
      caller,
      {
        before: model.policy ? policyToWire(model.policy) : null,
        after: override ? policyToWire(override) : null,
      },
      undefined,
      comment,
    );
    const updated = await this.core.repo.recording(event).setPolicy(model, override, this.now());
    return { kind: 'applied', policy: this.view(updated) };
  }

  private async fileRequest(
    model: RegisteredModel,
    after: PolicyOverride | undefined,
    weakened: readonly string[],
    before: GovernancePolicy,
    caller: Principal,
    comment: string | undefined,
  ): Promise<PolicyChangeRequest> {
    const now = this.now();
    const request: PolicyChangeRequest = {
      id: `pr-${crypto.randomUUID()}`,
      modelId: model.id,
      name: model.name,
      requester: { person: caller.person, arn: caller.arn },
      ...(comment ? { comment } : {}),
      status: 'PENDING',
      approvals: [],
      before: model.policy ?? null,
      after: after ?? null,
      weakenings: weakened,
      requiredApprovals: before.requiredApprovals,
      policyRevision: model.policyRevision,
      createdAt: now,
      updatedAt: now,
      expiresAt: now + Math.round(before.requestTtlHours * 3600) * 1000,
    };
    const event = this.core.event(
      'PolicyChangeRequested',
      model,
      caller,
      {
        request_id: request.id,
        before: request.before ? policyToWire(request.before) : null,
        after: request.after ? policyToWire(request.after) : null,
        weakenings: [...weakened],
        required_approvals: request.requiredApprovals,
        expires_at: request.expiresAt,
      },
      undefined,
      comment,
    );
    await this.core.repo.recording(event).createPolicyRequest(request);
    return request;
  }

  /** A request past its expiry is shown (and treated) as EXPIRED. */
  private shown(request: PolicyChangeRequest): PolicyChangeRequest {
    return request.status === 'PENDING' && request.expiresAt <= this.now()
      ? { ...request, status: 'EXPIRED', reason: 'No decision before the request expired.' }
      : request;
  }

  private async requireRequest(model: RegisteredModel, id: string): Promise<PolicyChangeRequest> {
    const request = REQUEST_ID.test(id) ? await this.core.repo.getPolicyRequest(model, id) : undefined;
    if (!request) {
      throw new ResourceNotFoundError(
        `Policy change request ${id} of Registered Model (name=${model.name}) not found`,
      );
    }
    return request;
  }

  async getRequest(name: string, id: string): Promise<PolicyChangeRequest> {
    const model = await this.core.requireModel(name);
    return this.shown(await this.requireRequest(model, id));
  }

  async listRequests(
    name: string,
    options: { status?: RequestStatus; maxResults: number; pageToken?: string },
  ): Promise<Page<PolicyChangeRequest>> {
    const model = await this.core.requireModel(name);
    const page = await this.core.repo.listPolicyRequests(model, options);
    return { ...page, items: page.items.map((r) => this.shown(r)) };
  }

  private assertPending(request: PolicyChangeRequest, action: string): void {
    const shown = this.shown(request);
    if (shown.status !== 'PENDING') {
      throw new InvalidStateError(
        `Policy change request ${request.id} is ${shown.status}${shown.reason ? ` (${shown.reason})` : ''}; only a PENDING request can be ${action}.`,
      );
    }
  }

  /**
   * Records an approval by someone other than the requester; the last one needed applies the
   * proposal in the same transaction — if the model's policy is still the one it was made
   * against, else the request fails (propose again from the current policy).
   */
  async approve(name: string, id: string, caller: Principal, comment?: string): Promise<PolicyChangeRequest> {
    if (comment !== undefined) assertDescription(comment);
    const model = await this.core.requireModel(name);
    const request = await this.requireRequest(model, id);
    this.assertPending(request, 'approved');
    const required = Math.max(
      request.requiredApprovals,
      effectivePolicy(this.deploymentPolicy, model.policy).requiredApprovals,
    );
    const refusal = approvalRefusal(
      request,
      { requesterMayApprove: false, requiredApprovals: required },
      caller,
    );
    if (refusal?.kind === 'separation-of-duties') throw new PermissionDeniedError(refusal.message);
    if (refusal) throw new InvalidStateError(refusal.message);
    const approval: Approval = {
      person: caller.person,
      arn: caller.arn,
      timestamp: this.now(),
      ...(comment ? { comment } : {}),
    };
    const approvals = [...request.approvals, approval];
    const count = countingApprovals({ requester: request.requester, approvals }, false);
    const approved = this.core.event(
      'PolicyChangeApproved',
      model,
      caller,
      { request_id: id, approvals: count, required_approvals: required, ...(comment ? { comment } : {}) },
      undefined,
      comment,
    );
    if (count < required) {
      return this.core.repo
        .recording(approved)
        .updatePolicyRequest(model, request, { approvals }, this.now());
    }
    if (model.policyRevision !== request.policyRevision) {
      const reason = `The model's policy changed after the request was filed (revision ${request.policyRevision}, now ${model.policyRevision}); propose the change again.`;
      return this.core.repo
        .recording(
          approved,
          this.core.event('PolicyChangeClosed', model, caller, { request_id: id, status: 'FAILED', reason }),
        )
        .updatePolicyRequest(model, request, { approvals, status: 'FAILED', reason }, this.now());
    }
    const changed = this.core.event('GovernancePolicyChanged', model, caller, {
      before: request.before ? policyToWire(request.before) : null,
      after: request.after ? policyToWire(request.after) : null,
      request_id: id,
      approved_by: approvals.map((a) => a.person),
    });
    await this.core.repo
      .recording(approved, changed)
      .setPolicy(model, request.after ?? undefined, this.now(), { request, approvals });
    return { ...request, approvals, status: 'APPLIED', updatedAt: this.now() };
  }

  async reject(name: string, id: string, caller: Principal, reason: string) {
    return this.close(name, id, caller, 'REJECTED', reason);
  }

  async cancel(name: string, id: string, caller: Principal, reason?: string) {
    return this.close(name, id, caller, 'CANCELLED', reason ?? '');
  }

  private async close(
    name: string,
    id: string,
    caller: Principal,
    status: 'REJECTED' | 'CANCELLED',
    reason: string,
  ): Promise<PolicyChangeRequest> {
    assertDescription(reason);
    if (status === 'REJECTED' && !reason.trim()) {
      throw new InvalidParameterError('Give a reason when rejecting a policy change request.');
    }
    const model = await this.core.requireModel(name);
    const request = await this.requireRequest(model, id);
    this.assertPending(request, status === 'REJECTED' ? 'rejected' : 'cancelled');
    if (status === 'CANCELLED' && caller.person !== request.requester.person) {
      throw new PermissionDeniedError(
        `Only the requester (${request.requester.person}) can cancel policy change request ${id}; another policy admin rejects it instead.`,
      );
    }
    const event = this.core.event('PolicyChangeClosed', model, caller, {
      request_id: id,
      status,
      ...(reason ? { reason } : {}),
    });
    return this.core.repo
      .recording(event)
      .updatePolicyRequest(model, request, { status, ...(reason ? { reason } : {}) }, this.now());
  }
}
