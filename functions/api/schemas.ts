/**
 * The API's wire shapes, as zod schemas. Requests are validated against them at the edge; the
 * OpenAPI document (docs/openapi.json) is generated from the same schemas; the SDK's types are
 * inferred from them.
 */
import { z } from 'zod';
import { policyWireSchema } from '../domain/governance';
import { STAGES } from '../domain/model';
import { modelCardSchema } from '../domain/model-card';

const stringMap = (what: string) => z.record(z.string(), z.string()).describe(what);

export const stageSchema = z.string().describe(`One of ${STAGES.join(', ')} (case-insensitive).`);

export const datasetSchema = z
  .object({
    name: z.string().max(1024).optional(),
    digest: z.string().max(1024).optional().describe('Content hash of the training data, e.g. sha256:…'),
    uri: z.string().max(1024).optional(),
  })
  .strict();

export const artifactFileSchema = z.object({
  path: z.string(),
  size: z.number().int(),
  sha256: z.string(),
});

export const presignedPartSchema = z.object({ part_number: z.number().int(), url: z.string() });

/** How to upload one declared file: one presigned PUT, or presigned multipart parts. */
export const uploadInstructionSchema = z.object({
  path: z.string(),
  size: z.number().int(),
  method: z.enum(['PUT', 'MULTIPART']),
  url: z.string().optional().describe('PUT: the presigned URL.'),
  headers: z
    .record(z.string(), z.string())
    .describe('PUT: headers to send exactly as given (they are signed: write-once, size, SHA-256).'),
  upload_id: z.string().optional(),
  part_size: z
    .number()
    .int()
    .optional()
    .describe('MULTIPART: bytes per part (the last part may be smaller).'),
  part_count: z.number().int().optional(),
  parts: z
    .array(presignedPartSchema)
    .optional()
    .describe('MULTIPART: presigned URLs of some parts; ask the upload-urls route for the others.'),
});

export const uploadSchema = z.object({
  expires_at: z.number().int().describe('Epoch ms when these URLs stop working.'),
  files: z.array(uploadInstructionSchema),
});

export const modelVersionSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  source: z.string(),
  run_id: z.string().optional(),
  run_link: z.string().optional(),
  model_id: z
    .string()
    .optional()
    .describe('The MLflow 3 logged model the version was registered from (m-<id>).'),
  dataset: datasetSchema.optional(),
  parameters: stringMap('Training parameters.'),
  metrics: z.record(z.string(), z.number()).describe('Evaluation metrics.'),
  description: z.string(),
  tags: stringMap('Tags.'),
  status: z.enum(['PENDING_REGISTRATION', 'READY', 'FAILED_REGISTRATION']),
  status_message: z.string().optional(),
  files: z.array(artifactFileSchema).optional().describe('Registry-managed files (manifest).'),
  current_stage: z.enum(STAGES),
  aliases: z.array(z.string()),
  created_by: z.string(),
  creation_timestamp: z.number().int().describe('Epoch milliseconds.'),
  last_updated_timestamp: z.number().int().describe('Epoch milliseconds.'),
  // On GET /models/{name}/versions/{version} only, when the version has a card (pages and searches
  // leave it out). Not described here: a description would inline the card's schema everywhere.
  model_card: modelCardSchema.optional(),
});

/** A model's latest version in a stage: a summary (no description, tags, lineage or files). */
export const versionSummarySchema = modelVersionSchema
  .pick({
    name: true,
    version: true,
    source: true,
    run_id: true,
    run_link: true,
    status: true,
    status_message: true,
    current_stage: true,
    aliases: true,
    created_by: true,
    creation_timestamp: true,
    last_updated_timestamp: true,
  })
  .describe('A summary of the version: get the version for its description, tags, lineage and files.');

