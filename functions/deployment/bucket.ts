/**
 * The artifact bucket's rules that the deployed bucket (lib/) and the local S3 (local/s3/) both
 * apply: where artifacts live, the tag that marks a deleted model's or version's objects, and the
 * CORS rule for pages that upload and download from a browser.
 *
 * Plain data only: lib/ imports it at synth time.
 */

/** Artifact objects live under this key prefix (see `artifactPrefix` in functions/domain/artifacts.ts). */
export const ARTIFACT_KEY_PREFIX = 'models/';

/**
 * The tag the cleanup function puts on every object of a deleted model or version. Deployed, the
 * bucket policy denies reading a tagged object to everyone (presigned URLs issued before the delete
 * stop working at once) and a lifecycle rule expires tagged objects after the retention window;
 * locally the S3 proxy denies the same reads.
 */
export const DELETED_TAG = { key: 'registry-deleted', value: 'true' } as const;

/** Any page served from this machine over HTTP, on any port (the local S3's default origins). */
export const LOOPBACK_ORIGINS: readonly string[] = ['http://127.0.0.1:*', 'http://localhost:*'];

/** The one CORS rule of the artifact bucket, for the origins a deployment (or local mode) allows. */
export const ARTIFACT_CORS = {
  allowedMethods: ['GET', 'PUT', 'HEAD'],
  // What a presigned write-once PUT carries (content-length is set by the browser itself).
  allowedHeaders: ['content-type', 'content-length', 'if-none-match', 'x-amz-checksum-sha256', 'x-amz-*'],
  // A browser uploading parts needs each part's ETag to finalize.
  exposedHeaders: ['ETag'],
  maxAgeSeconds: 3000,
} as const;
