/**
 * The API's wire shapes, as zod schemas. Requests are validated against them at the edge; the
 * OpenAPI document (docs/openapi.json) is generated from the same schemas; the SDK's types are
 * inferred from them.
 */
import { z } from 'zod';
import { STAGES } from '../domain/model';

const stringMap = (what: string) => z.record(z.string(), z.string()).describe(what);

export const stageSchema = z.string().describe(`One of ${STAGES.join(', ')} (case-insensitive).`);

export const datasetSchema = z
  .object({
    name: z.string().max(1024).optional(),
    digest: z.string().max(1024).optional().describe('Content hash of the training data, e.g. sha256:…'),
    uri: z.string().max(1024).optional(),
  })
  .strict();

export const modelVersionSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  source: z.string(),
  run_id: z.string().optional(),
  run_link: z.string().optional(),
  dataset: datasetSchema.optional(),
  parameters: stringMap('Training parameters.'),
  metrics: z.record(z.string(), z.number()).describe('Evaluation metrics.'),
  description: z.string(),
  tags: stringMap('Tags.'),
  status: z.enum(['PENDING_REGISTRATION', 'READY', 'FAILED_REGISTRATION']),
  status_message: z.string().optional(),
  current_stage: z.enum(STAGES),
  aliases: z.array(z.string()),
  created_by: z.string(),
  creation_timestamp: z.number().int().describe('Epoch milliseconds.'),
  last_updated_timestamp: z.number().int().describe('Epoch milliseconds.'),
});

export const registeredModelSchema = z.object({
  name: z.string(),
  description: z.string(),
  tags: stringMap('Tags.'),
  aliases: z.record(z.string(), z.number().int()).describe('Alias to version number.'),
  created_by: z.string(),
  creation_timestamp: z.number().int(),
  last_updated_timestamp: z.number().int(),
  latest_versions: z.array(modelVersionSchema).describe('The highest version in each stage.'),
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
export const setAliasBody = z.object({ version: z.union([z.number().int(), z.string()]) }).strict();

export const createVersionBody = z
  .object({
    source: z.string().describe('Where the model lives: s3://…, runs:/…, models:/name/3, …'),
    run_id: z.string().max(256).optional(),
    run_link: z.string().max(2048).optional(),
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
