/**
 * The artifact service with its S3 store: only the functions that handle registry-managed files
 * (upload, download, verify) import this, so the others' bundles carry no S3 client.
 */
import { S3ArtifactStore, s3Client } from '../adapters/s3/artifact-store';
import { ArtifactService, DEFAULT_ARTIFACT_SETTINGS } from '../use-cases/artifacts';
import type { VerificationQueue } from '../use-cases/ports';
import {
  type Environment,
  observeCalls,
  parseEnvironment,
  type RegistryServices,
  type SdkCallObserver,
} from './runtime';

/** The artifact service on the registry the function already built (one per function). */
export function artifactService(
  env: Environment,
  { registry, repo }: Pick<RegistryServices, 'registry' | 'repo'>,
  queue: VerificationQueue,
  observe?: SdkCallObserver,
): ArtifactService {
  const settings = parseEnvironment(env);
  if (!settings.ARTIFACT_BUCKET)
    throw new Error('Invalid function configuration: ARTIFACT_BUCKET is not set');
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
