/**
 * Domain objects to the API's wire shapes (snake_case, epoch ms). Each presenter returns the input
 * type of its response schema: a field added to a schema fails to compile here until it is
 * presented, and a presenter cannot drop a required field.
 */
import type { z } from 'zod';
import type { RegistryEventDetail } from '../domain/events';
import {
  type Approval,
  type PolicyChangeRequest,
  type PolicyOverride,
  type PolicyWire,
  policyToWire,
} from '../domain/governance';
import { aliasesOf, type RegisteredModel, type StageTransition, type VersionSummary } from '../domain/model';
import type { Webhook, WebhookDelivery } from '../domain/webhooks';
import type { Download, UploadInstructions } from '../use-cases/artifacts';
import type { RequestView } from '../use-cases/governance';
import type { PolicyView } from '../use-cases/policy';
import type { ModelView, VersionView } from '../use-cases/registry';
import type { WebhookTestResult } from '../use-cases/webhooks';
import type * as s from './schemas';

/** The wire shape a schema accepts. */
type Wire<S extends z.ZodType> = z.input<S>;

export function versionJson({ version: v, aliases, card }: VersionView): Wire<typeof s.modelVersionSchema> {
  return {
    name: v.name,
    version: v.version,
    source: v.source,
    ...(v.runId ? { run_id: v.runId } : {}),
    ...(v.runLink ? { run_link: v.runLink } : {}),
    ...(v.loggedModelId ? { model_id: v.loggedModelId } : {}),
    ...(v.dataset ? { dataset: v.dataset } : {}),
    parameters: v.parameters,
    metrics: v.metrics,
    description: v.description,
    tags: v.tags,
    status: v.status,
    ...(v.statusMessage ? { status_message: v.statusMessage } : {}),
    ...(v.files ? { files: v.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })) } : {}),
    current_stage: v.stage,
    aliases: [...aliases],
    created_by: v.createdBy,
    creation_timestamp: v.creationTimestamp,
    last_updated_timestamp: v.lastUpdatedTimestamp,
    ...(card ? { model_card: card } : {}),
  };
}

/** A model's latest version in a stage, as its summary gives it. */
export function versionSummaryJson(
  model: RegisteredModel,
  v: VersionSummary,
): Wire<typeof s.versionSummarySchema> {
  return {
    name: model.name,
    version: v.version,
    source: v.source,
    ...(v.runId ? { run_id: v.runId } : {}),
    ...(v.runLink ? { run_link: v.runLink } : {}),
    status: v.status,
    ...(v.statusMessage ? { status_message: v.statusMessage } : {}),
    current_stage: v.stage,
    aliases: aliasesOf(model, v.version),
    created_by: v.createdBy,
    creation_timestamp: v.creationTimestamp,
    last_updated_timestamp: v.lastUpdatedTimestamp,
  };
}

export function modelJson({
  model,
  activity,
  latestVersions,
}: ModelView): Wire<typeof s.registeredModelSchema> {
  return {
    name: model.name,
    description: model.description,
    tags: model.tags,
    aliases: model.aliases,
    created_by: model.createdBy,
    creation_timestamp: model.creationTimestamp,
    last_updated_timestamp: activity.lastUpdatedTimestamp,
    latest_versions: latestVersions.map((v) => versionSummaryJson(model, v)),
  };
}

export function transitionJson(t: StageTransition): Wire<typeof s.transitionSchema> {
  return {
    name: t.name,
    version: t.version,
    from_stage: t.fromStage,
    to_stage: t.toStage,
    actor: t.actor,
    timestamp: t.timestamp,
    ...(t.comment ? { comment: t.comment } : {}),
    ...(t.causedBy ? { caused_by: { version: t.causedBy.version, to_stage: t.causedBy.toStage } } : {}),
    ...(t.via?.kind === 'request' ? { request_id: t.via.requestId, approved_by: [...t.via.approvedBy] } : {}),
    ...(t.via?.kind === 'rollback' ? { rollback: true } : {}),
    ...(t.via?.kind === 'break-glass' ? { break_glass: true, break_glass_reason: t.via.reason } : {}),
  };
}

export function uploadJson(u: UploadInstructions): Wire<typeof s.uploadSchema> {
  return {
    expires_at: u.expiresAt,
    files: u.files.map((f) => ({
      path: f.path,
      size: f.size,
      method: f.method,
      ...(f.url ? { url: f.url } : {}),
      headers: f.headers,
      ...(f.uploadId ? { upload_id: f.uploadId } : {}),
      ...(f.partSize ? { part_size: f.partSize } : {}),
      ...(f.partCount ? { part_count: f.partCount } : {}),
      ...(f.parts ? { parts: f.parts.map((p) => ({ part_number: p.partNumber, url: p.url })) } : {}),
    })),
  };
}

export function downloadJson(d: Download): Wire<typeof s.downloadSchema> {
  return {
    name: d.name,
    version: d.version,
    source: d.source,
    expires_at: d.expiresAt,
    files: d.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256, url: f.url })),
  };
}

