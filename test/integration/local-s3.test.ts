/**
 * The local S3 follows the S3 rules the registry relies on; each test names the S3 behaviour it
 * checks (status, error code, what is stored). Requests go through the real AWS SDK and the
 * presigned URLs the artifact store builds. This file runs its own instance, on a data directory
 * it can inspect, and stops it at the end.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/s3/artifact-store';
import { type LocalS3, startLocalS3 } from '../../local/s3';
import { holdPut, localS3Client, partialFiles, until } from '../support/local-s3';

const MiB = 1024 ** 2;
let s3: LocalS3;
let dataDir: string;
let client: S3Client;
let store: S3ArtifactStore;
/** Every SDK call and how it ended ("CompleteMultipartUploadCommand:ConditionalRequestConflict"). */
const calls: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'local-s3-test-'));
  s3 = await startLocalS3({ dataDir });
  client = localS3Client(s3.endpoint);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        const out = await next(args);
        calls.push(`${context.commandName}:ok`);
        return out;
      } catch (err) {
        calls.push(`${context.commandName}:${(err as Error).name}`);
        throw err;
      }
    },
    { step: 'initialize' },
  );
  store = new S3ArtifactStore(client, s3.bucket, { retries: 3, baseDelayMs: 20 });
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

/** The SDK error a call ends with (fails the test if it succeeds). */
async function refusal(call: Promise<unknown>): Promise<Error & Record<string, any>> {
  const outcome = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(outcome instanceof Error)) throw new Error('expected S3 to refuse the request');
  return outcome as Error & Record<string, any>;
}

/** Starts a multipart upload of `key` and uploads one part of each size through presigned URLs. */
async function upload(key: string, sizes: readonly number[]) {
  const uploadId = await store.createMultipartUpload(key);
  const bodies = sizes.map((size) => randomBytes(size));
  const parts: { partNumber: number; etag: string }[] = [];
  for (const [i, body] of bodies.entries()) {
    const res = await put(await store.presignPart(key, uploadId, i + 1, 60), body);
    expect(res.status).toBe(200);
    parts.push({ partNumber: i + 1, etag: res.etag });
  }
  return { uploadId, parts, content: Buffer.concat(bodies) };
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

describe('completing a multipart upload', () => {
  it('refuses a part under 5 MiB that is not the last with 400 EntityTooSmall', async () => {
    const key = newKey();
    const { uploadId, parts } = await upload(key, [MiB, MiB]);
    const err = await refusal(complete(key, uploadId, parts));
    expect(err.name).toBe('EntityTooSmall');
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.message).toBe('Your proposed upload is smaller than the minimum allowed object size.');
    expect(err).toMatchObject({
      ProposedSize: String(MiB),
      MinSizeAllowed: String(5 * MiB),
      PartNumber: '1',
    });
    expect(await store.head(key)).toBeUndefined();
  });

  it('accepts parts of 5 MiB with a small last part, and a single small part', async () => {
    const key = newKey();
    const big = await upload(key, [5 * MiB, 5 * MiB, 1024]);
    await complete(key, big.uploadId, big.parts);
    expect((await read(key))?.equals(big.content)).toBe(true);

    const small = newKey();
    const one = await upload(small, [1024]);
    await complete(small, one.uploadId, one.parts);
    expect((await read(small))?.equals(one.content)).toBe(true);
  });

  it('refuses a part that was not uploaded, or an ETag that differs, with 400 InvalidPart', async () => {
    const key = newKey();
    const { uploadId, parts } = await upload(key, [5 * MiB, 1024]);
    const missing = await refusal(
      complete(key, uploadId, [...parts, { partNumber: 3, etag: parts[1]!.etag }]),
    );
    expect([missing.name, missing.$metadata.httpStatusCode, missing.PartNumber]).toEqual([
      'InvalidPart',
      400,
      '3',
    ]);
    const wrongEtag = await refusal(complete(key, uploadId, [parts[0]!, { partNumber: 2, etag: '"0123"' }]));
    expect(wrongEtag.name).toBe('InvalidPart');
    const unordered = await refusal(complete(key, uploadId, [parts[1]!, parts[0]!]));
    expect([unordered.name, unordered.$metadata.httpStatusCode]).toEqual(['InvalidPartOrder', 400]);
    expect(await store.head(key)).toBeUndefined();
    await complete(key, uploadId, parts); // the upload is still open
    expect(await store.head(key)).toEqual({ size: 5 * MiB + 1024 });
  });

  it('answers 404 NoSuchUpload for a completed upload: no more parts, completions or listings', async () => {
    const key = newKey();
    const { uploadId, parts, content } = await upload(key, [1024]);
    await complete(key, uploadId, parts);

    const late = await put(await store.presignPart(key, uploadId, 2, 60), randomBytes(10));
    expect([late.status, late.code]).toEqual([404, 'NoSuchUpload']);
    expect(late.text).toContain(
      '<Message>The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.</Message>',
    );
    expect(late.text).toContain(`<UploadId>${uploadId}</UploadId>`);
    for (const call of [
      () => complete(key, uploadId, parts, false),
      () => client.send(new ListPartsCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId })),
      () => client.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId })),
    ]) {
      const err = await refusal(call());
      expect([err.name, err.$metadata.httpStatusCode]).toEqual(['NoSuchUpload', 404]);
    }
    // The late part did not bring the upload back, nor change the object.
    expect(readdirSync(join(dataDir, s3.bucket, '._S3rver_uploads'))).not.toContain(uploadId);
    expect((await read(key))?.equals(content)).toBe(true);
  });

  it('answers 404 NoSuchUpload for an aborted upload, and for the upload ID of another key', async () => {
    const key = newKey();
    const { uploadId, parts } = await upload(key, [1024]);
    const other = await refusal(complete(newKey(), uploadId, parts));
    expect(other.name).toBe('NoSuchUpload');
    await client.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId }));
    const late = await put(await store.presignPart(key, uploadId, 2, 60), randomBytes(10));
    expect([late.status, late.code]).toEqual([404, 'NoSuchUpload']);
    expect((await refusal(complete(key, uploadId, parts))).name).toBe('NoSuchUpload');
    expect(await store.head(key)).toBeUndefined();
  });
});

