/**
 * The webhook service as the functions build it: the table adapter, the secret sealer (KMS when
 * WEBHOOK_KMS_KEY_ID is set, deployed; AES-256-GCM with WEBHOOK_SECRET_KEY, locally), the HTTP
 * transport and the delivery settings, all read once at cold start.
 */
import { randomBytes } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AesSecretSealer } from '../adapters/crypto/aes-secret-sealer';
import { PageTokens } from '../adapters/dynamodb/page-token';
import { RegistryTable } from '../adapters/dynamodb/table';
import { DynamoDbWebhookStore } from '../adapters/dynamodb/webhooks';
import { NodeWebhookTransport, type Resolver } from '../adapters/http/webhook-transport';
import { KmsSecretSealer } from '../adapters/kms/secret-sealer';
import type { DeliverySettings } from '../domain/webhooks';
import type { SecretSealer } from '../use-cases/ports';
import { WebhookService } from '../use-cases/webhooks';
import { TABLE_NAME_ENV } from '../wiring/table';
import {
  type Environment,
  observeCalls,
  pageTokenSecret,
  parseEnvironment,
  type SdkCallObserver,
} from './runtime';

export function deliverySettings(env: Environment): DeliverySettings {
  const s = parseEnvironment(env);
  return {
    maxAttempts: s.WEBHOOK_MAX_ATTEMPTS,
    baseDelayMs: s.WEBHOOK_RETRY_BASE_MS,
    maxDelayMs: s.WEBHOOK_RETRY_MAX_MS,
    timeoutMs: s.WEBHOOK_TIMEOUT_MS,
    allowPrivateTargets: s.WEBHOOK_ALLOW_PRIVATE_TARGETS === 'true',
    retentionDays: s.WEBHOOK_RETENTION_DAYS,
  };
}

/**
 * Without a KMS key or a local key (tools and tests that build services directly), secrets are
 * sealed with a key that lives as long as this process.
 */
let processKey: string | undefined;

export function secretSealer(env: Environment, observe?: SdkCallObserver): SecretSealer {
  const s = parseEnvironment(env);
  if (s.WEBHOOK_KMS_KEY_ID)
    return new KmsSecretSealer(observeCalls(new KMSClient({}), observe), s.WEBHOOK_KMS_KEY_ID);
  processKey ??= randomBytes(32).toString('base64url');
  return new AesSecretSealer(s.WEBHOOK_SECRET_KEY ?? processKey);
}

export function webhookService(
  env: Environment,
  db: DynamoDBDocumentClient,
  options: { observe?: SdkCallObserver; resolve?: Resolver } = {},
): WebhookService {
  const s = parseEnvironment(env);
  const settings = deliverySettings(env);
  const store = new DynamoDbWebhookStore(
    new RegistryTable(db, s[TABLE_NAME_ENV]),
    new PageTokens(pageTokenSecret(s)),
    settings.retentionDays * 24 * 3600,
  );
  const transport = new NodeWebhookTransport({
    timeoutMs: settings.timeoutMs,
    allowPrivateTargets: settings.allowPrivateTargets,
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  return new WebhookService(store, secretSealer(env, options.observe), transport, settings);
}
