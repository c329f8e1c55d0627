/**
 * The registry's events: one versioned detail schema per detail-type. This module is the single
 * source of truth used by the publisher (every write records its event in the same DynamoDB
 * transaction, see docs/events.md), the deployed and local rules (functions/deployment/event-rules.ts)
 * and the documentation (scripts/generate-event-docs.ts).
 *
 * Envelope on EventBridge: `source` = EVENT_SOURCE, `detail-type` = the type below, `detail` =
 * RegistryEventDetail. `detail.event_id` is unique per event and stable across redeliveries:
 * consumers dedupe on it (delivery is at least once).
 */
import { z } from 'zod';
import { type Actor, type Principal, REGISTRY_PRINCIPAL } from './identity';
import { STAGES } from './model';
import { CARD_SECTIONS } from './model-card';

export const EVENT_SOURCE = 'model-registry';
export const EVENT_SCHEMA_VERSION = '1';

const stage = z.enum(STAGES);
/** A change applied through the break-glass routes, bypassing the request flow (with why). */
const breakGlass = {
  break_glass: z.boolean().optional().describe('Applied through a break-glass route, bypassing approval.'),
  break_glass_reason: z.string().optional(),
};
const policyJson = z.record(z.string(), z.unknown());
const versionRef = z.object({ version: z.number().int(), stage, status: z.string() });
/**
 * A webhook as its events record it: never the secret, and of the URL only its origin (a target
 * URL often carries a token in its path or query).
 */
const webhookState = z.object({
  name: z.string(),
  url_origin: z.string().describe('Scheme, host and port of the target URL.'),
  events: z.array(z.string()).describe('MLflow event names, e.g. `model_version.created`.'),
  status: z.enum(['ACTIVE', 'DISABLED']),
  description: z.string(),
  has_secret: z.boolean(),
});
const cardSection = z.enum(CARD_SECTIONS);
const cardSectionChange = z.discriminatedUnion('recorded', [
  z.object({
    section: cardSection,
    recorded: z.literal('values'),
    before: z.unknown().describe('The section before the edit (null: absent).'),
    after: z.unknown().describe('The section after the edit (null: absent).'),
  }),
  z.object({
    section: cardSection,
    recorded: z
      .literal('digests')
      .describe("The values did not fit the event's budget (64 KiB of before and after values)."),
    before_sha256: z
      .string()
      .nullable()
      .describe("SHA-256 (hex) of the section's canonical JSON (object keys sorted) before (null: absent)."),
    after_sha256: z.string().nullable().describe('The same, after the edit.'),
  }),
]);

