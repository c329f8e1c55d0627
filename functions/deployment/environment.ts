/**
 * The configuration every function reads at cold start, as one zod schema: the handlers validate
 * with it (functions/handlers/runtime.ts), the function table (functions.ts) names the variables
 * each function receives by its keys, and the CDK construct and the local runtime set exactly
 * those. A renamed or removed variable therefore fails to compile everywhere it is set.
 *
 * Plain module (zod only): lib/ imports it at synth time.
 */
import { z } from 'zod';
import { DEFAULT_DELIVERY_SETTINGS } from '../domain/webhooks';
import { DEFAULT_ARTIFACT_SETTINGS } from '../use-cases/artifacts';
import { DEFAULT_GOVERNANCE_SETTINGS } from '../use-cases/governance';
import { TABLE_NAME_ENV } from './table';

const seconds = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

export const environmentSchema = z.object({
  [TABLE_NAME_ENV]: z.string().min(1),
  /** Only set by the local runtime and tests: the DynamoDB Local endpoint. */
  DYNAMODB_ENDPOINT: z.string().url().optional(),
  /** The artifact bucket (functions that handle registry-managed files). */
  ARTIFACT_BUCKET: z.string().min(1).optional(),
  /** Only set by the local runtime and tests: the local S3 endpoint. */
  S3_ENDPOINT: z.string().url().optional(),
  /** The function that verifies uploaded files (invoked asynchronously by finalize). */
  VERIFY_FUNCTION_NAME: z.string().min(1).optional(),
  UPLOAD_URL_TTL_SECONDS: seconds(DEFAULT_ARTIFACT_SETTINGS.uploadUrlTtlSeconds, 3600),
  DOWNLOAD_URL_TTL_SECONDS: seconds(DEFAULT_ARTIFACT_SETTINGS.downloadUrlTtlSeconds, 12 * 3600),
  MULTIPART_THRESHOLD_BYTES: z.coerce
    .number()
    .int()
    .min(5 * 1024 ** 2)
    .max(5 * 1024 ** 3)
    .default(DEFAULT_ARTIFACT_SETTINGS.multipartThresholdBytes),
  MULTIPART_PART_SIZE_BYTES: z.coerce
    .number()
    .int()
    .min(5 * 1024 ** 2)
    .max(5 * 1024 ** 3)
    .default(DEFAULT_ARTIFACT_SETTINGS.partSizeBytes),
  PENDING_VERSION_TTL_HOURS: z.coerce
    .number()
    .min(1)
    .max(24 * 30)
    .default(24),
  /**
   * The deployment's governance policy: a profile name (`governed`, the default, or `mlflow`), or
   * JSON of policy fields over the governed defaults (docs/governance.md).
   */
  GOVERNANCE_POLICY: z.string().optional(),
  /** Who the deployment trusts to name a person (docs/identity.md): JSON, see parseIdentityTrust. */
  IDENTITY_TRUST: z.string().optional(),
  /** The approval state machine (the functions that start or describe its executions). */
  STATE_MACHINE_ARN: z.string().min(1).optional(),
  /**
   * The secret page tokens are authenticated with (per deployment; at least 16 characters). The
   * construct generates one; the local runtime keeps one in its data directory.
   */
  PAGE_TOKEN_SECRET: z.string().min(16).optional(),
  /**
   * Origins of the deployed console (comma-separated, e.g. `https://d111.cloudfront.net`): API
   * answers to a request from one of them carry its CORS headers (lib/registry-console.ts).
   */
  CORS_ALLOWED_ORIGINS: z.string().optional(),
  /** A request left approved (or without a running workflow) this long is reconciled. */
  RECONCILE_AFTER_SECONDS: seconds(DEFAULT_GOVERNANCE_SETTINGS.reconcileAfterMs / 1000, 24 * 3600),
  /** The bus the relay publishes recorded events to (and the write function replays them to). */
  EVENT_BUS_NAME: z.string().min(1).optional(),
  /** The relay's dead-letter queue, where it sends a record it could not publish, whole. */
  RELAY_DEAD_LETTER_QUEUE_URL: z.string().url().optional(),
  /** Deployed: the KMS key webhook secrets are sealed with (functions that seal or open them). */
  WEBHOOK_KMS_KEY_ID: z.string().min(1).optional(),
  /** Local mode: the AES-256 key (32 bytes, base64url) webhook secrets are sealed with. */
  WEBHOOK_SECRET_KEY: z.string().min(43).optional(),
  /** Local mode only: deliver to private and loopback addresses. */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: z.enum(['true', 'false']).default('false'),
  /** Attempts of a delivery in all; after the last failed one it is DEAD. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(DEFAULT_DELIVERY_SETTINGS.maxAttempts),
  /** The wait after the first failed attempt (it doubles after each, up to WEBHOOK_RETRY_MAX_MS). */
  WEBHOOK_RETRY_BASE_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(3_600_000)
    .default(DEFAULT_DELIVERY_SETTINGS.baseDelayMs),
  WEBHOOK_RETRY_MAX_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(24 * 3_600_000)
    .default(DEFAULT_DELIVERY_SETTINGS.maxDelayMs),
  /** How long one delivery attempt may take (below the API's 29 s: test_webhook waits for it). */
  WEBHOOK_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(25_000)
    .default(DEFAULT_DELIVERY_SETTINGS.timeoutMs),
  /** How long delivery records are kept. */
  WEBHOOK_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(365)
    .default(DEFAULT_DELIVERY_SETTINGS.retentionDays),
  // Read by Powertools and Node themselves, listed so the table can name them like the others.
  POWERTOOLS_SERVICE_NAME: z.string().optional(),
  POWERTOOLS_LOG_LEVEL: z.string().optional(),
  POWERTOOLS_METRICS_NAMESPACE: z.string().optional(),
  NODE_OPTIONS: z.string().optional(),
});

/** The name of a configuration variable. */
export type EnvironmentName = keyof typeof environmentSchema.shape;

/** Configuration as given (strings, or nothing for a default). */
export type Environment = z.input<typeof environmentSchema>;
/** Configuration as the code uses it (numbers coerced, defaults applied). */
export type Settings = z.output<typeof environmentSchema>;

/** Every variable name, in the schema's order. */
export const ENVIRONMENT_NAMES = Object.keys(environmentSchema.shape) as EnvironmentName[];

/**
 * Variables holding a document whose size only the deployer bounds (a governance policy with 50
 * quality gates is ~10 KB): Lambda allows 4 KB of environment in all, so these travel in the
 * function's code asset as `DEPLOYMENT_CONFIG_FILE`, read once at cold start (lib/ writes it,
 * functions/handlers/runtime.ts reads it). Everything else is a name, an ARN or a number.
 */
export const CONFIG_FILE_VARIABLES = [
  'GOVERNANCE_POLICY',
  'IDENTITY_TRUST',
] as const satisfies readonly EnvironmentName[];

/** The file, beside the bundle's index.js, that carries `CONFIG_FILE_VARIABLES`. */
export const DEPLOYMENT_CONFIG_FILE = 'deployment-config.json';

export function isConfigFileVariable(name: EnvironmentName): boolean {
  return (CONFIG_FILE_VARIABLES as readonly string[]).includes(name);
}

export function parseEnvironment(env: Environment | NodeJS.ProcessEnv): Settings {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `Invalid function configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')} (${i.message})`).join(', ')}`,
    );
  }
  return parsed.data;
}
