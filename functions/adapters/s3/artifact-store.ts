/**
 * ArtifactStore on S3. Uploads are presigned and write-once (`If-None-Match: *` is a signed header
 * of every PUT, and multipart completion is conditional too), so not even a leaked URL can
 * overwrite a registered artifact. Checksum settings follow docs/decisions/002-artifacts.md: the
 * SDK must not add CRC32 checksums of an empty body to presigned PUTs.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ArtifactStore } from '../../use-cases/ports';

export function s3Client(options: { endpoint?: string | undefined } = {}): S3Client {
  const client = new S3Client({
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  if (options.endpoint) {
    // Local S3 only (an endpoint is set by the local runtime alone): the SDK sends and signs a
    // bucket-level request (ListObjectsV2) as `/<bucket>/`, and s3rver verifies the signature of
    // `/<bucket>`; sent without the slash, both sign the same path. Real S3 takes either.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { path?: string };
        if (typeof request.path === 'string' && /^\/[^/]+\/$/.test(request.path)) {
          request.path = request.path.slice(0, -1);
        }
        return next(args);
      },
      { step: 'build', name: 'localBucketPath' },
    );
  }
  return client;
}

const statusOf = (err: unknown) =>
  err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
const nameOf = (err: unknown) => (err as { name?: string })?.name;

/** S3's refusals of the parts a completion lists: the caller gave wrong ETags or short parts. */
const INVALID_PARTS = new Set(['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall']);

/** How often a completion that met a concurrent write (409) is tried again, and how soon. */
export interface ConflictRetry {
  readonly retries: number;
  readonly baseDelayMs: number;
}

const DEFAULT_CONFLICT_RETRY: ConflictRetry = { retries: 4, baseDelayMs: 100 };

export class S3ArtifactStore implements ArtifactStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly conflictRetry: ConflictRetry = DEFAULT_CONFLICT_RETRY,
  ) {}

  async presignPut(key: string, size: number, sha256: string, ttlSeconds: number) {
    const checksum = Buffer.from(sha256, 'hex').toString('base64');
    const url = await getSignedUrl(
      this.s3,
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ContentLength: size,
        IfNoneMatch: '*',
        ChecksumSHA256: checksum,
      }),
      {
        expiresIn: ttlSeconds,
        // Signed as headers, so the URL is useless without them: no overwrite (If-None-Match),
        // no other size, and real S3 refuses a body whose SHA-256 differs from the declared one.
        signableHeaders: new Set(['content-length', 'if-none-match', 'x-amz-checksum-sha256']),
        unhoistableHeaders: new Set(['if-none-match', 'x-amz-checksum-sha256']),
      },
    );
    return {
      url,
      headers: { 'if-none-match': '*', 'content-length': String(size), 'x-amz-checksum-sha256': checksum },
    };
  }

  async createMultipartUpload(key: string): Promise<string> {
    const out = await this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
    return out.UploadId!;
  }

  presignPart(key: string, uploadId: string, partNumber: number, ttlSeconds: number): Promise<string> {
    return getSignedUrl(
      this.s3,
      new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }),
      { expiresIn: ttlSeconds },
    );
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    // Best effort: an upload left behind is removed by the bucket's lifecycle rule for
    // incomplete multipart uploads.
    await this.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined);
  }

  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ): Promise<'completed' | 'exists' | 'no-such-upload' | 'invalid-parts' | 'conflict'> {
    for (let retry = 0; ; retry++) {
      try {
        await this.s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            IfNoneMatch: '*',
            MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
          }),
        );
        return 'completed';
      } catch (err) {
        if (statusOf(err) === 412 || nameOf(err) === 'PreconditionFailed') return 'exists';
        // A concurrent finalize may have completed this very upload a moment ago.
        if (nameOf(err) === 'NoSuchUpload' || statusOf(err) === 404) {
          return (await this.head(key)) ? 'exists' : 'no-such-upload';
        }
        if (INVALID_PARTS.has(nameOf(err) ?? '')) return 'invalid-parts';
        // 409 ConditionalRequestConflict: another write to the key was in flight. The SDK does not
        // retry a 409. If that write won, the key now exists and its content gets verified like
        // any other; if not, the completion may go through once the other write is over.
        if (statusOf(err) !== 409) throw err;
        if (await this.head(key)) return 'exists';
        if (retry >= this.conflictRetry.retries) return 'conflict';
        const delay = this.conflictRetry.baseDelayMs * (2 ** retry + Math.random());
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: out.ContentLength ?? 0 };
    } catch (err) {
      if (statusOf(err) === 404 || nameOf(err) === 'NotFound' || nameOf(err) === 'NoSuchKey')
        return undefined;
      throw err;
    }
  }

  async sha256(key: string): Promise<string> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    const hash = createHash('sha256');
    for await (const chunk of out.Body as Readable) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  presignGet(key: string, ttlSeconds: number, fileName: string): Promise<string> {
    const safeName = fileName.replace(/[^\w.-]/g, '_');
    return getSignedUrl(
      this.s3,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ResponseContentDisposition: `attachment; filename="${safeName}"`,
      }),
      { expiresIn: ttlSeconds },
    );
  }
}