/** Type-specific fields of each event (`detail.data`). */
export const EVENT_DATA = {
  RegisteredModelCreated: z.object({ description: z.string(), tags: z.record(z.string(), z.string()) }),
  RegisteredModelUpdated: z.object({
    before: z.object({ description: z.string() }),
    after: z.object({ description: z.string() }),
  }),
  RegisteredModelRenamed: z.object({
    before: z.object({ name: z.string() }),
    after: z.object({ name: z.string() }),
  }),
  RegisteredModelDeleted: z.object({ ...breakGlass }),
  RegisteredModelTagSet: z.object({ key: z.string(), before: z.string().nullable(), after: z.string() }),
  RegisteredModelTagDeleted: z.object({ key: z.string(), before: z.string().nullable() }),
  GovernancePolicyChanged: z.object({
    before: policyJson.nullable().describe("The model's override before (null: none)."),
    after: policyJson.nullable().describe("The model's override after (null: none)."),
    request_id: z.string().optional().describe('The approved policy change request it applies.'),
    approved_by: z.array(z.string()).optional(),
  }),
  PolicyChangeRequested: z.object({
    request_id: z.string(),
    before: policyJson.nullable(),
    after: policyJson.nullable(),
    weakenings: z.array(z.string()).describe('How the proposal weakens the policy.'),
    required_approvals: z.number().int(),
    expires_at: z.number().int(),
  }),
  PolicyChangeApproved: z.object({
    request_id: z.string(),
    approvals: z.number().int(),
    required_approvals: z.number().int(),
    comment: z.string().optional(),
  }),
  PolicyChangeClosed: z.object({
    request_id: z.string(),
    status: z.enum(['REJECTED', 'CANCELLED', 'EXPIRED', 'FAILED']),
    reason: z.string().optional(),
  }),
  ModelVersionCreated: versionRef.extend({
    source: z.string(),
    run_id: z.string().optional(),
    metrics: z.record(z.string(), z.number()),
    managed_files: z.number().int(),
    tags: z.record(z.string(), z.string()).optional().describe("The version's tags."),
    description: z.string().optional(),
  }),
  ModelVersionNumberSkipped: z.object({
    latest_in_none: z
      .number()
      .int()
      .nullable()
      .describe('The latest stored version in None the model shows instead (null: none).'),
  }),
  ModelVersionUpdated: z.object({
    before: z.object({ description: z.string() }),
    after: z.object({ description: z.string() }),
  }),
  ModelVersionRegistrationSettled: z.object({
    status: z.enum(['READY', 'FAILED_REGISTRATION']),
    message: z.string(),
    source: z.string().optional().describe("The version's source (its verified files)."),
    run_id: z.string().optional(),
    tags: z.record(z.string(), z.string()).optional(),
    description: z.string().optional(),
  }),
  ModelVersionTagSet: z.object({ key: z.string(), before: z.string().nullable(), after: z.string() }),
  ModelVersionTagDeleted: z.object({ key: z.string(), before: z.string().nullable() }),
  ModelCardUpdated: z.object({
    created: z.boolean().describe('The version had no card before this edit.'),
    changed_sections: z.array(cardSection).describe('The sections whose content changed.'),
    changes: z
      .array(cardSectionChange)
      .describe('Each changed section: its before and after, or their digests beyond the budget.'),
    card_sha256: z.string().describe("SHA-256 (hex) of the card's canonical JSON after the edit."),
    card_bytes: z.number().int().describe('The size of the card after the edit (UTF-8 JSON).'),
  }),
  ModelVersionStageChanged: z.object({
    from_stage: stage,
    to_stage: stage,
    archived_versions: z.array(z.number().int()),
    comment: z.string().optional(),
    request_id: z.string().optional(),
    approved_by: z.array(z.string()).optional().describe('The people who approved the request.'),
    rollback: z.boolean().optional(),
    ...breakGlass,
  }),
  ModelVersionDeleted: z.object({ stage, aliases: z.array(z.string()), ...breakGlass }),
  AliasChanged: z.object({
    alias: z.string(),
    before: z.number().int().nullable(),
    after: z.number().int().nullable(),
    request_id: z.string().optional(),
    approved_by: z.array(z.string()).optional(),
    ...breakGlass,
  }),
  TransitionRequested: z.object({
    request_id: z.string(),
    kind: z.enum(['stage', 'alias']).describe('A stage transition or a protected alias move.'),
    to_stage: stage.optional(),
    from_stage: stage.optional(),
    archive_existing_versions: z.boolean().optional(),
    alias: z.string().optional(),
    previous_version: z.number().int().nullable().optional(),
    comment: z.string().optional(),
    expires_at: z.number().int(),
    approval_timeout_seconds: z.number().int().describe('How long the approval task waits.'),
    required_approvals: z.number().int(),
  }),
  ApprovalRequested: z.object({
    request_id: z.string(),
    to_stage: stage.optional(),
    alias: z.string().optional(),
    requester: z.string().describe('The person who filed the request.'),
    required_approvals: z.number().int(),
    expires_at: z.number().int(),
  }),
  TransitionApproved: z.object({
    request_id: z.string(),
    to_stage: stage.optional(),
    alias: z.string().optional(),
    approvals: z.number().int(),
    required_approvals: z.number().int(),
    comment: z.string().optional(),
  }),
  TransitionRejected: z.object({
    request_id: z.string(),
    to_stage: stage.optional(),
    alias: z.string().optional(),
    reason: z.string(),
    quality_gate_failures: z.array(z.string()).optional(),
  }),
  TransitionCancelled: z.object({
    request_id: z.string(),
    to_stage: stage.optional(),
    alias: z.string().optional(),
    reason: z.string().optional(),
  }),
  TransitionExpired: z.object({
    request_id: z.string(),
    to_stage: stage.optional(),
    alias: z.string().optional(),
  }),
  TransitionFailed: z.object({
    request_id: z.string(),
    to_stage: stage.optional(),
    alias: z.string().optional(),
    reason: z.string(),
  }),
  WebhookCreated: webhookState,
  WebhookUpdated: z.object({
    before: webhookState,
    after: webhookState,
    secret_changed: z
      .boolean()
      .describe('A new signing secret was set (the secret itself is never recorded).'),
  }),
  WebhookDeleted: webhookState,
} as const;

export type EventType = keyof typeof EVENT_DATA;
export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[];

