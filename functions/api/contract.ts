/**
 * The API contract: every route, its IAM-authorizable method and path, its schemas and the Lambda
 * function that serves it. The CDK construct builds API Gateway from this table, the local runtime
 * routes with it, the OpenAPI document is generated from it and the SDK follows it.
 */
import type { z } from 'zod';
import * as s from './schemas';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * The Lambda function serving a route. Functions are split by the permissions they need, so each
 * role holds only what its code calls: `read` can only read the table.
 */
export type FunctionGroup = 'read' | 'write' | 'upload' | 'download' | 'approve';

/**
 * Who a route is for: the IAM role a deployment grants it to (docs/iam.md, the construct's
 * `grant*` methods). Absent: `reader` for GET, `registrant` for the others.
 */
export type Audience = 'reader' | 'registrant' | 'approver' | 'policy-admin' | 'operator' | 'break-glass';

export const AUDIENCES: readonly Audience[] = [
  'reader',
  'registrant',
  'approver',
  'policy-admin',
  'operator',
  'break-glass',
];

export interface OperationSpec {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** API Gateway resource path, with `{param}` placeholders. */
  readonly path: string;
  readonly group: FunctionGroup;
  readonly summary: string;
  readonly tag:
    | 'Registered models'
    | 'Model versions'
    | 'Artifacts'
    | 'Aliases'
    | 'Stages'
    | 'Search'
    | 'Governance'
    | 'Meta'
    | 'Webhooks'
    | 'MLflow';
  readonly pathParams?: z.ZodType;
  readonly query?: z.ZodType;
  /** Query parameters that may repeat (`stages=A&stages=B`). */
  readonly queryLists?: readonly string[];
  readonly body?: z.ZodType;
  readonly response: z.ZodType;
  readonly successStatus: 200 | 201;
  /**
   * The wire protocol the route speaks. Absent: this registry's own API. `mlflow`: MLflow's
   * Model Registry REST API (functions/api/mlflow), with MLflow's error codes and statuses.
   */
  readonly protocol?: 'mlflow';
  /** Who the route is for (default: reader for GET, registrant otherwise). */
  readonly audience?: Audience;
  /** Answers 202 Accepted instead when the change waits for approval. */
  readonly accepted?: boolean;
}

export function audienceOf(op: Pick<OperationSpec, 'audience' | 'method'>): Audience {
  return op.audience ?? (op.method === 'GET' ? 'reader' : 'registrant');
}

const op = <const T extends OperationSpec>(spec: T) => spec;