export const registeredModelSchema = z.object({
  name: z.string(),
  description: z.string(),
  tags: stringMap('Tags.'),
  aliases: z.record(z.string(), z.number().int()).describe('Alias to version number.'),
  created_by: z.string(),
  creation_timestamp: z.number().int(),
  last_updated_timestamp: z.number().int(),
  latest_versions: z.array(versionSummarySchema).describe('The highest version in each stage.'),
});

export const transitionSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  from_stage: z.enum(STAGES),
  to_stage: z.enum(STAGES),
  actor: z.string(),
  timestamp: z.number().int(),
  comment: z.string().optional(),
  caused_by: z.object({ version: z.number().int(), to_stage: z.enum(STAGES) }).optional(),
  request_id: z.string().optional().describe('The approved request this transition applied.'),
  approved_by: z.array(z.string()).optional().describe('The people who approved it.'),
  rollback: z.boolean().optional(),
  break_glass: z.boolean().optional().describe('Applied through a break-glass route, bypassing approval.'),
  break_glass_reason: z.string().optional(),
});

export const errorSchema = z.object({
  error_code: z.string().describe('Stable, machine-readable code.'),
  message: z.string().describe('What went wrong and how to fix it.'),
});

const tags = z.record(z.string(), z.string()).optional();
const maxResults = (max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,7}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .optional()
    .transform((v) => v ?? fallback);
const versionParam = z.string().describe('Version number (1, 2, …).');

// ------------------------------------------------------------------ request schemas

export const nameParam = z.object({ name: z.string() }).strict();
export const versionParams = z.object({ name: z.string(), version: versionParam }).strict();
export const aliasParams = z.object({ name: z.string(), alias: z.string() }).strict();

export const createModelBody = z
  .object({ name: z.string(), description: z.string().optional(), tags })
  .strict();
export const updateModelBody = z.object({ description: z.string() }).strict();
export const renameModelBody = z.object({ new_name: z.string() }).strict();
export const setTagBody = z.object({ key: z.string(), value: z.string() }).strict();
export const tagKeyQuery = z.object({ key: z.string() }).strict();
const versionInput = z.union([z.number().int(), z.string()]);
export const setAliasBody = z.object({ version: versionInput }).strict();

