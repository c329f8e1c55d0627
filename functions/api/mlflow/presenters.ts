/**
 * Registry views to MLflow's wire shapes (model_registry.proto, snake_case): versions as strings,
 * tags as `[{key, value}]`, aliases as `[{alias, version}]` on a registered model and as names on
 * a version, timestamps in epoch ms, the creator as `user_id`. `status` is always present: a
 * missing status decodes as PENDING_REGISTRATION and makes the client poll for five minutes.
 */
import type { z } from 'zod';
import type { RequestTarget, TransitionRequest } from '../../domain/governance';
import type { Principal } from '../../domain/identity';
import { aliasesOf, type RegisteredModel, type VersionSummary } from '../../domain/model';
import { eventRef, type Webhook } from '../../domain/webhooks';
import type { RequestView } from '../../use-cases/governance';
import type { ModelView, VersionView } from '../../use-cases/registry';
import type * as s from './schemas';

/** The wire shape a schema accepts. */
type Wire<S extends z.ZodType> = z.input<S>;

/** A request to move a version to a stage: MLflow's transition requests are only these. */
export type StageTarget = Extract<RequestTarget, { kind: 'stage' }>;
export type StageRequest = TransitionRequest & { readonly target: StageTarget };
export type StageRequestView = RequestView & { readonly request: StageRequest };

export const isStageRequest = (r: TransitionRequest): r is StageRequest => r.target.kind === 'stage';

const tagList = (tags: Readonly<Record<string, string>>) =>
  Object.entries(tags)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value }));

export function mlflowModelVersion({ version: v, aliases }: VersionView): Wire<typeof s.modelVersionSchema> {
  return {
    name: v.name,
    version: String(v.version),
    creation_timestamp: v.creationTimestamp,
    last_updated_timestamp: v.lastUpdatedTimestamp,
    current_stage: v.stage,
    description: v.description,
    source: v.source,
    ...(v.runId ? { run_id: v.runId } : {}),
    ...(v.runLink ? { run_link: v.runLink } : {}),
    // The registry's statuses are MLflow's ModelVersionStatus names.
    status: v.status,
    ...(v.statusMessage ? { status_message: v.statusMessage } : {}),
    tags: tagList(v.tags),
    aliases: [...aliases],
    user_id: v.createdBy,
    ...(v.loggedModelId ? { model_id: v.loggedModelId } : {}),
    // MLflow 3 returns the logged model's parameters and metrics; the registry's are the version's
    // lineage, in MLflow's ModelParam and ModelMetric shapes.
    ...(Object.keys(v.parameters).length
      ? {
          model_params: Object.entries(v.parameters)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([name, value]) => ({ name, value })),
        }
      : {}),
    ...(Object.keys(v.metrics).length
      ? {
          model_metrics: Object.entries(v.metrics)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([key, value]) => ({
              key,
              value,
              timestamp: v.creationTimestamp,
              step: 0,
              ...(v.loggedModelId ? { model_id: v.loggedModelId } : {}),
              ...(v.runId ? { run_id: v.runId } : {}),
              ...(v.dataset?.name ? { dataset_name: v.dataset.name } : {}),
              ...(v.dataset?.digest ? { dataset_digest: v.dataset.digest } : {}),
            })),
        }
      : {}),
  };
}

/** A model's latest version in a stage, as its summary gives it (no description or tags). */
export function mlflowVersionSummary(
  model: RegisteredModel,
  v: VersionSummary,
): Wire<typeof s.modelVersionSummarySchema> {
  return {
    name: model.name,
    version: String(v.version),
    creation_timestamp: v.creationTimestamp,
    last_updated_timestamp: v.lastUpdatedTimestamp,
    current_stage: v.stage,
    source: v.source,
    ...(v.runId ? { run_id: v.runId } : {}),
    ...(v.runLink ? { run_link: v.runLink } : {}),
    status: v.status,
    ...(v.statusMessage ? { status_message: v.statusMessage } : {}),
    aliases: aliasesOf(model, v.version),
    user_id: v.createdBy,
  };
}

