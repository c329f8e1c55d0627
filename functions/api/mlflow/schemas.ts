/**
 * MLflow Model Registry wire shapes (mlflow/protos/model_registry.proto), as zod schemas.
 *
 * Requests follow the MLflow server's parsing rules: unknown fields are ignored (newer clients
 * send fields older servers do not know), a required field that is absent or empty is answered
 * with MLflow's "Missing value for required parameter 'x'" message, and GET requests carry every
 * field as a string (numbers and booleans too) with repeated keys for lists.
 */
import { z } from 'zod';

const SEE_DOCS = 'See the API docs for more information about request parameters.';

/** MLflow's message for an absent or empty required field (clients and tests match on it). */
export const missingParameter = (field: string) =>
  `Missing value for required parameter '${field}'. ${SEE_DOCS}`;

export const invalidParameter = (field: string, value: unknown) =>
  `Invalid value ${describe(value)} for parameter '${field}' supplied. ${SEE_DOCS}`;

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const typeError = (field: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? missingParameter(field) : invalidParameter(field, issue.input);

/** A required string: absent or '' is "missing", as in MLflow's `_assert_required`. */
const required = (field: string) =>
  z.string({ error: typeError(field) }).refine((v) => v !== '', { error: missingParameter(field) });
const optional = (field: string) => z.string({ error: typeError(field) }).optional();

/**
 * A version number: a string on the wire ("3"); a JSON number is accepted too. Parsed by the
 * operation with the registry's rule (MLflow's "Parameter 'version' must be an integer" message).
 */
const version = z
  .union([z.string(), z.number()], { error: typeError('version') })
  .transform(String)
  .refine((v) => v !== '', { error: missingParameter('version') });

export const tagSchema = z.object({
  key: z.string({ error: typeError('key') }),
  value: z.string({ error: typeError('value') }).optional(),
});
const tags = z.array(tagSchema, { error: typeError('tags') }).optional();

/** A GET list field: repeated query keys (`stages=A&stages=B`) or a JSON array in a POST body. */
const stringList = (field: string) => z.array(z.string(), { error: typeError(field) }).optional();

/** A boolean: JSON true/false in a body, 'true'/'false' in a query string. */
const bool = (field: string) =>
  z
    .union([z.boolean(), z.enum(['true', 'false', 'True', 'False'])], { error: typeError(field) })
    .transform((v) => v === true || v === 'true' || v === 'True')
    .optional();

/** An integer sent as a query string (`max_results=10`); range checks are the operation's. */
const queryInt = (field: string) =>
  z
    .string({ error: typeError(field) })
    .refine((v) => /^-?\d{1,9}$/.test(v.trim()), { error: (i) => invalidParameter(field, i.input) })
    .transform((v) => Number(v.trim()))
    .optional();

// ------------------------------------------------------------------ registered models

export const createRegisteredModel = z.object({
  name: required('name'),
  tags,
  description: optional('description'),
});
export const nameOnly = z.object({ name: required('name') });
export const updateRegisteredModel = z.object({
  name: required('name'),
  description: optional('description'),
});
export const renameRegisteredModel = z.object({ name: required('name'), new_name: required('new_name') });
export const searchRegisteredModels = z.object({
  filter: optional('filter'),
  max_results: queryInt('max_results'),
  order_by: stringList('order_by'),
  page_token: optional('page_token'),
});
export const getLatestVersions = z.object({ name: required('name'), stages: stringList('stages') });
export const setRegisteredModelTag = z.object({
  name: required('name'),
  key: required('key'),
  value: optional('value'),
});
export const deleteRegisteredModelTag = z.object({ name: required('name'), key: required('key') });
export const setAlias = z.object({ name: required('name'), alias: required('alias'), version });
export const aliasOnly = z.object({ name: required('name'), alias: required('alias') });

// ------------------------------------------------------------------ model versions

export const createModelVersion = z.object({
  name: required('name'),
  source: required('source'),
  run_id: optional('run_id'),
  tags,
  run_link: optional('run_link'),
  description: optional('description'),
  model_id: optional('model_id'),
});
export const versionOnly = z.object({ name: required('name'), version });
export const updateModelVersion = z.object({
  name: required('name'),
  version,
  description: optional('description'),
});
export const transitionStage = z.object({
  name: required('name'),
  version,
  stage: required('stage'),
  archive_existing_versions: bool('archive_existing_versions'),
});
export const searchModelVersions = searchRegisteredModels;
export const setModelVersionTag = z.object({
  name: required('name'),
  version,
  key: required('key'),
  value: optional('value'),
});
export const deleteModelVersionTag = z.object({ name: required('name'), version, key: required('key') });

// ------------------------------------------------------------------ transition requests (Databricks)

/** A required boolean (Databricks' ApproveTransitionRequest requires archive_existing_versions). */
const requiredBool = (field: string) =>
  z
    .union([z.boolean(), z.enum(['true', 'false', 'True', 'False'])], { error: typeError(field) })
    .transform((v) => v === true || v === 'true' || v === 'True');

export const createTransitionRequest = z.object({
  name: required('name'),
  version,
  stage: required('stage'),
  comment: optional('comment'),
  /**
   * Not in Databricks' CreateTransitionRequest (it is given at approval there): accepted as an
   * extension so the request can be created with the flag its approval will carry. Default false.
   */
  archive_existing_versions: bool('archive_existing_versions'),
});
export const listTransitionRequests = versionOnly;
export const approveTransitionRequest = z.object({
  name: required('name'),
  version,
  stage: required('stage'),
  archive_existing_versions: requiredBool('archive_existing_versions'),
  comment: optional('comment'),
});
export const rejectTransitionRequest = z.object({
  name: required('name'),
  version,
  stage: required('stage'),
  comment: optional('comment'),
});
export const deleteTransitionRequest = z.object({
  name: required('name'),
  version,
  stage: required('stage'),
  creator: required('creator'),
  comment: optional('comment'),
});

// ------------------------------------------------------------------ responses (documentation)

const keyValue = z.object({ key: z.string(), value: z.string() });

export const modelVersionSchema = z.object({
  name: z.string(),
  version: z.string().describe('The version number as a string ("1").'),
  creation_timestamp: z.number().int().describe('Epoch milliseconds.'),
  last_updated_timestamp: z.number().int().describe('Epoch milliseconds.'),
  current_stage: z.string(),
  description: z.string(),
  source: z.string(),
  run_id: z.string().optional(),
  run_link: z.string().optional(),
  status: z.enum(['PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY']),
  status_message: z.string().optional(),
  tags: z.array(keyValue),
  aliases: z.array(z.string()),
  user_id: z.string(),
  model_id: z.string().optional().describe('MLflow 3: the logged model the version was registered from.'),
  model_params: z
    .array(z.object({ name: z.string(), value: z.string() }))
    .optional()
    .describe("MLflow 3: the version's parameters as ModelParam."),
  model_metrics: z
    .array(
      z.object({
        key: z.string(),
        value: z.number(),
        timestamp: z.number().int(),
        step: z.number().int(),
        model_id: z.string().optional(),
        run_id: z.string().optional(),
        dataset_name: z.string().optional(),
        dataset_digest: z.string().optional(),
      }),
    )
    .optional()
    .describe("MLflow 3: the version's metrics as ModelMetric."),
});

/** A model's latest version in a stage, as a registered model lists it: no description or tags. */
export const modelVersionSummarySchema = modelVersionSchema.omit({
  description: true,
  tags: true,
  model_id: true,
  model_params: true,
  model_metrics: true,
});

export const registeredModelSchema = z.object({
  name: z.string(),
  creation_timestamp: z.number().int(),
  last_updated_timestamp: z.number().int(),
  description: z.string(),
  tags: z.array(keyValue),
  aliases: z.array(z.object({ alias: z.string(), version: z.string() })),
  latest_versions: z.array(modelVersionSummarySchema),
  user_id: z.string(),
});

export const registeredModelResponse = z.object({ registered_model: registeredModelSchema });
export const registeredModelsPage = z.object({
  registered_models: z.array(registeredModelSchema),
  next_page_token: z.string().optional(),
});
export const modelVersionResponse = z.object({ model_version: modelVersionSchema });
export const modelVersionsList = z.object({ model_versions: z.array(modelVersionSchema) });
export const modelVersionsPage = modelVersionsList.extend({ next_page_token: z.string().optional() });
export const downloadUriResponse = z.object({ artifact_uri: z.string() });
export const empty = z.object({});

export const TRANSITION_REQUEST_ACTIONS = [
  'APPROVE_TRANSITION_REQUEST',
  'REJECT_TRANSITION_REQUEST',
  'CANCEL_TRANSITION_REQUEST',
] as const;
export const ACTIVITY_TYPES = [
  'APPLIED_TRANSITION',
  'REQUESTED_TRANSITION',
  'CANCELLED_REQUEST',
  'APPROVED_REQUEST',
  'REJECTED_REQUEST',
  'NEW_COMMENT',
  'SYSTEM_TRANSITION',
] as const;

export const transitionRequestSchema = z.object({
  creation_timestamp: z.number().int().describe('Epoch milliseconds.'),
  to_stage: z.string(),
  user_id: z.string().describe('The requester.'),
  comment: z.string().optional(),
  available_actions: z
    .array(z.enum(TRANSITION_REQUEST_ACTIONS))
    .describe('What the caller may do with the request under the policy (IAM may still refuse).'),
  id: z.string().describe("Extension: the registry's transition request id (tr-...)."),
  status: z.string().describe('Extension: the request status (open requests are PENDING).'),
});
export const activitySchema = z.object({
  activity_type: z.enum(ACTIVITY_TYPES),
  from_stage: z.string(),
  to_stage: z.string(),
  user_id: z.string(),
  creation_timestamp: z.number().int(),
  last_updated_timestamp: z.number().int(),
  comment: z.string().optional(),
  system_comment: z.string().optional(),
});
export const transitionRequestResponse = z.object({ request: transitionRequestSchema });
export const transitionRequestsList = z.object({ requests: z.array(transitionRequestSchema) });
export const activityResponse = z.object({ activity: activitySchema });

// ------------------------------------------------------------------ webhooks (mlflow/protos/webhooks.proto)

/** WebhookEvent: enum names on the wire (`REGISTERED_MODEL`, `CREATED`). */
const webhookEvent = z.object({
  entity: z.string({ error: typeError('entity') }),
  action: z.string({ error: typeError('action') }),
});
const webhookEvents = (field: string) => z.array(webhookEvent, { error: typeError(field) });

export const webhookIdParam = z.object({ webhook_id: z.string() });
export const createWebhook = z.object({
  name: required('name'),
  url: required('url'),
  events: webhookEvents('events'),
  description: optional('description'),
  secret: optional('secret'),
  status: optional('status'),
});
export const listWebhooks = z.object({
  max_results: queryInt('max_results'),
  page_token: optional('page_token'),
});
export const updateWebhook = z.object({
  name: optional('name'),
  description: optional('description'),
  url: optional('url'),
  events: webhookEvents('events').optional(),
  secret: optional('secret'),
  status: optional('status'),
});
export const testWebhook = z.object({ event: webhookEvent.optional() });

const webhookEventSchema = z.object({
  entity: z.enum([
    'REGISTERED_MODEL',
    'MODEL_VERSION',
    'MODEL_VERSION_TAG',
    'MODEL_VERSION_ALIAS',
    'PROMPT',
    'PROMPT_VERSION',
    'PROMPT_TAG',
    'PROMPT_VERSION_TAG',
    'PROMPT_ALIAS',
  ]),
  action: z.enum(['CREATED', 'UPDATED', 'DELETED', 'SET']),
});
export const webhookSchema = z.object({
  webhook_id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  url: z.string(),
  events: z.array(webhookEventSchema),
  status: z.enum(['ACTIVE', 'DISABLED']),
  creation_timestamp: z.number().int(),
  last_updated_timestamp: z.number().int(),
});
export const webhookResponse = z.object({ webhook: webhookSchema });
export const webhooksPage = z.object({
  webhooks: z.array(webhookSchema),
  next_page_token: z.string().optional(),
});
// MLflow's TestWebhook response is the registry's own: one schema for both APIs.
export { webhookTestResponse } from '../schemas';