export const declaredFileSchema = z
  .object({
    path: z.string().describe("Relative path inside the model, e.g. 'model.pkl' or 'weights/part-0.bin'."),
    size: z.number().int().nonnegative().describe('Size in bytes.'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters')
      .describe('SHA-256 of the content, lowercase hex.'),
  })
  .strict();

export const createVersionBody = z
  .object({
    source: z
      .string()
      .optional()
      .describe('Where the model lives: s3://…, runs:/…, models:/name/3, … Omit when uploading files.'),
    files: z
      .array(declaredFileSchema)
      .min(1)
      .max(1000)
      .optional()
      .describe(
        'Files to upload into registry-managed storage; the response carries presigned upload instructions.',
      ),
    run_id: z.string().max(256).optional(),
    run_link: z.string().max(2048).optional(),
    model_id: z
      .string()
      .max(256)
      .optional()
      .describe('The MLflow 3 logged model the version comes from (m-<id>), as MLflow records it.'),
    dataset: datasetSchema.optional(),
    parameters: z.record(z.string(), z.string()).optional(),
    metrics: z.record(z.string(), z.number()).optional(),
    description: z.string().optional(),
    tags,
    client_token: z
      .string()
      .regex(/^[\w-]{1,64}$/, 'must be 1-64 letters, digits, _ or -')
      .optional()
      .describe('Idempotency token: a retry with the same token returns the version the first call created.'),
  })
  .strict();
export const updateVersionBody = z.object({ description: z.string() }).strict();
/** The whole card: it replaces the stored one (sections left out are removed). */
export const putModelCardBody = z.object({ model_card: modelCardSchema }).strict();
export const transitionBody = z
  .object({
    stage: stageSchema,
    archive_existing_versions: z.boolean().optional(),
    comment: z.string().max(5000).optional(),
  })
  .strict();

export const searchModelsQuery = z
  .object({
    filter: z.string().optional(),
    order_by: z.array(z.string()).optional(),
    max_results: maxResults(1000, 100),
    page_token: z.string().optional(),
  })
  .strict();
export const searchVersionsQuery = z
  .object({
    filter: z.string().optional(),
    order_by: z.array(z.string()).optional(),
    max_results: maxResults(10_000, 200),
    page_token: z.string().optional(),
  })
  .strict();
export const listVersionsQuery = z
  .object({
    order_by: z.array(z.string()).optional(),
    max_results: maxResults(10_000, 200),
    page_token: z.string().optional(),
  })
  .strict();
export const latestVersionsQuery = z.object({ stages: z.array(stageSchema).optional() }).strict();
export const transitionsQuery = z
  .object({
    version: versionParam.optional(),
    max_results: maxResults(1000, 100),
    page_token: z.string().optional(),
  })
  .strict();

// ------------------------------------------------------------------ responses

export const modelResponse = z.object({ registered_model: registeredModelSchema });
export const versionResponse = z.object({ model_version: modelVersionSchema });
export const modelCardResponse = z.object({ model_card: modelCardSchema });
export const createVersionResponse = z.object({
  model_version: modelVersionSchema,
  upload: uploadSchema.optional().describe('Present when files were declared.'),
});
export const uploadUrlsBody = z
  .object({
    files: z
      .array(
        z
          .object({
            path: z.string(),
            part_numbers: z.array(z.number().int()).max(1000).optional().describe('MULTIPART: which parts.'),
          })
          .strict(),
      )
      .max(1000)
      .optional()
      .describe(
        'Files (and parts) to presign; default: every file, and the first parts of each multipart file.',
      ),
  })
  .strict();
export const uploadResponse = z.object({ model_version: modelVersionSchema, upload: uploadSchema });
export const finalizeBody = z
  .object({
    parts: z
      .record(
        z.string(),
        z
          .array(
            z
              .object({ part_number: z.number().int().min(1).max(10_000), etag: z.string().max(256) })
              .strict(),
          )
          .max(10_000),
      )
      .optional()
      .describe('MULTIPART files: path → the ETag S3 returned for each part.'),
  })
  .strict();
export const downloadSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  source: z.string(),
  expires_at: z.number().int(),
  files: z.array(artifactFileSchema.extend({ url: z.string() })),
});
export const downloadResponse = z.object({ model_version: modelVersionSchema, download: downloadSchema });
export const resolveQuery = z
  .object({
    uri: z
      .string()
      .describe('models:/name/3, models:/name/Production, models:/name@alias, models:/name/latest'),
  })
  .strict();
export const modelsPage = z.object({
  registered_models: z.array(registeredModelSchema),
  next_page_token: z.string().optional(),
});
export const versionsPage = z.object({
  model_versions: z.array(modelVersionSchema),
  next_page_token: z.string().optional(),
});
export const versionsList = z.object({ model_versions: z.array(modelVersionSchema) });
export const transitionsPage = z.object({
  transitions: z.array(transitionSchema),
  next_page_token: z.string().optional(),
});
export const emptyResponse = z.object({});
/** GET /openapi.json answers the document itself (not an empty object). */
export const openApiDocumentResponse = z
  .looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .describe('This API as an OpenAPI 3.1 document (the same as docs/openapi.json).');

// ------------------------------------------------------------------ governance

export const requestStatusSchema = z.enum([
  'PENDING',
  'APPROVED',
  'REJECTED',
  'EXPIRED',
  'CANCELLED',
  'APPLIED',
  'FAILED',
]);

const approvalSchema = z.object({
  principal: z.string().describe('The IAM principal ARN that approved (session included).'),
  person: z.string().describe('The person it counts as (docs/identity.md).'),
  timestamp: z.number().int(),
  comment: z.string().optional(),
});

