/**
 * Registry-managed artifacts end to end on the local engines: presigned write-once uploads (single
 * PUT and multipart) to the local S3 server, finalize, verification of size and SHA-256 by the
 * verify function, presigned downloads and models:/ resolution.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/s3/artifact-store';
import type { LocalRegistry } from '../../local/registry';
import { type LocalS3, startLocalS3 } from '../../local/s3';
import { apiClient, documentClient, localRegistry, tableSnapshot, UNGUARDED } from '../support/engines';
import { holdPut, localS3Client } from '../support/local-s3';

const MiB = 1024 ** 2;
let registry: LocalRegistry;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  // Small thresholds so a 12 MiB file goes up in three 5 MiB parts.
  registry = await localRegistry({
    env: {
      MULTIPART_THRESHOLD_BYTES: String(5 * MiB),
      MULTIPART_PART_SIZE_BYTES: String(5 * MiB),
      GOVERNANCE_POLICY: UNGUARDED,
    },
  });
  api = apiClient(registry.url, 'AKIAALICE');
});
afterAll(async () => {
  await registry?.stop();
});

let n = 0;
const uniqueName = () => `artifact-model-${++n}`;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function put(url: string, body: Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'PUT', body, headers });
  return { status: res.status, etag: res.headers.get('etag') ?? '', text: await res.text() };
}

/** Uploads every file as instructed and returns the multipart ETags for finalize. */
async function uploadAll(upload: any, contents: Record<string, Buffer>) {
  const parts: Record<string, { part_number: number; etag: string }[]> = {};
  for (const file of upload.files) {
    const body = contents[file.path]!;
    if (file.method === 'PUT') {
      expect((await put(file.url, body, file.headers)).status).toBe(200);
      continue;
    }
    parts[file.path] = [];
    for (const part of file.parts) {
      const start = (part.part_number - 1) * file.part_size;
      const res = await put(part.url, body.subarray(start, start + file.part_size));
      expect(res.status).toBe(200);
      parts[file.path]!.push({ part_number: part.part_number, etag: res.etag });
    }
  }
  return parts;
}

async function waitSettled(name: string, version: number) {
  await registry.settled();
  return (await api('GET', `/models/${name}/versions/${version}`)).body.model_version;
}

async function registerFiles(
  name: string,
  contents: Record<string, Buffer>,
  declared?: Record<string, string>,
) {
  await api('POST', '/models', { name });
  const files = Object.entries(contents).map(([path, body]) => ({
    path,
    size: body.length,
    sha256: declared?.[path] ?? sha256(body),
  }));
  const created = await api('POST', `/models/${name}/versions`, { files, run_id: 'run-1' });
  expect(created.status).toBe(201);
  return created.body;
}

