/**
 * The artifact service with its S3 store: only the functions that handle registry-managed files
 * (upload, download, verify) import this, so the others' bundles carry no S3 client.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3ArtifactStore, s3Client } from '../adapters/s3/artifact-store';
import { ArtifactService, DEFAULT_ARTIFACT_SETTINGS } from '../use-cases/artifacts';
import type { VerificationQueue } from '../use-cases/ports';
import {
  type Environment,
  observeCalls,
  parseEnvironment,
  registryServices,
  type SdkCallObserver,
} from './runtime';

export function artifactService(
  env: Environment,
  db: DynamoDBDocumentClient,
  queue: VerificationQueue,
  observe?: SdkCallObserver,
): ArtifactService {
  const settings = parseEnvironment(env);
  if (!settings.ARTIFACT_BUCKET)
    throw new Error('Invalid function configuration: ARTIFACT_BUCKET is not set');
  const { registry, repo } = registryServices(env, db);
  const s3 = observeCalls(s3Client({ endpoint: settings.S3_ENDPOINT }), observe);
  return new ArtifactService(registry, repo, new S3ArtifactStore(s3, settings.ARTIFACT_BUCKET), queue, {
    ...DEFAULT_ARTIFACT_SETTINGS,
    uploadUrlTtlSeconds: settings.UPLOAD_URL_TTL_SECONDS,
    downloadUrlTtlSeconds: settings.DOWNLOAD_URL_TTL_SECONDS,
    multipartThresholdBytes: settings.MULTIPART_THRESHOLD_BYTES,
    partSizeBytes: settings.MULTIPART_PART_SIZE_BYTES,
    pendingTtlMs: settings.PENDING_VERSION_TTL_HOURS * 3600_000,
  });
}