export const transitionRequestSchema = z.object({
  id: z.string(),
  name: z.string().describe("The model's current name (requests follow renames)."),
  version: z.number().int(),
  kind: z
    .enum(['stage', 'alias'])
    .describe('A transition into a guarded stage, or a move of a protected alias onto the version.'),
  from_stage: z.enum(STAGES).optional().describe('kind=stage: the stage the version was in when filed.'),
  to_stage: z.enum(STAGES).optional().describe('kind=stage: the stage it moves to.'),
  archive_existing_versions: z.boolean().optional(),
  alias: z.string().optional().describe('kind=alias: the protected alias.'),
  previous_version: z
    .number()
    .int()
    .nullable()
    .optional()
    .describe('kind=alias: where the alias pointed when filed (null: nowhere).'),
  requester: z.string().describe('The IAM principal ARN that filed the request.'),
  requester_person: z.string().describe('The person who filed it (docs/identity.md).'),
  comment: z.string().optional(),
  status: requestStatusSchema,
  reason: z.string().optional(),
  approvals: z.array(approvalSchema),
  required_approvals: z
    .number()
    .int()
    .describe('Judged by the stricter of the policy it was filed under and the current one.'),
  awaiting_approval: z
    .boolean()
    .describe('PENDING, the quality gates passed and the approval task is waiting.'),
  creation_timestamp: z.number().int(),
  last_updated_timestamp: z.number().int(),
  expiration_timestamp: z.number().int(),
});
export const transitionRequestResponse = z.object({ transition_request: transitionRequestSchema });
export const transitionOutcomeResponse = z.object({
  model_version: modelVersionSchema.optional().describe('Present when the transition applied at once.'),
  transition_request: transitionRequestSchema
    .optional()
    .describe('Present (with HTTP 202) when the target stage is guarded: the transition waits for approval.'),
});
export const aliasOutcomeResponse = z.object({
  transition_request: transitionRequestSchema
    .optional()
    .describe('Present (with HTTP 202) when the alias is protected: the move waits for approval.'),
});
export const requestParams = z.object({ name: z.string(), request_id: z.string() }).strict();
export const requestsQuery = z
  .object({
    status: requestStatusSchema.optional(),
    version: versionParam.optional(),
    max_results: maxResults(1000, 100),
    page_token: z.string().optional(),
  })
  .strict();
export const requestsPage = z.object({
  transition_requests: z.array(transitionRequestSchema),
  next_page_token: z.string().optional(),
});
export const inboxQuery = z
  .object({
    status: z.enum(['PENDING', 'APPROVED']).optional().describe('Default: both open statuses.'),
    max_results: maxResults(1000, 100),
    page_token: z.string().optional(),
  })
  .strict();
export const approveBody = z.object({ comment: z.string().optional() }).strict();
export const rejectBody = z.object({ reason: z.string().min(1) }).strict();
export const cancelBody = z.object({ reason: z.string().optional() }).strict();
export const rollbackBody = z.object({ comment: z.string().optional() }).strict();

export const policySchema = policyWireSchema;
export const policyResponse = z.object({
  effective: policySchema.describe("The deployment's policy with this model's overrides applied."),
  override: policySchema.partial().optional().describe("This model's overrides."),
});
export const setPolicyBody = z
  .object({
    policy: z
      .unknown()
      .describe(
        'Fields of the policy to override for this model (snake_case as in the response; at least one). Remove every override with DELETE.',
      ),
    comment: z.string().optional().describe('Why (recorded in the audit log).'),
  })
  .strict();
