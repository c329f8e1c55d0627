/**
 * DeletedArtifactMarker on S3: tags every object under the prefix `registry-deleted=true`. The
 * bucket policy denies reading tagged objects and a lifecycle rule expires them (lib/). Object
 * keys are write-once, so each key has one version to tag: the current one.
 */
import { ListObjectsV2Command, PutObjectTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { DELETED_TAG } from '../../deployment/bucket';
import type { DeletedArtifactMarker } from '../../use-cases/artifact-retention';

/** Tagging requests in flight at once (S3 accepts thousands per second per prefix). */
const CONCURRENCY = 16;

export class S3DeletedArtifactMarker implements DeletedArtifactMarker {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async markDeleted(prefix: string): Promise<number> {
    let marked = 0;
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => !!k);
      for (let i = 0; i < keys.length; i += CONCURRENCY) {
        await Promise.all(keys.slice(i, i + CONCURRENCY).map((key) => this.tag(key)));
      }
      marked += keys.length;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return marked;
  }

  private async tag(key: string): Promise<void> {
    await this.s3.send(
      new PutObjectTaggingCommand({
        Bucket: this.bucket,
        Key: key,
        Tagging: { TagSet: [{ Key: DELETED_TAG.key, Value: DELETED_TAG.value }] },
      }),
    );
  }
}