describe('conditional writes (If-None-Match: *)', () => {
  it('refuse a PUT to a key that exists with 412 PreconditionFailed', async () => {
    const key = newKey();
    const first = randomBytes(100);
    expect((await putOnce(key, first)).status).toBe(200);
    const again = await putOnce(key, randomBytes(100));
    expect([again.status, again.code]).toEqual([412, 'PreconditionFailed']);
    expect(again.text).toContain('<Condition>If-None-Match</Condition>');
    expect((await read(key))?.equals(first)).toBe(true);
  });

  it('refuse a multipart completion to a key that exists with 412 PreconditionFailed', async () => {
    const key = newKey();
    const a = await upload(key, [1024]);
    const b = await upload(key, [2048]);
    await complete(key, a.uploadId, a.parts);
    const err = await refusal(complete(key, b.uploadId, b.parts));
    expect([err.name, err.$metadata.httpStatusCode]).toEqual(['PreconditionFailed', 412]);
    expect((await read(key))?.equals(a.content)).toBe(true);
  });

  it('refuse a write while another one to the key is in flight with 409 ConditionalRequestConflict', async () => {
    const key = newKey();
    const body = randomBytes(MiB);
    const held = await hold(key, body);
    const mp = await upload(key, [1024]);
    const err = await refusal(complete(key, mp.uploadId, mp.parts));
    expect([err.name, err.$metadata.httpStatusCode]).toEqual(['ConditionalRequestConflict', 409]);
    expect(err.message).toBe(
      'A conflicting operation occurred. If using PutObject you can retry the request. If using multipart upload you should initiate another CreateMultipartUpload request and re-upload each part.',
    );
    const putDuring = await putOnce(key, randomBytes(10));
    expect([putDuring.status, putDuring.code]).toEqual([409, 'ConditionalRequestConflict']);
    expect(await held.finish()).toBe(200);
    expect((await refusal(complete(key, mp.uploadId, mp.parts))).name).toBe('PreconditionFailed');
    expect((await read(key))?.equals(body)).toBe(true);
  });

  it('let exactly one of two concurrent completions to a key win, every time', async () => {
    for (let round = 0; round < 20; round++) {
      const key = newKey();
      const a = await upload(key, [MiB]);
      const b = await upload(key, [MiB]);
      const results = await Promise.allSettled([
        complete(key, a.uploadId, a.parts),
        complete(key, b.uploadId, b.parts),
      ]);
      const won = results.findIndex((r) => r.status === 'fulfilled');
      expect(
        results.filter((r) => r.status === 'fulfilled'),
        `round ${round}`,
      ).toHaveLength(1);
      const lost = results[1 - won] as PromiseRejectedResult;
      expect(['ConditionalRequestConflict', 'PreconditionFailed']).toContain(lost.reason.name);
      expect((await read(key))?.equals([a, b][won]!.content), `round ${round}`).toBe(true);
    }
  });

  it('let exactly one of two concurrent PUTs to a key win, every time', async () => {
    for (let round = 0; round < 20; round++) {
      const key = newKey();
      const bodies = [randomBytes(256 * 1024), randomBytes(256 * 1024)];
      const results = await Promise.all(bodies.map((b) => putOnce(key, b)));
      const statuses = results.map((r) => r.status).sort();
      expect([statuses, statuses[1] === 409 || statuses[1] === 412], `round ${round}`).toEqual([
        [200, statuses[1]],
        true,
      ]);
      const won = results.findIndex((r) => r.status === 200);
      expect((await read(key))?.equals(bodies[won]!), `round ${round}`).toBe(true);
    }
  });
});