export const deletePolicyQuery = z.object({ comment: z.string().optional() }).strict();
export const policyChangeRequestSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: requestStatusSchema,
  reason: z.string().optional(),
  requester: z.string(),
  requester_person: z.string(),
  comment: z.string().optional(),
  approvals: z.array(approvalSchema),
  before: policySchema.partial().nullable().describe("The model's overrides when filed (null: none)."),
  after: policySchema.partial().nullable().describe('The overrides it proposes (null: none).'),
  weakenings: z.array(z.string()).describe('How the proposal weakens the policy.'),
  required_approvals: z.number().int(),
  creation_timestamp: z.number().int(),
  last_updated_timestamp: z.number().int(),
  expiration_timestamp: z.number().int(),
});
export const policyChangeOutcomeResponse = policyResponse.partial().extend({
  policy_request: policyChangeRequestSchema
    .optional()
    .describe('Present (with HTTP 202) when the change weakens the policy: it waits for approval.'),
});
export const policyRequestResponse = z.object({ policy_request: policyChangeRequestSchema });
export const policyRequestsQuery = z
  .object({
    status: requestStatusSchema.optional(),
    max_results: maxResults(1000, 100),
    page_token: z.string().optional(),
  })
  .strict();
export const policyRequestsPage = z.object({
  policy_requests: z.array(policyChangeRequestSchema),
  next_page_token: z.string().optional(),
});

const breakGlassReason = z
  .string()
  .min(1)
  .describe('Why the request flow could not be used (required; recorded in the audit log).');
export const breakGlassStageBody = z
  .object({
    stage: stageSchema,
    archive_existing_versions: z.boolean().optional(),
    comment: z.string().optional(),
    reason: breakGlassReason,
  })
  .strict();
export const breakGlassAliasBody = z.object({ version: versionInput, reason: breakGlassReason }).strict();
export const breakGlassQuery = z.object({ reason: breakGlassReason }).strict();

export const auditEntrySchema = z.object({
  event_type: z.string(),
  event_id: z.string(),
  timestamp: z.number().int(),
  actor: z.string().describe('The IAM principal ARN (session included), or the registry itself.'),
  person: z.string().describe('The person behind the actor (docs/identity.md).'),
  reason: z.string().optional(),
  model: z.object({ id: z.string(), name: z.string() }),
  version: z.number().int().optional(),
  data: z
    .record(z.string(), z.unknown())
    .describe('What changed: before/after values and the details of the event.'),
});
export const auditQuery = z
  .object({
    version: versionParam.optional(),
    max_results: maxResults(1000, 100),
    page_token: z.string().optional(),
  })
  .strict();
export const auditPage = z.object({
  entries: z.array(auditEntrySchema),
  next_page_token: z.string().optional(),
});
const epochMs = z.number().int().nonnegative().max(8_640_000_000_000_000);
export const replayEventsBody = z
  .object({
    from: epochMs.describe('Start of the range (epoch ms, inclusive).'),
    to: epochMs.describe('End of the range (epoch ms, exclusive).'),
    model_name: z.string().min(1).max(1000).optional().describe("Only this model's events."),
    model_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("Only this model id's events (a deleted or renamed model's too)."),
    dry_run: z.boolean().default(false).describe('List what would be published; publish nothing.'),
    page_token: z.string().optional().describe('The next_page_token of the previous call.'),
  })
  .strict();
export const replayEventsResponse = z.object({
  events: z
    .array(
      z.object({
        event_id: z.string(),
        event_type: z.string(),
        occurred_at: z.number().int(),
        model: z
          .object({ id: z.string(), name: z.string() })
          .optional()
          .describe('Absent for an event about no model (a webhook change).'),
        version: z.number().int().optional(),
      }),
    )
    .describe('The events of this page, oldest first, each with its original event_id.'),
  published: z.number().int().describe('How many were published (0 for a dry run).'),
  dry_run: z.boolean(),
  next_page_token: z.string().optional().describe('More of the range is left: call again with this token.'),
});
export const stageHistoryQuery = z
  .object({
    stage: stageSchema,
    at: z.coerce.number().int().nonnegative().describe('Epoch ms.'),
  })
  .strict();
