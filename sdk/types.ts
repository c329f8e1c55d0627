/**
 * The SDK's types, inferred from the API's zod schemas (functions/api/schemas.ts): the wire
 * shapes, snake_case as on the wire. Type-only: the SDK carries no zod at run time.
 */
import type { z } from 'zod';
import type * as s from '../functions/api/schemas';
import type { RegistryEventDetail } from '../functions/domain/events';

export type RegisteredModel = z.infer<typeof s.registeredModelSchema>;
export type ModelVersion = z.infer<typeof s.modelVersionSchema>;
export type ModelVersionStatus = ModelVersion['status'];
export type Stage = ModelVersion['current_stage'];
export type Transition = z.infer<typeof s.transitionSchema>;
export type ArtifactFile = z.infer<typeof s.artifactFileSchema>;
export type DeclaredFile = z.infer<typeof s.declaredFileSchema>;
export type Dataset = z.infer<typeof s.datasetSchema>;
export type UploadInstruction = z.infer<typeof s.uploadInstructionSchema>;
export type UploadInstructions = z.infer<typeof s.uploadSchema>;
export type Download = z.infer<typeof s.downloadSchema>;
export type DownloadFile = Download['files'][number];
export type ErrorBody = z.infer<typeof s.errorSchema>;
export type TransitionRequest = z.infer<typeof s.transitionRequestSchema>;
export type TransitionRequestStatus = TransitionRequest['status'];
export type GovernancePolicy = z.infer<typeof s.policySchema>;
export type AuditEntry = z.infer<typeof s.auditEntrySchema>;
/** A webhook (MLflow's webhooks; its secret is never returned, `has_secret` says whether it has one). */
export type Webhook = z.infer<typeof s.webhookSchema>;
/** One delivery of an event to a webhook, as its delivery log shows it. */
export type WebhookDelivery = z.infer<typeof s.deliverySchema>;
/** A version's model card (functions/domain/model-card.ts): every section optional. */
export type ModelCard = z.infer<typeof s.modelCardResponse>['model_card'];
export type ModelCardSection = keyof ModelCard;

// ------------------------------------------------------------------ requests

export type CreateRegisteredModelRequest = Omit<z.input<typeof s.createModelBody>, 'name'>;
export type UpdateRegisteredModelRequest = z.input<typeof s.updateModelBody>;
export type CreateModelVersionRequest = z.input<typeof s.createVersionBody>;
export type UpdateModelVersionRequest = z.input<typeof s.updateVersionBody>;
export type TransitionStageRequest = z.input<typeof s.transitionBody>;
export type GetUploadUrlsRequest = z.input<typeof s.uploadUrlsBody>;
export type FinalizeModelVersionRequest = z.input<typeof s.finalizeBody>;
export type CreateWebhookRequest = z.input<typeof s.createWebhookBody>;
export type UpdateWebhookRequest = z.input<typeof s.updateWebhookBody>;

/** Query strings carry numbers as text; the SDK takes numbers. */
type Paged<Q> = Omit<Q, 'max_results'> & { max_results?: number };

export type SearchRegisteredModelsParams = Paged<z.input<typeof s.searchModelsQuery>>;
export type SearchModelVersionsParams = Paged<z.input<typeof s.searchVersionsQuery>>;
export type ListModelVersionsParams = Paged<z.input<typeof s.listVersionsQuery>>;
export type ListTransitionsParams = Omit<Paged<z.input<typeof s.transitionsQuery>>, 'version'> & {
  version?: number | string;
};

export type ListTransitionRequestsParams = Omit<Paged<z.input<typeof s.requestsQuery>>, 'version'> & {
  version?: number | string;
};
/** The cross-model request listing: the same filters and paging as a model's, without `version`. */
export type GetAuditLogParams = Omit<Paged<z.input<typeof s.auditQuery>>, 'version'> & {
  version?: number | string;
};
/** Policy fields to override for one model (snake_case as in the response; at least one). */
export type GovernancePolicyOverride = Partial<GovernancePolicy>;
export type ListOpenTransitionRequestsParams = Paged<z.input<typeof s.inboxQuery>>;
export type ListPolicyChangeRequestsParams = Paged<z.input<typeof s.policyRequestsQuery>>;
export type ListWebhooksParams = Paged<z.input<typeof s.webhooksQuery>>;
export type BreakGlassTransitionRequest = z.input<typeof s.breakGlassStageBody>;

// ------------------------------------------------------------------ responses

export type RegisteredModelsPage = z.infer<typeof s.modelsPage>;
export type ModelVersionsPage = z.infer<typeof s.versionsPage>;
export type TransitionsPage = z.infer<typeof s.transitionsPage>;
export type CreateModelVersionResponse = z.infer<typeof s.createVersionResponse>;
export type UploadUrlsResponse = z.infer<typeof s.uploadResponse>;
export type DownloadResponse = z.infer<typeof s.downloadResponse>;
/** A transition applies at once (`model_version`) or, into a guarded stage, waits for approval (`transition_request`, HTTP 202). */
export type TransitionOutcome = z.infer<typeof s.transitionOutcomeResponse>;
export type TransitionRequestsPage = z.infer<typeof s.requestsPage>;
export type GovernancePolicyResponse = z.infer<typeof s.policyResponse>;
/** A protected alias moves only through an approved request (`transition_request`, HTTP 202). */
export type AliasOutcome = z.infer<typeof s.aliasOutcomeResponse>;
/** A policy change applies at once (`effective`), or, when it weakens the policy, waits (`policy_request`, HTTP 202). */
export type PolicyChangeOutcome = z.infer<typeof s.policyChangeOutcomeResponse>;
export type PolicyChangeRequest = z.infer<typeof s.policyChangeRequestSchema>;
export type PolicyChangeRequestsPage = z.infer<typeof s.policyRequestsPage>;
export type AuditLogPage = z.infer<typeof s.auditPage>;
export type ReplayEventsRequest = z.input<typeof s.replayEventsBody>;
export type ReplayEventsPage = z.infer<typeof s.replayEventsResponse>;
export type StageHistory = z.infer<typeof s.stageHistoryResponse>;
export type WebhooksPage = z.infer<typeof s.webhooksPage>;
export type WebhookDeliveriesPage = z.infer<typeof s.deliveriesPage>;
/** MLflow's WebhookTestResult: whether the receiver answered below 400, and what it answered. */
export type WebhookTestResult = z.infer<typeof s.webhookTestResponse>['result'];

/**
 * An event of a local registry's event log, shaped as EventBridge delivers it (`detail` as in
 * docs/events.md; `detail.event_id` is unique per event).
 */
export interface LocalEvent {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly time: string;
  readonly detail: RegistryEventDetail;
}
export interface LocalEventsPage {
  readonly events: LocalEvent[];
}

/** A version number, as a number or its decimal text. */
export type VersionRef = number | string;