describe("the artifact store's multipart completion", () => {
  it("returns 'exists' for an upload another completion has just finished, 'no-such-upload' for an aborted one", async () => {
    const key = newKey();
    const done = await upload(key, [1024]);
    await complete(key, done.uploadId, done.parts);
    expect(await store.completeMultipartUpload(key, done.uploadId, done.parts)).toBe('exists');
    const other = newKey();
    const aborted = await upload(other, [1024]);
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: other, UploadId: aborted.uploadId }),
    );
    expect(await store.completeMultipartUpload(other, aborted.uploadId, aborted.parts)).toBe(
      'no-such-upload',
    );
  });

  it("returns 'invalid-parts' when S3 refuses the parts listed", async () => {
    const key = newKey();
    const small = await upload(key, [MiB, 1024]);
    expect(await store.completeMultipartUpload(key, small.uploadId, small.parts)).toBe('invalid-parts');
    const big = await upload(key, [5 * MiB, 1024]);
    const wrong = [big.parts[0]!, { partNumber: 2, etag: '"0123"' }];
    expect(await store.completeMultipartUpload(key, big.uploadId, wrong)).toBe('invalid-parts');
    expect(await store.completeMultipartUpload(key, big.uploadId, big.parts)).toBe('completed');
  });
});

describe("the artifact store's completion when another write is in flight (409)", () => {
  const since = (start: number) => calls.slice(start).filter((c) => !c.startsWith('HeadObject'));

  it("returns 'exists' when the other write wins (the registry then verifies what was stored)", async () => {
    const key = newKey();
    const body = randomBytes(MiB);
    const held = await hold(key, body);
    const mp = await upload(key, [1024]);
    const start = calls.length;
    const completion = store.completeMultipartUpload(key, mp.uploadId, mp.parts);
    await until(
      () => calls.slice(start).includes('CompleteMultipartUploadCommand:ConditionalRequestConflict'),
      'a 409',
    );
    expect(await held.finish()).toBe(200);
    expect(await completion).toBe('exists');
    expect((await read(key))?.equals(body)).toBe(true);
  });

  it('completes once the other write has gone without storing anything', async () => {
    const key = newKey();
    const held = await hold(key, randomBytes(MiB));
    const mp = await upload(key, [1024]);
    const start = calls.length;
    const completion = store.completeMultipartUpload(key, mp.uploadId, mp.parts);
    await until(
      () => calls.slice(start).includes('CompleteMultipartUploadCommand:ConditionalRequestConflict'),
      'a 409',
    );
    await held.abandon();
    expect(await completion).toBe('completed');
    expect(since(start).at(-1)).toBe('CompleteMultipartUploadCommand:ok');
    expect((await read(key))?.equals(mp.content)).toBe(true);
  });

  it("gives up with 'conflict' after a bounded number of retries, never an SDK exception", async () => {
    const key = newKey();
    const held = await hold(key, randomBytes(MiB));
    const mp = await upload(key, [1024]);
    const start = calls.length;
    expect(await store.completeMultipartUpload(key, mp.uploadId, mp.parts)).toBe('conflict');
    expect(since(start)).toEqual(Array(4).fill('CompleteMultipartUploadCommand:ConditionalRequestConflict'));
    await held.abandon();
  });
});

