/**
 * The local S3 follows the S3 rules the registry relies on; each test names the S3 behaviour it
 * checks (status, error code, what is stored). Requests go through the real AWS SDK and the
 * presigned URLs the artifact store builds. This file runs its own instance, on a data directory
 * it can inspect, and stops it at the end.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/s3/artifact-store';
import { type LocalS3, startLocalS3 } from '../../local/s3';
import { holdPut, localS3Client, partialFiles } from '../support/local-s3';

const MiB = 1024 ** 2;
let s3: LocalS3;
let dataDir: string;
let client: S3Client;
let store: S3ArtifactStore;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'local-s3-test-'));
  s3 = await startLocalS3({ dataDir });
  client = localS3Client(s3.endpoint);
  store = new S3ArtifactStore(client, s3.bucket);
});
afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const newKey = () => `models/${randomUUID()}/versions/1/files/model.bin`;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const base64Sha256 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

async function put(url: string, body: Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'PUT', body, headers });
  const text = await res.text();
  return {
    status: res.status,
    etag: res.headers.get('etag') ?? '',
    code: codeOf(text),
    text,
    headers: res.headers,
  };
}

const codeOf = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];

/** The presigned write-once PUT of `body` to `key`, as the registry hands it out. */
async function putOnce(key: string, body: Buffer, declared = sha256(body)) {
  const { url, headers } = await store.presignPut(key, body.length, declared, 60);
  return put(url, body, headers);
}

async function read(key: string): Promise<Buffer | undefined> {
  if (!(await store.head(key))) return undefined;
  const out = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

const complete = (
  key: string,
  uploadId: string,
  parts: readonly { partNumber: number; etag: string }[],
  conditional = true,
) =>
  client.send(
    new CompleteMultipartUploadCommand({
      Bucket: s3.bucket,
      Key: key,
      UploadId: uploadId,
      ...(conditional ? { IfNoneMatch: '*' } : {}),
      MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
    }),
  );

const partials = () => partialFiles(dataDir, s3.bucket);
const hold = (key: string, body: Buffer) => holdPut(store, { dataDir, bucket: s3.bucket }, key, body);

describe('a PUT with x-amz-checksum-sha256 (S3 computes the SHA-256 of the body)', () => {
  it('stores a body that matches', async () => {
    const key = newKey();
    const body = randomBytes(4096);
    expect((await putOnce(key, body)).status).toBe(200);
    expect((await read(key))?.equals(body)).toBe(true);
  });

  it('refuses a body that does not match with 400 BadDigest, and stores nothing', async () => {
    const key = newKey();
    const body = randomBytes(4096);
    const res = await putOnce(key, body, sha256(Buffer.from('something else')));
    expect(res.status).toBe(400);
    expect(res.code).toBe('BadDigest');
    expect(res.text).toContain(
      '<Message>The SHA256 you specified did not match the calculated checksum.</Message>',
    );
    expect(await store.head(key)).toBeUndefined();
    expect(partials()).toEqual([]);
    // Nothing was written, so the right body can still go in (write-once is not spent).
    expect((await putOnce(key, body)).status).toBe(200);
  });

  it('checks an UploadPart that carries one too', async () => {
    const key = newKey();
    const uploadId = await store.createMultipartUpload(key);
    const body = randomBytes(1000);
    const partUrl = (checksum: string) =>
      getSignedUrl(
        client,
        new UploadPartCommand({
          Bucket: s3.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: 1,
          ChecksumSHA256: checksum,
        }),
        { expiresIn: 60, unhoistableHeaders: new Set(['x-amz-checksum-sha256']) },
      );
    const wrong = base64Sha256(Buffer.from('other'));
    const refused = await put(await partUrl(wrong), body, { 'x-amz-checksum-sha256': wrong });
    expect([refused.status, refused.code]).toEqual([400, 'BadDigest']);
    const right = base64Sha256(body);
    const stored = await put(await partUrl(right), body, { 'x-amz-checksum-sha256': right });
    expect(stored.status).toBe(200);
    await complete(key, uploadId, [{ partNumber: 1, etag: stored.etag }]);
    expect((await read(key))?.equals(body)).toBe(true);
  });

  it('streams a large body to disk: the memory in use stays flat', async () => {
    const key = newKey();
    const chunk = randomBytes(MiB);
    const chunks = 192;
    const hash = createHash('sha256');
    for (let i = 0; i < chunks; i++) hash.update(chunk);
    const { url, headers } = await store.presignPut(key, chunks * MiB, hash.digest('hex'), 60);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpRequest(url, { method: 'PUT', headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < chunks) {
          sent++;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    clearInterval(sampler);
    expect(status).toBe(200);
    expect((await store.head(key))?.size).toBe(chunks * MiB);
    // Measured: under 40 MiB (buffers awaiting GC), whatever the body's size; a body held in
    // memory would add all of its 192 MiB.
    expect((peak - before) / MiB).toBeLessThan(96);
  });

  it('keeps nothing of a PUT interrupted halfway, and frees its key', async () => {
    const key = newKey();
    const body = randomBytes(2 * MiB);
    const held = await hold(key, body);
    expect(partials()).toHaveLength(1);
    await held.abandon();
    expect(await store.head(key)).toBeUndefined();
    expect((await putOnce(key, body)).status).toBe(200);
  });
});