export const stageHistoryResponse = z.object({
  stage: z.enum(STAGES),
  at: z.number().int(),
  versions: z.array(z.number().int()).describe('The versions that were in the stage at that moment.'),
});

// ------------------------------------------------------------------ webhooks

const webhookEventName = z
  .string()
  .describe(
    'An MLflow webhook event, `entity.action`: `model_version.created`, `model_version_alias.created`, …',
  );
const webhookStatus = z.string().describe('ACTIVE or DISABLED (case-insensitive).');

export const webhookParams = z.object({ webhook_id: z.string() }).strict();
export const deliveryParams = z.object({ webhook_id: z.string(), delivery_id: z.string() }).strict();

export const createWebhookBody = z
  .object({
    name: z
      .string()
      .describe('1-63 letters, digits, `.`, `_`, `-`, starting and ending with a letter or digit.'),
    url: z.string().describe('http(s) URL the deliveries are POSTed to (a public address, deployed).'),
    events: z.array(webhookEventName),
    description: z.string().optional(),
    secret: z
      .string()
      .optional()
      .describe('Signs every delivery (X-MLflow-Signature); stored encrypted and never returned.'),
    status: webhookStatus.optional(),
  })
  .strict();
export const updateWebhookBody = z
  .object({
    name: z.string().optional(),
    url: z.string().optional(),
    events: z.array(webhookEventName).optional(),
    description: z.string().optional(),
    secret: z.string().optional().describe('A new secret (absent or empty: unchanged).'),
    status: webhookStatus.optional(),
  })
  .strict()
  .describe("MLflow's update: an absent or empty field stays as it is.");
export const testWebhookBody = z
  .object({
    event: webhookEventName
      .optional()
      .describe("The event whose example payload is sent (default: the webhook's first)."),
  })
  .strict();
export const webhooksQuery = z
  .object({ max_results: maxResults(1000, 100), page_token: z.string().optional() })
  .strict();

export const webhookSchema = z.object({
  webhook_id: z.string(),
  name: z.string(),
  description: z.string(),
  url: z.string(),
  events: z.array(webhookEventName),
  status: z.enum(['ACTIVE', 'DISABLED']),
  has_secret: z.boolean().describe('Deliveries are signed (the secret itself is never returned).'),
  creation_timestamp: z.number().int(),
  last_updated_timestamp: z.number().int(),
  created_by: z.string(),
});
export const webhookResponse = z.object({ webhook: webhookSchema });
export const webhooksPage = z.object({
  webhooks: z.array(webhookSchema),
  next_page_token: z.string().optional(),
});
export const webhookTestResponse = z.object({
  result: z.object({
    success: z.boolean(),
    response_status: z.number().int().optional(),
    response_body: z.string().optional(),
    error_message: z.string().optional(),
  }),
});

export const deliverySchema = z.object({
  delivery_id: z.string().describe('The X-MLflow-Delivery-Id every attempt of this delivery sends.'),
  webhook_id: z.string(),
  event: webhookEventName,
  event_id: z.string().describe('The registry event delivered (`detail.event_id`, docs/events.md).'),
  event_type: z.string(),
  status: z
    .enum(['PENDING', 'SUCCEEDED', 'FAILED', 'DEAD'])
    .describe('FAILED: another attempt is scheduled; DEAD: no more automatic attempts (redeliver it).'),
  attempts: z.number().int(),
  next_attempt_timestamp: z.number().int().optional(),
  last_attempt_timestamp: z.number().int().optional(),
  last_response_status: z.number().int().optional(),
  last_error: z.string().optional(),
  creation_timestamp: z.number().int(),
  last_updated_timestamp: z.number().int(),
  payload: z.record(z.string(), z.unknown()).describe('The body every attempt POSTs, parsed.'),
});
export const deliveriesPage = z.object({
  deliveries: z.array(deliverySchema),
  next_page_token: z.string().optional(),
});
export const deliveryResponse = z.object({ delivery: deliverySchema });