const approvalJson = (a: Approval): Wire<typeof s.transitionRequestSchema>['approvals'][number] => ({
  principal: a.arn,
  person: a.person,
  timestamp: a.timestamp,
  ...(a.comment ? { comment: a.comment } : {}),
});

export function requestJson({
  request: r,
  requiredApprovals,
  name,
}: RequestView): Wire<typeof s.transitionRequestSchema> {
  return {
    id: r.id,
    name,
    version: r.version,
    kind: r.target.kind,
    ...(r.target.kind === 'stage'
      ? {
          from_stage: r.target.fromStage,
          to_stage: r.target.toStage,
          archive_existing_versions: r.target.archiveExistingVersions,
        }
      : { alias: r.target.alias, previous_version: r.target.previousVersion }),
    requester: r.requester.arn,
    requester_person: r.requester.person,
    ...(r.comment ? { comment: r.comment } : {}),
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    approvals: r.approvals.map(approvalJson),
    required_approvals: requiredApprovals,
    awaiting_approval: r.status === 'PENDING' && r.awaitingApproval,
    creation_timestamp: r.createdAt,
    last_updated_timestamp: r.updatedAt,
    expiration_timestamp: r.expiresAt,
  };
}

export function policyJson(p: PolicyOverride): Partial<PolicyWire> {
  return policyToWire(p);
}

export function policyResponseJson(p: PolicyView): Wire<typeof s.policyResponse> {
  return {
    effective: policyToWire(p.effective),
    ...(p.override ? { override: policyToWire(p.override) } : {}),
  };
}

export function policyRequestJson(r: PolicyChangeRequest): Wire<typeof s.policyChangeRequestSchema> {
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    requester: r.requester.arn,
    requester_person: r.requester.person,
    ...(r.comment ? { comment: r.comment } : {}),
    approvals: r.approvals.map(approvalJson),
    before: r.before ? policyJson(r.before) : null,
    after: r.after ? policyJson(r.after) : null,
    weakenings: [...r.weakenings],
    required_approvals: r.requiredApprovals,
    creation_timestamp: r.createdAt,
    last_updated_timestamp: r.updatedAt,
    expiration_timestamp: r.expiresAt,
  };
}

/** An event of a model's audit log: it is about that model. */
export type ModelEvent = {
  readonly type: string;
  readonly detail: RegistryEventDetail & { readonly model: NonNullable<RegistryEventDetail['model']> };
};

export const isModelEvent = (e: { type: string; detail: RegistryEventDetail }): e is ModelEvent =>
  e.detail.model !== undefined;

export function auditJson(e: ModelEvent): Wire<typeof s.auditEntrySchema> {
  return {
    event_type: e.type,
    event_id: e.detail.event_id,
    timestamp: e.detail.occurred_at,
    actor: e.detail.actor,
    person: e.detail.person,
    ...(e.detail.reason ? { reason: e.detail.reason } : {}),
    model: e.detail.model,
    ...(e.detail.version !== undefined ? { version: e.detail.version } : {}),
    data: e.detail.data,
  };
}

export function webhookJson(w: Webhook) {
  return {
    webhook_id: w.id,
    name: w.name,
    description: w.description,
    url: w.url,
    events: [...w.events],
    status: w.status,
    has_secret: w.sealedSecret !== undefined,
    creation_timestamp: w.creationTimestamp,
    last_updated_timestamp: w.lastUpdatedTimestamp,
    created_by: w.createdBy,
  };
}

export function deliveryJson(d: WebhookDelivery) {
  let payload: Record<string, unknown> = {};
  try {
    payload = JSON.parse(d.body) as Record<string, unknown>;
  } catch {
    // a body is always JSON; keep the log readable if not
  }
  return {
    delivery_id: d.deliveryId,
    webhook_id: d.webhookId,
    event: d.event,
    event_id: d.eventId,
    event_type: d.eventType,
    status: d.status,
    attempts: d.attempts,
    ...(d.nextAttemptAt !== undefined && (d.status === 'PENDING' || d.status === 'FAILED')
      ? { next_attempt_timestamp: d.nextAttemptAt }
      : {}),
    ...(d.lastAttemptAt !== undefined ? { last_attempt_timestamp: d.lastAttemptAt } : {}),
    ...(d.lastResponseStatus !== undefined ? { last_response_status: d.lastResponseStatus } : {}),
    ...(d.lastError !== undefined ? { last_error: d.lastError } : {}),
    creation_timestamp: d.createdAt,
    last_updated_timestamp: d.updatedAt,
    payload,
  };
}

export function webhookTestJson(r: WebhookTestResult) {
  return {
    result: {
      success: r.success,
      ...(r.responseStatus !== undefined ? { response_status: r.responseStatus } : {}),
      ...(r.responseBody !== undefined ? { response_body: r.responseBody } : {}),
      ...(r.errorMessage !== undefined ? { error_message: r.errorMessage } : {}),
    },
  };
}
