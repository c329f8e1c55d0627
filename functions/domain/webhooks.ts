/**
 * Webhooks, as MLflow 3 defines them (mlflow/entities/webhook.py, mlflow/webhooks/): a registry-wide
 * subscription of a URL to MLflow event names (`model_version.created`, …), signed with an optional
 * secret, and the registry's own delivery rules on top: every delivery is recorded, retried with
 * backoff and dead-lettered after its last attempt (MLflow tries once, from a thread).
 *
 * Plain data and pure functions (node:crypto only): the use cases (functions/use-cases/webhooks.ts)
 * store, send and schedule with them.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidParameterError } from './errors';
import type { EventType, RegistryEvent } from './events';

// ---------------------------------------------------------------- events

/** MLflow's webhook entities (WebhookEntity), as their lowercase wire values. */
export const WEBHOOK_ENTITIES = [
  'registered_model',
  'model_version',
  'model_version_tag',
  'model_version_alias',
  'prompt',
  'prompt_version',
  'prompt_tag',
  'prompt_version_tag',
  'prompt_alias',
] as const;
export type WebhookEntity = (typeof WEBHOOK_ENTITIES)[number];

export const WEBHOOK_ACTIONS = ['created', 'updated', 'deleted', 'set'] as const;
export type WebhookAction = (typeof WEBHOOK_ACTIONS)[number];

/** The actions each entity has (MLflow's VALID_ENTITY_ACTIONS). */
export const VALID_ENTITY_ACTIONS = {
  registered_model: ['created'],
  model_version: ['created'],
  model_version_tag: ['set', 'deleted'],
  model_version_alias: ['created', 'deleted'],
  prompt: ['created'],
  prompt_version: ['created'],
  prompt_tag: ['set', 'deleted'],
  prompt_version_tag: ['set', 'deleted'],
  prompt_alias: ['created', 'deleted'],
} as const satisfies Record<WebhookEntity, readonly WebhookAction[]>;

/** An event name as MLflow writes it: `entity.action`, for the valid pairs only. */
export type WebhookEventName = {
  [E in WebhookEntity]: `${E}.${(typeof VALID_ENTITY_ACTIONS)[E][number]}`;
}[WebhookEntity];

export const WEBHOOK_EVENT_NAMES: readonly WebhookEventName[] = WEBHOOK_ENTITIES.flatMap((entity) =>
  (VALID_ENTITY_ACTIONS[entity] as readonly WebhookAction[]).map(
    (action) => `${entity}.${action}` as WebhookEventName,
  ),
);

export interface WebhookEventRef {
  readonly entity: WebhookEntity;
  readonly action: WebhookAction;
}

export function eventRef(name: WebhookEventName): WebhookEventRef {
  const [entity, action] = name.split('.') as [WebhookEntity, WebhookAction];
  return { entity, action };
}

/**
 * Parses an entity/action pair, in either spelling MLflow uses (`REGISTERED_MODEL` on the wire,
 * `registered_model` in event names), with MLflow's messages.
 */
export function parseWebhookEvent(entity: string, action: string): WebhookEventName {
  const e = entity.toLowerCase().replace(/^entity_/, '') as WebhookEntity;
  const a = action.toLowerCase().replace(/^action_/, '') as WebhookAction;
  if (!WEBHOOK_ENTITIES.includes(e)) {
    throw new InvalidParameterError(
      `Invalid webhook event entity '${entity}'. Valid entities are: ${WEBHOOK_ENTITIES.map((x) => `'${x}'`).join(', ')}.`,
    );
  }
  const valid: readonly WebhookAction[] = VALID_ENTITY_ACTIONS[e];
  if (!WEBHOOK_ACTIONS.includes(a) || !valid.includes(a)) {
    const names = [...valid].sort().map((x) => `'${x}'`);
    throw new InvalidParameterError(
      `Invalid action '${action.toLowerCase()}' for entity '${e}'. Valid actions are: [${names.join(', ')}]`,
    );
  }
  return `${e}.${a}` as WebhookEventName;
}