export const OPERATIONS = [
  op({
    operationId: 'createRegisteredModel',
    method: 'POST',
    path: '/models',
    group: 'write',
    tag: 'Registered models',
    summary: 'Create a registered model.',
    body: s.createModelBody,
    response: s.modelResponse,
    successStatus: 201,
  }),
  op({
    operationId: 'searchRegisteredModels',
    method: 'GET',
    path: '/models',
    group: 'read',
    tag: 'Search',
    summary: "Search registered models with MLflow's filter grammar.",
    query: s.searchModelsQuery,
    queryLists: ['order_by'],
    response: s.modelsPage,
    successStatus: 200,
  }),
  op({
    operationId: 'getRegisteredModel',
    method: 'GET',
    path: '/models/{name}',
    group: 'read',
    tag: 'Registered models',
    summary: 'Get a registered model with its latest version per stage.',
    pathParams: s.nameParam,
    response: s.modelResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'updateRegisteredModel',
    method: 'PATCH',
    path: '/models/{name}',
    group: 'write',
    tag: 'Registered models',
    summary: "Update a registered model's description.",
    pathParams: s.nameParam,
    body: s.updateModelBody,
    response: s.modelResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'deleteRegisteredModel',
    method: 'DELETE',
    path: '/models/{name}',
    group: 'write',
    tag: 'Registered models',
    summary: 'Delete a registered model with its versions, tags and aliases.',
    pathParams: s.nameParam,
    response: s.emptyResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'renameRegisteredModel',
    method: 'POST',
    path: '/models/{name}/rename',
    group: 'write',
    tag: 'Registered models',
    summary: 'Rename a registered model; its versions, tags and aliases follow.',
    pathParams: s.nameParam,
    body: s.renameModelBody,
    response: s.modelResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'setRegisteredModelTag',
    method: 'POST',
    path: '/models/{name}/tags',
    group: 'write',
    tag: 'Registered models',
    summary: 'Set a tag on a registered model.',
    pathParams: s.nameParam,
    body: s.setTagBody,
    response: s.emptyResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'deleteRegisteredModelTag',
    method: 'DELETE',
    path: '/models/{name}/tags',
    group: 'write',
    tag: 'Registered models',
    summary: 'Delete a tag of a registered model (succeeds if the tag is absent).',
    pathParams: s.nameParam,
    query: s.tagKeyQuery,
    response: s.emptyResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'getLatestVersions',
    method: 'GET',
    path: '/models/{name}/latest-versions',
    group: 'read',
    tag: 'Stages',
    summary: 'The highest version in each requested stage (all stages if none is given).',
    pathParams: s.nameParam,
    query: s.latestVersionsQuery,
    queryLists: ['stages'],
    response: s.versionsList,
    successStatus: 200,
  }),
  op({
    operationId: 'setRegisteredModelAlias',
    method: 'PUT',
    path: '/models/{name}/aliases/{alias}',
    group: 'write',
    tag: 'Aliases',
    summary:
      'Point an alias at a version (creates or moves it). A protected alias (`@champion` by default) moves only through an approved request: the answer is then 202 with the request.',
    pathParams: s.aliasParams,
    body: s.setAliasBody,
    response: s.aliasOutcomeResponse,
    successStatus: 200,
    accepted: true,
  }),
  op({
    operationId: 'deleteRegisteredModelAlias',
    method: 'DELETE',
    path: '/models/{name}/aliases/{alias}',
    group: 'write',
    tag: 'Aliases',
    summary:
      'Delete an alias (succeeds if the alias is absent). A protected alias is refused (use the break-glass route, or unprotect it by a policy change).',
    pathParams: s.aliasParams,
    response: s.emptyResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'getModelVersionByAlias',
    method: 'GET',
    path: '/models/{name}/aliases/{alias}',
    group: 'read',
    tag: 'Aliases',
    summary: 'Resolve an alias to its version; `latest` is the highest version.',
    pathParams: s.aliasParams,
    response: s.versionResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'createModelVersion',
    method: 'POST',
    path: '/models/{name}/versions',
    group: 'upload',
    tag: 'Model versions',
    summary:
      'Register a new version; the registry assigns its number. With `files`, the version waits (PENDING_REGISTRATION) for the upload and answers with presigned upload instructions.',
    pathParams: s.nameParam,
    body: s.createVersionBody,
    response: s.createVersionResponse,
    successStatus: 201,
  }),
  op({
    operationId: 'getUploadUrls',
    method: 'POST',
    path: '/models/{name}/versions/{version}/upload-urls',
    group: 'upload',
    tag: 'Artifacts',
    summary:
      'Fresh presigned upload URLs for files (and, for multipart files, chosen parts) of a version still waiting for its upload: to continue or resume an upload after URLs expired.',
    pathParams: s.versionParams,
    body: s.uploadUrlsBody,
    response: s.uploadResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'finalizeModelVersion',
    method: 'POST',
    path: '/models/{name}/versions/{version}/finalize',
    group: 'upload',
    tag: 'Artifacts',
    summary:
      'Complete the uploads and start verifying every declared file (size and SHA-256). The version becomes READY, or FAILED_REGISTRATION with the reason; poll the version.',
    pathParams: s.versionParams,
    body: s.finalizeBody,
    response: s.versionResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'getModelVersionDownload',
    method: 'GET',
    path: '/models/{name}/versions/{version}/download',
    group: 'download',
    tag: 'Artifacts',
    summary:
      'Presigned download URLs for every file of a READY version, with the manifest (paths, sizes, SHA-256).',
    pathParams: s.versionParams,
    response: s.downloadResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'resolveModelUri',
    method: 'GET',
    path: '/resolve',
    group: 'download',
    tag: 'Artifacts',
    summary:
      'Resolve models:/name/<version>, models:/name/<Stage>, models:/name@alias or models:/name/latest to a version and its download.',
    query: s.resolveQuery,
    response: s.downloadResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'listModelVersions',
    method: 'GET',
    path: '/models/{name}/versions',
    group: 'read',
    tag: 'Model versions',
    summary: 'List the versions of a registered model.',
    pathParams: s.nameParam,
    query: s.listVersionsQuery,
    queryLists: ['order_by'],
    response: s.versionsPage,
    successStatus: 200,
  }),
  op({
    operationId: 'getModelVersion',
    method: 'GET',
    path: '/models/{name}/versions/{version}',
    group: 'read',
    tag: 'Model versions',
    summary: 'Get a model version, with its model card (`model_card`) when it has one.',
    pathParams: s.versionParams,
    response: s.versionResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'updateModelVersion',
    method: 'PATCH',
    path: '/models/{name}/versions/{version}',
    group: 'write',
    tag: 'Model versions',
    summary: "Update a version's description (everything else about a version is immutable).",
    pathParams: s.versionParams,
    body: s.updateVersionBody,
    response: s.versionResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'deleteModelVersion',
    method: 'DELETE',
    path: '/models/{name}/versions/{version}',
    group: 'write',
    tag: 'Model versions',
    summary: 'Delete a version and the aliases that point at it; its number is never reused.',
    pathParams: s.versionParams,
    response: s.emptyResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'setModelVersionTag',
    method: 'POST',
    path: '/models/{name}/versions/{version}/tags',
    group: 'write',
    tag: 'Model versions',
    summary: 'Set a tag on a model version.',
    pathParams: s.versionParams,
    body: s.setTagBody,
    response: s.emptyResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'deleteModelVersionTag',
    method: 'DELETE',
    path: '/models/{name}/versions/{version}/tags',
    group: 'write',
    tag: 'Model versions',
    summary: 'Delete a tag of a model version (succeeds if the tag is absent).',
    pathParams: s.versionParams,
    query: s.tagKeyQuery,
    response: s.emptyResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'getModelCard',
    method: 'GET',
    path: '/models/{name}/versions/{version}/card',
    group: 'read',
    tag: 'Model versions',
    summary:
      "A version's model card (after Google's Model Card Toolkit). 404 RESOURCE_DOES_NOT_EXIST when the version has none.",
    pathParams: s.versionParams,
    response: s.modelCardResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'putModelCard',
    method: 'PUT',
    path: '/models/{name}/versions/{version}/card',
    group: 'write',
    tag: 'Model versions',
    summary:
      "Write a version's model card (the whole card: it replaces the stored one). Every section is optional; unknown fields are refused; at most 128 KiB as UTF-8 JSON. Each edit is audited (ModelCardUpdated, with the changed sections before and after).",
    pathParams: s.versionParams,
    body: s.putModelCardBody,
    response: s.modelCardResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'transitionModelVersionStage',
    method: 'POST',
    path: '/models/{name}/versions/{version}/stage',
    group: 'write',
    tag: 'Stages',
    summary: 'Move a version to another stage, optionally archiving the versions already there.',
    pathParams: s.versionParams,
    body: s.transitionBody,
    response: s.transitionOutcomeResponse,
    accepted: true,
    successStatus: 200,
  }),
  op({
    operationId: 'listTransitions',
    method: 'GET',
    path: '/models/{name}/transitions',
    group: 'read',
    tag: 'Stages',
    summary: "The model's stage transitions, newest first (who, when, from, to, comment).",
    pathParams: s.nameParam,
    query: s.transitionsQuery,
    response: s.transitionsPage,
    successStatus: 200,
  }),
  op({
    operationId: 'listTransitionRequests',
    method: 'GET',
    path: '/models/{name}/transition-requests',
    group: 'read',
    tag: 'Governance',
    summary: 'Transition requests of a model, newest first (filter by status or version).',
    pathParams: s.nameParam,
    query: s.requestsQuery,
    response: s.requestsPage,
    successStatus: 200,
  }),
  op({
    operationId: 'getTransitionRequest',
    method: 'GET',
    path: '/models/{name}/transition-requests/{request_id}',
    group: 'read',
    tag: 'Governance',
    summary: 'One transition request: status, approvals, reason.',
    pathParams: s.requestParams,
    response: s.transitionRequestResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'approveTransitionRequest',
    method: 'POST',
    path: '/models/{name}/transition-requests/{request_id}/approve',
    group: 'approve',
    tag: 'Governance',
    summary:
      'Approve a pending request (never by its requester unless the policy allows; each approver counts once). The last required approval resumes the workflow, which applies the transition.',
    pathParams: s.requestParams,
    body: s.approveBody,
    response: s.transitionRequestResponse,
    successStatus: 200,
    audience: 'approver',
  }),
  op({
    operationId: 'rejectTransitionRequest',
    method: 'POST',
    path: '/models/{name}/transition-requests/{request_id}/reject',
    group: 'approve',
    tag: 'Governance',
    summary: 'Reject a pending request, with a reason.',
    pathParams: s.requestParams,
    body: s.rejectBody,
    response: s.transitionRequestResponse,
    successStatus: 200,
    audience: 'approver',
  }),
  op({
    operationId: 'cancelTransitionRequest',
    method: 'POST',
    path: '/models/{name}/transition-requests/{request_id}/cancel',
    group: 'approve',
    tag: 'Governance',
    summary: 'Withdraw your own pending request.',
    pathParams: s.requestParams,
    body: s.cancelBody,
    response: s.transitionRequestResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'rollbackProduction',
    method: 'POST',
    path: '/models/{name}/rollback',
    group: 'write',
    tag: 'Governance',
    summary:
      "Re-promote the version that was in Production before the current one and archive the current one, at once: no approval (the version entered Production through the policy of its time), but today's quality gates apply unless the policy's `rollback_requires_gates` is false. For operators (grant this route separately).",
    pathParams: s.nameParam,
    body: s.rollbackBody,
    response: s.versionResponse,
    successStatus: 200,
    audience: 'operator',
  }),
  op({
    operationId: 'getGovernancePolicy',
    method: 'GET',
    path: '/models/{name}/policy',
    group: 'read',
    tag: 'Governance',
    summary: "The model's effective governance policy and its overrides of the deployment's.",
    pathParams: s.nameParam,
    response: s.policyResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'setGovernancePolicy',
    method: 'PUT',
    path: '/models/{name}/policy',
    group: 'write',
    tag: 'Governance',
    summary:
      "Override the deployment's governance policy for this model. A change that weakens it (fewer approvers or guards, gates loosened, …) is not applied: it becomes a policy change request (202) that other policy admins approve.",
    pathParams: s.nameParam,
    body: s.setPolicyBody,
    response: s.policyChangeOutcomeResponse,
    successStatus: 200,
    accepted: true,
    audience: 'policy-admin',
  }),
  op({
    operationId: 'deleteGovernancePolicy',
    method: 'DELETE',
    path: '/models/{name}/policy',
    group: 'write',
    tag: 'Governance',
    summary:
      "Remove this model's overrides (the deployment's policy applies); a request (202) when that weakens it.",
    pathParams: s.nameParam,
    query: s.deletePolicyQuery,
    response: s.policyChangeOutcomeResponse,
    successStatus: 200,
    accepted: true,
    audience: 'policy-admin',
  }),
  op({
    operationId: 'listPolicyChangeRequests',
    method: 'GET',
    path: '/models/{name}/policy-requests',
    group: 'read',
    tag: 'Governance',
    summary: "A model's policy change requests, newest first.",
    pathParams: s.nameParam,
    query: s.policyRequestsQuery,
    response: s.policyRequestsPage,
    successStatus: 200,
  }),
  op({
    operationId: 'getPolicyChangeRequest',
    method: 'GET',
    path: '/models/{name}/policy-requests/{request_id}',
    group: 'read',
    tag: 'Governance',
    summary: 'One policy change request.',
    pathParams: s.requestParams,
    response: s.policyRequestResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'approvePolicyChangeRequest',
    method: 'POST',
    path: '/models/{name}/policy-requests/{request_id}/approve',
    group: 'write',
    tag: 'Governance',
    summary:
      'Approve a policy change (not your own). The last approval it needs applies it, if the policy has not changed since it was filed.',
    pathParams: s.requestParams,
    body: s.approveBody,
    response: s.policyRequestResponse,
    successStatus: 200,
    audience: 'policy-admin',
  }),
  op({
    operationId: 'rejectPolicyChangeRequest',
    method: 'POST',
    path: '/models/{name}/policy-requests/{request_id}/reject',
    group: 'write',
    tag: 'Governance',
    summary: 'Reject a policy change request, with a reason.',
    pathParams: s.requestParams,
    body: s.rejectBody,
    response: s.policyRequestResponse,
    successStatus: 200,
    audience: 'policy-admin',
  }),
  op({
    operationId: 'cancelPolicyChangeRequest',
    method: 'POST',
    path: '/models/{name}/policy-requests/{request_id}/cancel',
    group: 'write',
    tag: 'Governance',
    summary: 'Withdraw your own policy change request.',
    pathParams: s.requestParams,
    body: s.cancelBody,
    response: s.policyRequestResponse,
    successStatus: 200,
    audience: 'policy-admin',
  }),
  op({
    operationId: 'listOpenTransitionRequests',
    method: 'GET',
    path: '/transition-requests',
    group: 'read',
    tag: 'Governance',
    summary: 'The approval inbox: open (PENDING or APPROVED) transition requests across every model.',
    query: s.inboxQuery,
    response: s.requestsPage,
    successStatus: 200,
  }),
  op({
    operationId: 'breakGlassTransition',
    method: 'POST',
    path: '/break-glass/models/{name}/versions/{version}/stage',
    group: 'write',
    tag: 'Governance',
    summary:
      'Move a version to a stage now, bypassing the policy (no request, no gates), with a reason; recorded as break-glass. For a break-glass role only.',
    pathParams: s.versionParams,
    body: s.breakGlassStageBody,
    response: s.versionResponse,
    successStatus: 200,
    audience: 'break-glass',
  }),
  op({
    operationId: 'breakGlassSetAlias',
    method: 'PUT',
    path: '/break-glass/models/{name}/aliases/{alias}',
    group: 'write',
    tag: 'Governance',
    summary: 'Point any alias (protected ones too) at a version now, with a reason; recorded as break-glass.',
    pathParams: s.aliasParams,
    body: s.breakGlassAliasBody,
    response: s.emptyResponse,
    successStatus: 200,
    audience: 'break-glass',
  }),
  op({
    operationId: 'breakGlassDeleteAlias',
    method: 'DELETE',
    path: '/break-glass/models/{name}/aliases/{alias}',
    group: 'write',
    tag: 'Governance',
    summary: 'Delete any alias (protected ones too), with a reason; recorded as break-glass.',
    pathParams: s.aliasParams,
    query: s.breakGlassQuery,
    response: s.emptyResponse,
    successStatus: 200,
    audience: 'break-glass',
  }),
  op({
    operationId: 'breakGlassDeleteModelVersion',
    method: 'DELETE',
    path: '/break-glass/models/{name}/versions/{version}',
    group: 'write',
    tag: 'Governance',
    summary:
      'Delete a version even if it is live (in Production, on an alias), with a reason; recorded as break-glass.',
    pathParams: s.versionParams,
    query: s.breakGlassQuery,
    response: s.emptyResponse,
    successStatus: 200,
    audience: 'break-glass',
  }),
  op({
    operationId: 'breakGlassDeleteRegisteredModel',
    method: 'DELETE',
    path: '/break-glass/models/{name}',
    group: 'write',
    tag: 'Governance',
    summary: 'Delete a model even if it has live versions, with a reason; recorded as break-glass.',
    pathParams: s.nameParam,
    query: s.breakGlassQuery,
    response: s.emptyResponse,
    successStatus: 200,
    audience: 'break-glass',
  }),
  op({
    operationId: 'getAuditLog',
    method: 'GET',
    path: '/models/{name}/audit',
    group: 'read',
    tag: 'Governance',
    summary:
      'The append-only audit log of a model (optionally one version), newest first: who did what, when and why.',
    pathParams: s.nameParam,
    query: s.auditQuery,
    response: s.auditPage,
    successStatus: 200,
  }),
  op({
    operationId: 'replayEvents',
    method: 'POST',
    path: '/events/replay',
    group: 'write',
    tag: 'Governance',
    summary:
      'Publish again the events recorded (the audit log) in a time range, of one model or all, each with its original event_id, to close a gap in what reached the bus; `dry_run` lists them without publishing. Paged: call again with `next_page_token` until there is none. For operators.',
    body: s.replayEventsBody,
    response: s.replayEventsResponse,
    successStatus: 200,
    audience: 'operator',
  }),
  op({
    operationId: 'getStageHistory',
    method: 'GET',
    path: '/models/{name}/stage-history',
    group: 'read',
    tag: 'Governance',
    summary: 'Which versions were in a stage at a given time.',
    pathParams: s.nameParam,
    query: s.stageHistoryQuery,
    response: s.stageHistoryResponse,
    successStatus: 200,
  }),
  op({
    operationId: 'searchModelVersions',
    method: 'GET',
    path: '/versions',
    group: 'read',
    tag: 'Search',
    summary: "Search model versions across the registry with MLflow's filter grammar.",
    query: s.searchVersionsQuery,
    queryLists: ['order_by'],
    response: s.versionsPage,
    successStatus: 200,
  }),
  op({
    operationId: 'createWebhook',
    method: 'POST',
    path: '/webhooks',
    group: 'write',
    tag: 'Webhooks',
    summary:
      "Create a webhook (MLflow's webhooks: registry-wide, MLflow event names). Every matching change is delivered to its URL, signed with its secret, retried with backoff and logged.",
    body: s.createWebhookBody,
    response: s.webhookResponse,
    successStatus: 201,
    audience: 'operator',
  }),
  op({
    operationId: 'listWebhooks',
    method: 'GET',
    path: '/webhooks',
    group: 'read',
    tag: 'Webhooks',
    summary: 'List the webhooks, oldest first (their secrets are never returned).',
    query: s.webhooksQuery,
    response: s.webhooksPage,
    successStatus: 200,
    audience: 'operator',
  }),
  op({
    operationId: 'getWebhook',
    method: 'GET',
    path: '/webhooks/{webhook_id}',
    group: 'read',
    tag: 'Webhooks',
    summary: 'Get a webhook.',
    pathParams: s.webhookParams,
    response: s.webhookResponse,
    successStatus: 200,
    audience: 'operator',
  }),
  op({
    operationId: 'updateWebhook',
    method: 'PATCH',
    path: '/webhooks/{webhook_id}',
    group: 'write',
    tag: 'Webhooks',
    summary:
      "Change a webhook's name, URL, events, description, secret or status (ACTIVE, DISABLED); absent fields stay.",
    pathParams: s.webhookParams,
    body: s.updateWebhookBody,
    response: s.webhookResponse,
    successStatus: 200,
    audience: 'operator',
  }),
  op({
    operationId: 'deleteWebhook',
    method: 'DELETE',
    path: '/webhooks/{webhook_id}',
    group: 'write',
    tag: 'Webhooks',
    summary: 'Delete a webhook (its delivery log stays until it expires).',
    pathParams: s.webhookParams,
    response: s.emptyResponse,
    successStatus: 200,
    audience: 'operator',
  }),
  op({
    operationId: 'testWebhook',
    method: 'POST',
    path: '/webhooks/{webhook_id}/test',
    group: 'write',
    tag: 'Webhooks',
    summary:
      "Send an event's example payload to the webhook now (signed like a delivery) and report the answer; nothing is recorded.",
    pathParams: s.webhookParams,
    body: s.testWebhookBody,
    response: s.webhookTestResponse,
    successStatus: 200,
    audience: 'operator',
  }),
  op({
    operationId: 'listWebhookDeliveries',
    method: 'GET',
    path: '/webhooks/{webhook_id}/deliveries',
    group: 'read',
    tag: 'Webhooks',
    summary:
      "The webhook's delivery log, newest first: each delivery's status (PENDING, SUCCEEDED, FAILED, DEAD), attempts, last answer and next attempt.",
    pathParams: s.webhookParams,
    query: s.webhooksQuery,
    response: s.deliveriesPage,
    successStatus: 200,
    audience: 'operator',
  }),
  op({
    operationId: 'redeliverWebhookDelivery',
    method: 'POST',
    path: '/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver',
    group: 'write',
    tag: 'Webhooks',
    summary:
      'Send a FAILED or DEAD delivery again now, with the same delivery id and body; its attempts are counted afresh (retried with backoff if it fails).',
    pathParams: s.deliveryParams,
    response: s.deliveryResponse,
    successStatus: 200,
    audience: 'operator',
  }),
  op({
    operationId: 'getOpenApiDocument',
    method: 'GET',
    path: '/openapi.json',
    group: 'read',
    tag: 'Meta',
    summary: 'This API as an OpenAPI 3 document.',
    response: s.openApiDocumentResponse,
    successStatus: 200,
  }),
] as const satisfies readonly OperationSpec[];

export type OperationId = (typeof OPERATIONS)[number]['operationId'];

/** The spec of one operation, with its schemas' types. */
export type OperationOf<Id extends OperationId> = Extract<(typeof OPERATIONS)[number], { operationId: Id }>;

/** One operation's spec by its id. */
export function operation<Id extends OperationId>(id: Id): OperationOf<Id> {
  const found = OPERATIONS.find((o): o is OperationOf<Id> => o.operationId === id);
  if (!found) throw new Error(`No operation ${id} in the contract.`);
  return found;
}

export function operationsOf(group: FunctionGroup): OperationSpec[] {
  return OPERATIONS.filter((o) => o.group === group);
}