/** The `detail` of every event. */
export const eventDetailSchema = z.object({
  schema_version: z.literal(EVENT_SCHEMA_VERSION),
  event_id: z.string(),
  occurred_at: z.number().int().describe('Epoch ms.'),
  actor: z
    .string()
    .describe('The IAM principal ARN (session included) that made the change, or the registry itself.'),
  person: z
    .string()
    .describe('The person behind `actor` (docs/identity.md): what separation of duties compares.'),
  reason: z.string().optional(),
  model: z
    .object({
      id: z.string(),
      name: z.string(),
      prompt: z
        .literal(true)
        .optional()
        .describe('Set when the model is an MLflow prompt (tagged `mlflow.prompt.is_prompt` = `true`).'),
    })
    .optional()
    .describe('The model the event is about (every event but the webhook events).'),
  webhook: z
    .object({ id: z.string(), name: z.string() })
    .optional()
    .describe('The webhook the event is about (the webhook events, which concern no model).'),
  version: z.number().int().optional(),
  data: z.record(z.string(), z.unknown()),
  truncated: z
    .boolean()
    .optional()
    .describe(
      "Present (true) when parts of the event were left out to keep it under EventBridge's 256 KB entry limit; the full event is in the audit log (GET /models/{name}/audit).",
    ),
  truncated_fields: z
    .array(z.string())
    .optional()
    .describe(
      'The fields emptied to fit (e.g. `data.tags`, `data.description`), each replaced by an empty value of its type.',
    ),
});

export type RegistryEventDetail = z.infer<typeof eventDetailSchema>;

export interface RegistryEvent {
  readonly type: EventType;
  readonly detail: RegistryEventDetail;
}

/** The registry itself, as the actor of the steps it takes (workflow, reconciler, verification). */
export const REGISTRY_ACTOR: Principal = REGISTRY_PRINCIPAL;

let counter = 0;
/** Time-ordered, unique ids: epoch ms in base 36, a counter and randomness. */
export function newEventId(now: number): string {
  counter = (counter + 1) % 1_679_616;
  const random = Array.from({ length: 8 }, () => Math.floor(Math.random() * 36).toString(36)).join('');
  return `${now.toString(36).padStart(9, '0')}${counter.toString(36).padStart(4, '0')}${random}`;
}

/** The tag MLflow's prompt registry marks a prompt with (a registered model tagged so). */
export const PROMPT_TAG = 'mlflow.prompt.is_prompt';

/** Whether a model's tags make it an MLflow prompt. */
export const isPromptModel = (tags: Readonly<Record<string, string>> | undefined) =>
  tags?.[PROMPT_TAG]?.toLowerCase() === 'true';

export function registryEvent<T extends EventType>(
  type: T,
  fields: {
    readonly now: number;
    readonly actor: Actor;
    /** The model (its tags, when given, tell whether it is an MLflow prompt). */
    readonly model: {
      readonly id: string;
      readonly name: string;
      readonly tags?: Readonly<Record<string, string>>;
    };
    readonly version?: number | undefined;
    readonly reason?: string | undefined;
    readonly data: z.input<(typeof EVENT_DATA)[T]>;
  },
): RegistryEvent {
  const data = EVENT_DATA[type].parse(fields.data) as Record<string, unknown>;
  return {
    type,
    detail: {
      ...eventHeader(fields.now, fields.actor),
      ...(fields.reason ? { reason: fields.reason } : {}),
      model: {
        id: fields.model.id,
        name: fields.model.name,
        ...(isPromptModel(fields.model.tags) ? { prompt: true as const } : {}),
      },
      ...(fields.version !== undefined ? { version: fields.version } : {}),
      data,
    },
  };
}

/** What every event's detail starts with: schema, id, time, and who (as recorded and as a person). */
function eventHeader(
  now: number,
  actor: Actor,
): Pick<RegistryEventDetail, 'schema_version' | 'event_id' | 'occurred_at' | 'actor' | 'person'> {
  return {
    schema_version: EVENT_SCHEMA_VERSION,
    event_id: newEventId(now),
    occurred_at: now,
    actor: actor.arn,
    person: actor.person,
  };
}

/** The webhook event types: changes of a webhook (registry-wide, so about no model). */
export type WebhookEventType = Extract<EventType, 'WebhookCreated' | 'WebhookUpdated' | 'WebhookDeleted'>;

export function webhookChangeEvent<T extends WebhookEventType>(
  type: T,
  fields: {
    readonly now: number;
    readonly actor: Actor;
    readonly webhook: { readonly id: string; readonly name: string };
    readonly data: z.input<(typeof EVENT_DATA)[T]>;
  },
): RegistryEvent {
  const data = EVENT_DATA[type].parse(fields.data) as Record<string, unknown>;
  return {
    type,
    detail: {
      ...eventHeader(fields.now, fields.actor),
      webhook: { id: fields.webhook.id, name: fields.webhook.name },
      data,
    },
  };
}