export function mlflowRegisteredModel({
  model,
  activity,
  latestVersions,
}: ModelView): Wire<typeof s.registeredModelSchema> {
  return {
    name: model.name,
    creation_timestamp: model.creationTimestamp,
    last_updated_timestamp: activity.lastUpdatedTimestamp,
    description: model.description,
    tags: tagList(model.tags),
    aliases: Object.entries(model.aliases)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([alias, version]) => ({ alias, version: String(version) })),
    latest_versions: latestVersions.map((v) => mlflowVersionSummary(model, v)),
    user_id: model.createdBy,
  };
}

/** MLflow's `[{key, value}]` tags to the registry's map (a repeated key: the last one wins). */
export function tagMap(tags: readonly { key: string; value?: string | undefined }[] | undefined) {
  // No prototype: a tag named `__proto__` is just a tag.
  const out: Record<string, string> = Object.create(null);
  for (const t of tags ?? []) out[t.key] = t.value ?? '';
  return out;
}

/**
 * A governance transition request as Databricks' TransitionRequest, with the registry's `id` and
 * `status` as extra fields (the client ignores unknown fields). `available_actions` says what the
 * caller may do under the request's policy (separation of duties by person, one approval each);
 * IAM decides whether the caller may call the decision routes at all.
 */
export function mlflowTransitionRequest(
  view: StageRequestView,
  caller: Principal,
): Wire<typeof s.transitionRequestSchema> {
  const r = view.request;
  const actions: (
    | 'APPROVE_TRANSITION_REQUEST'
    | 'REJECT_TRANSITION_REQUEST'
    | 'CANCEL_TRANSITION_REQUEST'
  )[] = [];
  if (r.status === 'PENDING') {
    const isRequester = caller.person === r.requester.person;
    const approved = r.approvals.some((a) => a.person === caller.person);
    if ((!isRequester || view.requesterMayApprove) && !approved) actions.push('APPROVE_TRANSITION_REQUEST');
    actions.push('REJECT_TRANSITION_REQUEST');
    if (isRequester) actions.push('CANCEL_TRANSITION_REQUEST');
  }
  return {
    creation_timestamp: r.createdAt,
    to_stage: r.target.toStage,
    user_id: r.requester.arn,
    ...(r.comment ? { comment: r.comment } : {}),
    available_actions: actions,
    id: r.id,
    status: r.status,
  };
}

export type ActivityType = 'APPROVED_REQUEST' | 'REJECTED_REQUEST' | 'CANCELLED_REQUEST';

/** One decision on a transition request as Databricks' Activity. */
export function mlflowActivity(
  type: ActivityType,
  target: StageTarget,
  user: string,
  at: number,
  comment: string | undefined,
  systemComment?: string,
): Wire<typeof s.activitySchema> {
  return {
    activity_type: type,
    from_stage: target.fromStage,
    to_stage: target.toStage,
    user_id: user,
    creation_timestamp: at,
    last_updated_timestamp: at,
    ...(comment ? { comment } : {}),
    ...(systemComment ? { system_comment: systemComment } : {}),
  };
}

/** A webhook as MLflow's Webhook message (enum names upper case; no secret, ever). */
/** `toUpperCase` with its type: the standard library types it as returning any string. */
const upper = <S extends string>(value: S) => value.toUpperCase() as Uppercase<S>;

export function mlflowWebhook(w: Webhook): Wire<typeof s.webhookSchema> {
  return {
    webhook_id: w.id,
    name: w.name,
    ...(w.description ? { description: w.description } : {}),
    url: w.url,
    events: w.events.map((name) => {
      const { entity, action } = eventRef(name);
      return { entity: upper(entity), action: upper(action) };
    }),
    status: w.status,
    creation_timestamp: w.creationTimestamp,
    last_updated_timestamp: w.lastUpdatedTimestamp,
  };
}