/** Parses `entity.action` (the event names of the registry's own API and the CLI). */
export function parseWebhookEventName(name: string): WebhookEventName {
  const parts = name.split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new InvalidParameterError(
      `Invalid event string format: ${name}. Expected format: 'entity.action' (e.g., 'registered_model.created')`,
    );
  }
  return parseWebhookEvent(parts[0], parts[1]);
}

// ---------------------------------------------------------------- the webhook

export const WEBHOOK_STATUSES = ['ACTIVE', 'DISABLED'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

export interface Webhook {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly url: string;
  readonly events: readonly WebhookEventName[];
  readonly status: WebhookStatus;
  /** The secret, sealed (encrypted) by the SecretSealer port; absent: deliveries are not signed. */
  readonly sealedSecret?: string;
  readonly creationTimestamp: number;
  readonly lastUpdatedTimestamp: number;
  readonly createdBy: string;
}

/** MLflow's rule: 1-63 characters, letters, digits, `.`, `_`, `-`, starting and ending alphanumeric. */
export const WEBHOOK_NAME_PATTERN = /^(?=.{1,63}$)[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/i;
/** MLflow's columns: url 500 characters, description 1,000. */
export const WEBHOOK_URL_MAX_LENGTH = 500;
export const WEBHOOK_DESCRIPTION_MAX_LENGTH = 1000;
/** The longest secret the registry keeps (an HMAC key; longer adds nothing). */
export const WEBHOOK_SECRET_MAX_LENGTH = 1000;
/** Webhooks the registry keeps at most (every event is matched against all of them). */
export const MAX_WEBHOOKS = 100;

const repr = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function assertWebhookName(name: string): string {
  if (!WEBHOOK_NAME_PATTERN.test(name)) {
    throw new InvalidParameterError(
      `Webhook name ${repr(name)} is invalid. It must start and end with a letter or digit, be less than 63 characters long, and contain only letters, digits, dots (.), underscores (_), and hyphens (-).`,
    );
  }
  return name;
}

export const ALLOWED_URL_SCHEMES = ['http', 'https'] as const;

/** Checks a target URL's form (where it may point is checked when it is saved and delivered to). */
export function assertWebhookUrl(url: string): URL {
  if (url.trim() === '') {
    throw new InvalidParameterError(`Webhook URL cannot be empty or just whitespace: ${repr(url)}`);
  }
  if (url.length > WEBHOOK_URL_MAX_LENGTH) {
    throw new InvalidParameterError(
      `Webhook URL is ${url.length} characters long; the limit is ${WEBHOOK_URL_MAX_LENGTH}.`,
    );
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase() ?? '';
  if (!(ALLOWED_URL_SCHEMES as readonly string[]).includes(scheme)) {
    throw new InvalidParameterError(
      `Invalid webhook URL scheme: ${repr(scheme)}. Allowed schemes are: ${ALLOWED_URL_SCHEMES.join(', ')}.`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidParameterError(`Webhook URL is not a valid URL: ${repr(url)}`);
  }
  if (!parsed.hostname) {
    throw new InvalidParameterError(`Webhook URL must include a hostname: ${repr(url)}`);
  }
  if (parsed.username || parsed.password) {
    throw new InvalidParameterError(
      'Webhook URL must not carry credentials (user:password@); use a secret to sign deliveries instead.',
    );
  }
  return parsed;
}

export function assertWebhookEvents(events: readonly WebhookEventName[]): WebhookEventName[] {
  if (events.length === 0) {
    throw new InvalidParameterError('Webhook events must be a non-empty list of WebhookEvent objects: [].');
  }
  return [...new Set(events)];
}

export function assertWebhookDescription(description: string): string {
  if (description.length > WEBHOOK_DESCRIPTION_MAX_LENGTH) {
    throw new InvalidParameterError(
      `Webhook description is ${description.length} characters long; the limit is ${WEBHOOK_DESCRIPTION_MAX_LENGTH}.`,
    );
  }
  return description;
}

export function assertWebhookSecret(secret: string): string {
  if (secret.length > WEBHOOK_SECRET_MAX_LENGTH) {
    throw new InvalidParameterError(
      `Webhook secret is ${secret.length} characters long; the limit is ${WEBHOOK_SECRET_MAX_LENGTH}.`,
    );
  }
  return secret;
}

export function parseWebhookStatus(status: string): WebhookStatus {
  const s = status.toUpperCase();
  if (!(WEBHOOK_STATUSES as readonly string[]).includes(s)) {
    throw new InvalidParameterError(
      `Invalid webhook status ${repr(status)}. Valid statuses are: ${WEBHOOK_STATUSES.join(', ')}.`,
    );
  }
  return s as WebhookStatus;
}

/** The origin of a URL (what events and logs may show of it). */
export function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------- payloads

export type WebhookPayload = Readonly<Record<string, unknown>>;

/** What a registry event means to webhooks: the MLflow event and its payload (`data`). */
export interface WebhookMessage {
  readonly event: WebhookEventName;
  readonly payload: WebhookPayload;
}

/** The registry events that can mean an MLflow webhook event (what the delivery rule matches). */
export const WEBHOOK_SOURCE_EVENTS = [
  'RegisteredModelCreated',
  'RegisteredModelTagSet',
  'RegisteredModelTagDeleted',
  'ModelVersionCreated',
  'ModelVersionRegistrationSettled',
  'ModelVersionTagSet',
  'ModelVersionTagDeleted',
  'AliasChanged',
] as const satisfies readonly EventType[];

/** MLflow's prompt template tag on prompt versions. */
export const PROMPT_TEXT_TAG = 'mlflow.prompt.text';

const stringMap = (value: unknown): Record<string, string> =>
  value && typeof value === 'object' ? { ...(value as Record<string, string>) } : {};

/**
 * The MLflow webhook message of a registry event (mlflow/webhooks/types.py), or undefined when
 * MLflow has no event for it. Pure: the same event always gives the same message.
 *
 * - A model created: `registered_model.created`, or `prompt.created` for an MLflow prompt.
 * - A version created READY (an external source, as every MLflow client registers), or a version
 *   whose uploaded files were verified: `model_version.created` (`prompt_version.created`).
 * - Version tags set and deleted: `model_version_tag.*` (`prompt_version_tag.*`); model tags only
 *   for prompts (`prompt_tag.*`: MLflow has no event for a registered model's tags).
 * - An alias set or moved: `model_version_alias.created`; removed: `…alias.deleted`
 *   (`prompt_alias.*`). Aliases dropped with a deleted version send nothing, as in MLflow.
 */
export function webhookMessage(event: Pick<RegistryEvent, 'type' | 'detail'>): WebhookMessage | undefined {
  const d = event.detail;
  if (!d.model) return undefined;
  const name = d.model.name;
  const prompt = d.model.prompt === true;
  const data = d.data as Record<string, unknown>;
  const version = d.version === undefined ? undefined : String(d.version);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const versionCreated = (tags: Record<string, string>) =>
    prompt || tags['mlflow.prompt.is_prompt']?.toLowerCase() === 'true'
      ? {
          event: 'prompt_version.created' as const,
          payload: {
            name,
            version,
            template: tags[PROMPT_TEXT_TAG] ?? '',
            tags,
            description: str(data.description) || null,
          },
        }
      : {
          event: 'model_version.created' as const,
          payload: {
            name,
            version,
            source: str(data.source) ?? '',
            run_id: str(data.run_id) || null,
            tags,
            description: str(data.description) || null,
          },
        };
  switch (event.type) {
    case 'RegisteredModelCreated':
      return {
        event: prompt ? 'prompt.created' : 'registered_model.created',
        payload: { name, tags: stringMap(data.tags), description: str(data.description) ?? '' },
      };
    case 'ModelVersionCreated':
      return data.status === 'READY' ? versionCreated(stringMap(data.tags)) : undefined;
    case 'ModelVersionRegistrationSettled':
      return data.status === 'READY' ? versionCreated(stringMap(data.tags)) : undefined;
    case 'ModelVersionTagSet':
      return {
        event: prompt ? 'prompt_version_tag.set' : 'model_version_tag.set',
        payload: { name, version, key: data.key, value: data.after },
      };
    case 'ModelVersionTagDeleted':
      return {
        event: prompt ? 'prompt_version_tag.deleted' : 'model_version_tag.deleted',
        payload: { name, version, key: data.key },
      };
    case 'RegisteredModelTagSet':
      return prompt
        ? { event: 'prompt_tag.set', payload: { name, key: data.key, value: data.after } }
        : undefined;
    case 'RegisteredModelTagDeleted':
      return prompt ? { event: 'prompt_tag.deleted', payload: { name, key: data.key } } : undefined;
    case 'AliasChanged':
      return data.after === null || data.after === undefined
        ? {
            event: prompt ? 'prompt_alias.deleted' : 'model_version_alias.deleted',
            payload: { name, alias: data.alias },
          }
        : {
            event: prompt ? 'prompt_alias.created' : 'model_version_alias.created',
            payload: { name, alias: data.alias, version: String(data.after) },
          };
    default:
      return undefined;
  }
}

/** The example payload MLflow's test_webhook sends for each event (get_example_payload_for_event). */
export const EXAMPLE_PAYLOADS: Readonly<Record<WebhookEventName, WebhookPayload>> = {
  'registered_model.created': {
    name: 'example_model',
    tags: { example_key: 'example_value' },
    description: 'An example registered model',
  },
  'model_version.created': {
    name: 'example_model',
    version: '1',
    source: 'models:/123',
    run_id: 'abcd1234abcd5678',
    tags: { example_key: 'example_value' },
    description: 'An example model version',
  },
  'model_version_tag.set': {
    name: 'example_model',
    version: '1',
    key: 'example_key',
    value: 'example_value',
  },
  'model_version_tag.deleted': { name: 'example_model', version: '1', key: 'example_key' },
  'model_version_alias.created': { name: 'example_model', alias: 'example_alias', version: '1' },
  'model_version_alias.deleted': { name: 'example_model', alias: 'example_alias' },
  'prompt.created': {
    name: 'example_prompt',
    tags: { example_key: 'example_value' },
    description: 'An example prompt',
  },
  'prompt_version.created': {
    name: 'example_prompt',
    version: '1',
    template: 'Hello {{name}}!',
    tags: { example_key: 'example_value' },
    description: 'An example prompt version',
  },
  'prompt_tag.set': { name: 'example_prompt', key: 'example_key', value: 'example_value' },
  'prompt_tag.deleted': { name: 'example_prompt', key: 'example_key' },
  'prompt_version_tag.set': {
    name: 'example_prompt',
    version: '1',
    key: 'example_key',
    value: 'example_value',
  },
  'prompt_version_tag.deleted': { name: 'example_prompt', version: '1', key: 'example_key' },
  'prompt_alias.created': { name: 'example_prompt', alias: 'example_alias', version: '1' },
  'prompt_alias.deleted': { name: 'example_prompt', alias: 'example_alias' },
};

/** Python's `datetime.now(timezone.utc).isoformat()`, which MLflow puts in the envelope. */
export function isoTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

/**
 * The body MLflow POSTs: `{entity, action, timestamp, data}`. The registry stamps the time of the
 * change (not of the attempt), so every attempt of a delivery sends the same bytes.
 */
export function webhookBody(event: WebhookEventName, payload: WebhookPayload, epochMs: number): string {
  const { entity, action } = eventRef(event);
  return JSON.stringify({ entity, action, timestamp: isoTimestamp(epochMs), data: payload });
}

// ---------------------------------------------------------------- signing

export const SIGNATURE_HEADER = 'X-MLflow-Signature';
export const TIMESTAMP_HEADER = 'X-MLflow-Timestamp';
export const DELIVERY_ID_HEADER = 'X-MLflow-Delivery-Id';
export const SIGNATURE_VERSION = 'v1';

/**
 * MLflow's signature (mlflow/webhooks/delivery.py `_generate_hmac_signature`): `v1,` and the
 * base64 HMAC-SHA256, keyed with the secret, of `<delivery id>.<unix timestamp>.<body>`.
 */
export function signWebhook(secret: string, deliveryId: string, timestamp: string, body: string): string {
  const digest = createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${deliveryId}.${timestamp}.${body}`, 'utf8')
    .digest('base64');
  return `${SIGNATURE_VERSION},${digest}`;
}

/** What a receiver checks (MLflow's documented verification), in constant time. */
export function verifyWebhookSignature(
  secret: string,
  signature: string,
  deliveryId: string,
  timestamp: string,
  body: string,
): boolean {
  if (!signature.startsWith(`${SIGNATURE_VERSION},`)) return false;
  const expected = Buffer.from(signWebhook(secret, deliveryId, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The headers of one attempt (the signature only when the webhook has a secret). */
export function deliveryHeaders(
  deliveryId: string,
  body: string,
  nowMs: number,
  secret?: string,
): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    'Content-Type': 'application/json',
    [DELIVERY_ID_HEADER]: deliveryId,
    [TIMESTAMP_HEADER]: timestamp,
    ...(secret ? { [SIGNATURE_HEADER]: signWebhook(secret, deliveryId, timestamp, body) } : {}),
  };
}

// ---------------------------------------------------------------- deliveries

export const DELIVERY_STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED', 'DEAD'] as const;
/**
 * PENDING: not attempted yet (or an attempt is in flight); FAILED: the last attempt failed and
 * another is scheduled; SUCCEEDED: the receiver answered 2xx; DEAD: no more automatic attempts
 * (the last one failed, or the webhook was deleted or disabled). FAILED and DEAD can be redelivered.
 */
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface WebhookDelivery {
  readonly webhookId: string;
  readonly deliveryId: string;
  /** The registry event it delivers (`detail.event_id`) and its type. */
  readonly eventId: string;
  readonly eventType: string;
  readonly event: WebhookEventName;
  /** The exact body every attempt sends. */
  readonly body: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt?: number;
  readonly lastAttemptAt?: number;
  readonly lastResponseStatus?: number;
  readonly lastError?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * The delivery id of an event for a webhook: the same for every redelivery of the event, so a
 * delivery is recorded (and the receiver sees it) once per id. A UUID (version 8, RFC 9562) whose
 * first 48 bits are the event's time, so delivery logs list in time order, and whose other bits
 * come from SHA-256 of the webhook and event ids.
 */
export function deliveryIdFor(webhookId: string, eventId: string, occurredAt: number): string {
  const hash = createHash('sha256').update(webhookId).update('\u0000').update(eventId).digest();
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(Math.max(0, Math.min(occurredAt, 2 ** 48 - 1)), 0, 6);
  hash.copy(bytes, 6, 0, 10);
  bytes[6] = 0x80 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** How deliveries are attempted and retried. */
export interface DeliverySettings {
  /** Attempts in all (the first included); after the last failed one the delivery is DEAD. */
  readonly maxAttempts: number;
  /** The delay after the first failed attempt; it doubles after each, up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** How long one attempt may take. */
  readonly timeoutMs: number;
  /** Local mode only: allow targets on private and loopback addresses. */
  readonly allowPrivateTargets: boolean;
  /** How long delivery records are kept (DynamoDB TTL). */
  readonly retentionDays: number;
}

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  maxAttempts: 10,
  baseDelayMs: 30_000,
  maxDelayMs: 3_600_000,
  timeoutMs: 10_000,
  allowPrivateTargets: false,
  retentionDays: 30,
};

/**
 * The wait before the next attempt after `failedAttempts` failed ones: exponential backoff
 * (`base * 2^(n-1)`, capped) with "equal jitter" (between half and all of it), so receivers that
 * come back are not hit by every delivery at once.
 */
export function retryDelayMs(
  failedAttempts: number,
  settings: Pick<DeliverySettings, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const exp = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** What follows a failed attempt: another one later, or none (DEAD). */
export function afterFailure(
  attempts: number,
  now: number,
  settings: Pick<DeliverySettings, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): { status: 'FAILED'; nextAttemptAt: number } | { status: 'DEAD' } {
  return attempts >= settings.maxAttempts
    ? { status: 'DEAD' }
    : { status: 'FAILED', nextAttemptAt: now + retryDelayMs(attempts, settings, random) };
}

/** Whether a receiver's answer counts as delivered (2xx; redirects are not followed). */
export const delivered = (status: number) => status >= 200 && status < 300;