describe('registering a version with files', () => {
  it('round-trips a multipart artifact byte for byte, with its manifest', async () => {
    const name = uniqueName();
    const contents = { 'model.pkl': randomBytes(1234), 'weights/big.bin': randomBytes(12 * MiB + 17) };
    const created = await registerFiles(name, contents);
    expect(created.model_version).toMatchObject({ version: 1, status: 'PENDING_REGISTRATION' });
    expect(created.model_version.source).toMatch(
      /^s3:\/\/model-registry-artifacts\/models\/.+\/versions\/1\/files$/,
    );
    const big = created.upload.files.find((f: any) => f.path === 'weights/big.bin');
    expect(big).toMatchObject({ method: 'MULTIPART', part_size: 5 * MiB, part_count: 3 });
    expect(created.upload.files.find((f: any) => f.path === 'model.pkl').method).toBe('PUT');

    const parts = await uploadAll(created.upload, contents);
    const finalized = await api('POST', `/models/${name}/versions/1/finalize`, { parts });
    expect(finalized.status).toBe(200);
    expect((await waitSettled(name, 1)).status).toBe('READY');

    const download = await api('GET', `/models/${name}/versions/1/download`);
    expect(download.status).toBe(200);
    expect(download.body.download.files.map((f: any) => [f.path, f.size, f.sha256])).toEqual([
      ['model.pkl', 1234, sha256(contents['model.pkl'])],
      ['weights/big.bin', 12 * MiB + 17, sha256(contents['weights/big.bin'])],
    ]);
    for (const file of download.body.download.files) {
      const body = Buffer.from(await (await fetch(file.url)).arrayBuffer());
      expect(body.equals(contents[file.path as keyof typeof contents])).toBe(true);
    }
  });

  it('fails the version, naming the file and both hashes, when a SHA-256 does not match', async () => {
    // A multipart file: S3 checks no whole-file SHA-256 for it, the registry's verification does.
    const name = uniqueName();
    const body = randomBytes(6 * MiB);
    const wrong = sha256(Buffer.from('something else'));
    const created = await registerFiles(name, { 'model.onnx': body }, { 'model.onnx': wrong });
    const parts = await uploadAll(created.upload, { 'model.onnx': body });
    expect((await api('POST', `/models/${name}/versions/1/finalize`, { parts })).status).toBe(200);
    const settled = await waitSettled(name, 1);
    expect(settled.status).toBe('FAILED_REGISTRATION');
    expect(settled.status_message).toBe(
      `File 'model.onnx' has SHA-256 ${sha256(body)}; ${wrong} was declared.`,
    );
    expect((await api('GET', `/models/${name}/versions/1/download`)).status).toBe(409);
  });

  it('has S3 refuse a single PUT whose body does not match the declared SHA-256, storing nothing', async () => {
    const name = uniqueName();
    const body = randomBytes(2048);
    const created = await registerFiles(
      name,
      { 'model.onnx': body },
      { 'model.onnx': sha256(randomBytes(8)) },
    );
    const [file] = created.upload.files;
    const refused = await put(file.url, body, file.headers);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('<Code>BadDigest</Code>');
    const finalize = await api('POST', `/models/${name}/versions/1/finalize`, {});
    expect(finalize.status).toBe(409);
    expect(finalize.body.message).toContain("File 'model.onnx' has not been uploaded yet");
  });

  it('refuses a second upload to the same key, even with a valid URL (write-once)', async () => {
    const name = uniqueName();
    const body = randomBytes(100);
    const created = await registerFiles(name, { 'a.bin': body });
    const [file] = created.upload.files;
    expect((await put(file.url, body, file.headers)).status).toBe(200);
    const again = await put(file.url, body, file.headers);
    expect(again.status).toBe(412);
    expect(again.text).toContain('PreconditionFailed');
    // Fresh URLs for the same file do not help either.
    const renewed = await api('POST', `/models/${name}/versions/1/upload-urls`, {});
    expect(renewed.status).toBe(200);
    const [fresh] = renewed.body.upload.files;
    expect((await put(fresh.url, randomBytes(100), fresh.headers)).status).toBe(412);
  });

  it('signs If-None-Match, the size and the SHA-256 into every presigned PUT', async () => {
    const name = uniqueName();
    const body = randomBytes(64);
    const created = await registerFiles(name, { 'x.bin': body, 'y/z.bin': randomBytes(10) });
    for (const file of created.upload.files) {
      const signed = new URL(file.url).searchParams.get('X-Amz-SignedHeaders')!.split(';');
      expect(signed).toEqual(
        expect.arrayContaining(['if-none-match', 'content-length', 'x-amz-checksum-sha256']),
      );
    }
    // Without the signed header the URL is useless.
    const [x] = created.upload.files;
    const { 'if-none-match': _, ...withoutCondition } = x.headers;
    expect((await put(x.url, body, withoutCondition)).status).toBe(403);
  });

  it('refuses an expired URL', async () => {
    const shortLived = await localRegistry({ env: { UPLOAD_URL_TTL_SECONDS: '1' } });
    try {
      const call = apiClient(shortLived.url, 'AKIAALICE');
      await call('POST', '/models', { name: 'expiring' });
      const body = randomBytes(10);
      const created = await call('POST', '/models/expiring/versions', {
        files: [{ path: 'm.bin', size: 10, sha256: sha256(body) }],
      });
      const [file] = created.body.upload.files;
      await new Promise((r) => setTimeout(r, 2100));
      const res = await put(file.url, body, file.headers);
      expect(res.status).toBe(403);
      expect(res.text).toMatch(/expired/i);
    } finally {
      await shortLived.stop();
    }
  });

  it('never serves or promotes a version that is not READY', async () => {
    const name = uniqueName();
    const body = randomBytes(10);
    await registerFiles(name, { 'm.bin': body });
    const download = await api('GET', `/models/${name}/versions/1/download`);
    expect(download.status).toBe(409);
    expect(download.body.message).toContain('PENDING_REGISTRATION');
    const promote = await api('POST', `/models/${name}/versions/1/stage`, { stage: 'Production' });
    expect(promote.status).toBe(409);
    expect((await api('GET', `/resolve?uri=${encodeURIComponent(`models:/${name}/1`)}`)).status).toBe(409);
  });

  it('refuses to finalize before the files are uploaded, and keeps the version pending', async () => {
    const name = uniqueName();
    await registerFiles(name, { 'm.bin': randomBytes(10) });
    const res = await api('POST', `/models/${name}/versions/1/finalize`, {});
    expect(res.status).toBe(409);
    expect(res.body.message).toContain("File 'm.bin' has not been uploaded yet");
    expect((await api('GET', `/models/${name}/versions/1`)).body.model_version.status).toBe(
      'PENDING_REGISTRATION',
    );
  });

  it('names the missing parts of a multipart file', async () => {
    const name = uniqueName();
    const body = randomBytes(11 * MiB);
    const created = await registerFiles(name, { 'big.bin': body });
    const parts = await uploadAll(created.upload, { 'big.bin': body });
    const res = await api('POST', `/models/${name}/versions/1/finalize`, {
      parts: { 'big.bin': parts['big.bin']!.filter((p) => p.part_number !== 2) },
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('missing part 2');
  });

  it('refuses parts S3 refuses (an ETag it did not return) with 400, and finalizes with the right ones', async () => {
    const name = uniqueName();
    const body = randomBytes(6 * MiB);
    const created = await registerFiles(name, { 'big.bin': body });
    const parts = await uploadAll(created.upload, { 'big.bin': body });
    const wrong = parts['big.bin']!.map((p) => (p.part_number === 1 ? { ...p, etag: '"0123"' } : p));
    const refused = await api('POST', `/models/${name}/versions/1/finalize`, { parts: { 'big.bin': wrong } });
    expect(refused.status).toBe(400);
    expect(refused.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(refused.body.message).toContain("S3 refused the parts of 'big.bin'");
    expect((await api('POST', `/models/${name}/versions/1/finalize`, { parts })).status).toBe(200);
    expect((await waitSettled(name, 1)).status).toBe('READY');
  });

  it.each([
    ['../../x'],
    ['/etc/passwd'],
    ['a/../b'],
    ['a//b'],
    ['./a'],
    ['a\\b'],
  ])('rejects the declared path %j and changes nothing', async (path) => {
    const name = uniqueName();
    await api('POST', '/models', { name });
    const before = await tableSnapshot(documentClient(), registry.tableName);
    const res = await api('POST', `/models/${name}/versions`, {
      files: [{ path, size: 1, sha256: sha256(Buffer.from('x')) }],
    });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(res.body.message).toContain('Invalid file path');
    expect(await tableSnapshot(documentClient(), registry.tableName)).toEqual(before);
  });

  it('rejects giving both a source and files, and neither', async () => {
    const name = uniqueName();
    await api('POST', '/models', { name });
    const both = await api('POST', `/models/${name}/versions`, {
      source: 's3://b/k',
      files: [{ path: 'a', size: 1, sha256: sha256(Buffer.from('a')) }],
    });
    expect(both.status).toBe(400);
    const neither = await api('POST', `/models/${name}/versions`, {});
    expect(neither.status).toBe(400);
    expect(neither.body.message).toContain("needs a 'source'");
  });

  it('returns the same version and fresh URLs to a retried create with the same client token', async () => {
    const name = uniqueName();
    await api('POST', '/models', { name });
    const files = [{ path: 'm.bin', size: 10, sha256: sha256(randomBytes(10)) }];
    const first = await api('POST', `/models/${name}/versions`, { files, client_token: 'tok-1' });
    const retry = await api('POST', `/models/${name}/versions`, { files, client_token: 'tok-1' });
    expect(retry.body.model_version.version).toBe(first.body.model_version.version);
    expect(retry.body.upload.files).toHaveLength(1);
    expect((await api('GET', `/models/${name}/versions?max_results=10`)).body.model_versions).toHaveLength(1);
  });
});

describe('resolving models:/ URIs', () => {
  it('resolves a version, a stage, an alias and latest to the version and its files', async () => {
    const name = uniqueName();
    const v1 = randomBytes(50);
    const created = await registerFiles(name, { 'm.bin': v1 });
    await uploadAll(created.upload, { 'm.bin': v1 });
    await api('POST', `/models/${name}/versions/1/finalize`, {});
    expect((await waitSettled(name, 1)).status).toBe('READY');
    await api('POST', `/models/${name}/versions`, { source: 's3://elsewhere/model' });
    await api('POST', `/models/${name}/versions/1/stage`, { stage: 'Production' });
    await api('PUT', `/models/${name}/aliases/champion`, { version: 1 });

    const resolve = (uri: string) => api('GET', `/resolve?uri=${encodeURIComponent(uri)}`);
    for (const uri of [
      `models:/${name}/1`,
      `models:/${name}/Production`,
      `models:/${name}/production`,
      `models:/${name}@champion`,
    ]) {
      const res = await resolve(uri);
      expect(res.status, uri).toBe(200);
      expect(res.body.model_version.version).toBe(1);
      expect(res.body.download.files[0]).toMatchObject({ path: 'm.bin', size: 50, sha256: sha256(v1) });
    }
    const latest = await resolve(`models:/${name}/latest`);
    expect(latest.body.model_version.version).toBe(2);
    expect(latest.body.download).toMatchObject({ source: 's3://elsewhere/model', files: [] });
    expect((await resolve(`models:/${name}/Staging`)).status).toBe(409);
    const missing = await resolve(`models:/${name}@nobody`);
    expect(missing.status).toBe(400); // as MLflow answers a missing alias
    expect(missing.body.message).toContain('alias nobody not found');
    const bad = await resolve('runs:/abc/model');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('models:/<name>/<version>');
  });
});

describe('finalizing while another write to a file is in flight', () => {
  // A registry on its own local S3, whose data directory shows when a write is in flight.
  let s3: LocalS3;
  let dataDir: string;
  let own: LocalRegistry;
  let call: ReturnType<typeof apiClient>;
  let store: S3ArtifactStore;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'artifacts-s3-'));
    s3 = await startLocalS3({ dataDir });
    own = await localRegistry({
      s3Endpoint: s3.endpoint,
      env: {
        MULTIPART_THRESHOLD_BYTES: String(5 * MiB),
        MULTIPART_PART_SIZE_BYTES: String(5 * MiB),
        GOVERNANCE_POLICY: UNGUARDED,
      },
    });
    call = apiClient(own.url, 'AKIAALICE');
    store = new S3ArtifactStore(localS3Client(s3.endpoint), s3.bucket);
  });
  afterAll(async () => {
    await own?.stop();
    await s3?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** A version of a new model with one multipart file, uploaded; its parts and object key. */
  async function uploadedVersion(body: Buffer) {
    const name = uniqueName();
    await call('POST', '/models', { name });
    const created = await call('POST', `/models/${name}/versions`, {
      files: [{ path: 'big.bin', size: body.length, sha256: sha256(body) }],
    });
    expect(created.status).toBe(201);
    const parts = await uploadAll(created.body.upload, { 'big.bin': body });
    const key = `${created.body.model_version.source.slice(`s3://${s3.bucket}/`.length)}/big.bin`;
    return { name, parts, key };
  }

  it('answers 409 CONCURRENT_MODIFICATION (never 500) and finalizes once the other write is gone', async () => {
    const { name, parts, key } = await uploadedVersion(randomBytes(6 * MiB));
    const held = await holdPut(store, { dataDir, bucket: s3.bucket }, key, randomBytes(1024));
    const refused = await call('POST', `/models/${name}/versions/1/finalize`, { parts });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      error_code: 'CONCURRENT_MODIFICATION',
      message:
        "Another write to 'big.bin' was in progress and the upload could not be completed; finalize again.",
    });
    expect((await call('GET', `/models/${name}/versions/1`)).body.model_version.status).toBe(
      'PENDING_REGISTRATION',
    );
    await held.abandon();
    expect((await call('POST', `/models/${name}/versions/1/finalize`, { parts })).status).toBe(200);
    await own.settled();
    expect((await call('GET', `/models/${name}/versions/1`)).body.model_version.status).toBe('READY');
  });

  it('verifies what the other write stored when it wins, and fails the version if it is not the file', async () => {
    const { name, parts, key } = await uploadedVersion(randomBytes(6 * MiB));
    const held = await holdPut(store, { dataDir, bucket: s3.bucket }, key, randomBytes(1024));
    const finalizing = call('POST', `/models/${name}/versions/1/finalize`, { parts });
    expect(await held.finish()).toBe(200);
    expect((await finalizing).status).toBe(200);
    await own.settled();
    expect((await call('GET', `/models/${name}/versions/1`)).body.model_version).toMatchObject({
      status: 'FAILED_REGISTRATION',
      status_message: `File 'big.bin' is 1024 bytes; ${6 * MiB} were declared.`,
    });
  });
});
