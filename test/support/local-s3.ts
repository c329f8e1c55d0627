/** Test helpers for the local S3: an SDK client for it, and a write caught in flight. */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore } from '../../functions/use-cases/ports';
import { LOCAL_AWS } from '../../local/dynamodb';

/** An S3 client for the local S3, configured like the registry's. */
export function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    ...LOCAL_AWS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Files the local S3 (started on `dataDir`) is writing under `key`, or left behind. */
export function partialFiles(dataDir: string, bucket: string, key = ''): string[] {
  return readdirSync(join(dataDir, bucket), { recursive: true })
    .map(String)
    .filter((f) => f.startsWith(key) && f.endsWith('.partial'));
}

export async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting until ${what}`);
}

/**
 * A presigned conditional PUT of `body` to `key` that has sent half its body and waits, in flight:
 * the local S3 is writing it to a temporary file in `dataDir`.
 */
export async function holdPut(
  store: ArtifactStore,
  where: { dataDir: string; bucket: string },
  key: string,
  body: Buffer,
) {
  const sha256 = createHash('sha256').update(body).digest('hex');
  const { url, headers } = await store.presignPut(key, body.length, sha256, 60);
  // Its own connection: a held request blocks the one it is on.
  const req = httpRequest(url, { method: 'PUT', headers, agent: false });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  response.catch(() => undefined); // abandoning the request rejects it
  req.write(body.subarray(0, body.length >> 1));
  const writing = () => partialFiles(where.dataDir, where.bucket, key).length > 0;
  await until(writing, 'the held PUT is being written');
  return {
    /** Sends the rest of the body; resolves to the status S3 answers. */
    async finish(): Promise<number | undefined> {
      req.end(body.subarray(body.length >> 1));
      const res = await response;
      res.resume();
      return res.statusCode;
    },
    /** Drops the connection halfway; resolves once the local S3 has discarded what it got. */
    async abandon(): Promise<void> {
      req.destroy();
      await until(() => !writing(), 'the abandoned PUT is discarded');
    },
  };
}