describe('CORS for pages on the local origins (S3 with one bucket CORS rule)', () => {
  const objectUrl = () => `${s3.endpoint}/${s3.bucket}/${newKey()}`;
  const preflight = (origin: string | undefined, method: string | undefined, requestHeaders?: string) =>
    fetch(objectUrl(), {
      method: 'OPTIONS',
      headers: {
        ...(origin ? { origin } : {}),
        ...(method ? { 'access-control-request-method': method } : {}),
        ...(requestHeaders ? { 'access-control-request-headers': requestHeaders } : {}),
      },
    });

  it('answers a preflight for a presigned PUT from a loopback origin', async () => {
    for (const origin of ['http://127.0.0.1:5000', 'http://localhost:43123']) {
      const res = await preflight(origin, 'PUT', 'content-type,if-none-match,x-amz-checksum-sha256');
      expect(res.status, origin).toBe(200);
      expect(Object.fromEntries(res.headers)).toMatchObject({
        'access-control-allow-origin': origin,
        'access-control-allow-methods': 'GET, PUT, HEAD',
        'access-control-allow-headers': 'content-type, if-none-match, x-amz-checksum-sha256',
        'access-control-expose-headers': 'ETag',
        vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
      });
    }
  });

  it('refuses a preflight from another origin, for another method or header, with 403 CORSResponse', async () => {
    for (const [origin, method, headers] of [
      ['https://example.com', 'PUT', 'if-none-match'],
      ['http://127.0.0.1:5000', 'DELETE', undefined],
      ['http://127.0.0.1:5000', 'PUT', 'authorization'],
    ] as const) {
      const res = await preflight(origin, method, headers);
      expect(res.status, `${origin} ${method} ${headers}`).toBe(403);
      expect(codeOf(await res.text())).toBe('CORSResponse');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
    const noOrigin = await preflight(undefined, 'PUT');
    expect([noOrigin.status, codeOf(await noOrigin.text())]).toEqual([400, 'BadRequest']);
    const noMethod = await preflight('http://127.0.0.1:5000', undefined);
    expect(noMethod.status).toBe(400);
  });

  it('adds the CORS headers to responses for an allowed origin, errors included, and none for others', async () => {
    const key = newKey();
    const body = randomBytes(100);
    const { url, headers } = await store.presignPut(key, body.length, sha256(body), 60);
    const origin = 'http://127.0.0.1:5000';
    const stored = await put(url, body, { ...headers, origin });
    expect(stored.status).toBe(200);
    expect(stored.headers.get('access-control-allow-origin')).toBe(origin);
    expect(stored.headers.get('access-control-expose-headers')).toBe('ETag');
    const again = await put(url, body, { ...headers, origin });
    expect(again.status).toBe(412);
    expect(again.headers.get('access-control-allow-origin')).toBe(origin);

    const download = await store.presignGet(key, 60, 'model.bin');
    const allowed = await fetch(download, { headers: { origin: 'http://localhost:8080' } });
    expect(Buffer.from(await allowed.arrayBuffer()).equals(body)).toBe(true);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:8080');
    const other = await fetch(download, { headers: { origin: 'https://example.com' } });
    expect(other.status).toBe(200);
    await other.arrayBuffer();
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('takes the allowed origins as an option', async () => {
    const custom = await startLocalS3({ corsAllowedOrigins: ['https://console.example.com'] });
    try {
      const ask = (origin: string) =>
        fetch(`${custom.endpoint}/${custom.bucket}/k`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'GET' },
        });
      expect((await ask('https://console.example.com')).status).toBe(200);
      expect((await ask('http://127.0.0.1:5000')).status).toBe(403);
    } finally {
      await custom.stop();
    }
  });
});
