/**
 * uploadModel / downloadModel against a whole local registry (API front, handlers, DynamoDB Local,
 * the local S3 with write-once semantics). Small multipart thresholds make a 12 MiB file go up in
 * three 5 MiB parts.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRegistry } from '../../local/registry';
import {
  ArtifactVerificationError,
  type ProgressEvent,
  RegistryApiError,
  RegistryClient,
  TransferError,
  type TransferEvent,
} from '../../sdk';
import { localRegistry } from '../support/engines';

const MiB = 1024 ** 2;
let registry: LocalRegistry;
let client: RegistryClient;
let work: string;
let modelDir: string;
const contents: Record<string, Buffer> = {
  'model.pkl': randomBytes(1234),
  'weights/big.bin': randomBytes(12 * MiB + 17),
};
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  registry = await localRegistry({
    env: { MULTIPART_THRESHOLD_BYTES: String(5 * MiB), MULTIPART_PART_SIZE_BYTES: String(5 * MiB) },
  });
  client = new RegistryClient({ endpoint: registry.url });
  work = mkdtempSync(join(tmpdir(), 'mreg-sdk-'));
  modelDir = join(work, 'model');
  for (const [path, body] of Object.entries(contents)) {
    mkdirSync(join(modelDir, path, '..'), { recursive: true });
    writeFileSync(join(modelDir, path), body);
  }
});
afterAll(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
const fresh = async () => {
  const name = `sdk-model-${++n}`;
  await client.createRegisteredModel(name, { description: 'sdk test' });
  return { name, stateDir: join(work, `state-${n}`), out: join(work, `out-${n}`) };
};

function expectSameFiles(out: string) {
  for (const [path, body] of Object.entries(contents)) {
    expect(readFileSync(join(out, path)).equals(body), path).toBe(true);
  }
  const all = readdirSync(out, { recursive: true }).map(String);
  expect(all.filter((p) => p.endsWith('.partial'))).toEqual([]);
}

describe('uploadModel and downloadModel', () => {
  it('round-trips a directory (multipart and single PUT) byte for byte', async () => {
    const { name, stateDir, out } = await fresh();
    const events: ProgressEvent[] = [];
    const transfers: TransferEvent[] = [];
    const version = await client.uploadModel(name, modelDir, {
      stateDir,
      runId: 'run-42',
      metrics: { auc: 0.91 },
      parameters: { depth: '6' },
      tags: { team: 'risk' },
      description: 'first',
      dataset: { name: 'churn-2024', digest: 'sha256:abc' },
      pollIntervalMs: 50,
      onProgress: (e) => events.push(e),
      onTransfer: (e) => transfers.push(e),
    });
    expect(version).toMatchObject({
      name,
      version: 1,
      status: 'READY',
      run_id: 'run-42',
      metrics: { auc: 0.91 },
      parameters: { depth: '6' },
      tags: { team: 'risk' },
      dataset: { name: 'churn-2024', digest: 'sha256:abc' },
    });
    expect(version.files).toEqual([
      { path: 'model.pkl', size: 1234, sha256: sha256(contents['model.pkl']!) },
      { path: 'weights/big.bin', size: 12 * MiB + 17, sha256: sha256(contents['weights/big.bin']!) },
    ]);
    const total = 1234 + 12 * MiB + 17;
    expect([...new Set(events.map((e) => e.phase))]).toEqual(['hashing', 'uploading', 'verifying']);
    expect(events.every((e) => e.bytesTotal === total && e.bytesDone <= total)).toBe(true);
    expect(events.filter((e) => e.phase === 'uploading').at(-1)!.bytesDone).toBe(total);
    expect(events.at(-1)).toEqual({ phase: 'verifying', bytesDone: total, bytesTotal: total });
    expect(transfers.map((t) => `${t.path}#${t.partNumber ?? '-'}`).sort()).toEqual([
      'model.pkl#-',
      'weights/big.bin#1',
      'weights/big.bin#2',
      'weights/big.bin#3',
    ]);
    // The resume state is gone after success.
    expect(existsSync(stateDir) ? readdirSync(stateDir) : []).toEqual([]);

    const downloads: ProgressEvent[] = [];
    const got = await client.downloadModel(`models:/${name}/1`, out, {
      onProgress: (e) => downloads.push(e),
    });
    expect(got.download.files.map((f) => f.path)).toEqual(['model.pkl', 'weights/big.bin']);
    expectSameFiles(out);
    expect(downloads.at(-1)).toEqual({ phase: 'downloading', bytesDone: total, bytesTotal: total });
  });

  it('uploads a single file under its basename', async () => {
    const { name, stateDir, out } = await fresh();
    const version = await client.uploadModel(name, join(modelDir, 'model.pkl'), {
      stateDir,
      pollIntervalMs: 50,
    });
    expect(version.files).toEqual([
      { path: 'model.pkl', size: 1234, sha256: sha256(contents['model.pkl']!) },
    ]);
    await client.setRegisteredModelAlias(name, 'prod', version.version);
    await client.downloadModel(`models:/${name}@prod`, out);
    expect(readFileSync(join(out, 'model.pkl')).equals(contents['model.pkl']!)).toBe(true);
  });

  it('resumes an interrupted upload: same version, only the missing parts', async () => {
    const { name, stateDir, out } = await fresh();
    const controller = new AbortController();
    const first: TransferEvent[] = [];
    const interrupted = await client
      .uploadModel(name, modelDir, {
        stateDir,
        concurrency: 1,
        signal: controller.signal,
        onTransfer: (e) => {
          first.push(e);
          if (first.length === 2) controller.abort(new Error('interrupted'));
        },
      })
      .catch((e) => e);
    expect(interrupted).toBeInstanceOf(Error);
    expect(interrupted.message).toBe('interrupted');
    expect(first.map((t) => `${t.path}#${t.partNumber ?? '-'}`)).toEqual([
      'model.pkl#-',
      'weights/big.bin#1',
    ]);
    expect(readdirSync(stateDir)).toHaveLength(1);
    const pending = await client.listModelVersions(name);
    expect(pending.model_versions.map((v) => [v.version, v.status])).toEqual([[1, 'PENDING_REGISTRATION']]);

    const second: TransferEvent[] = [];
    const version = await client.uploadModel(name, modelDir, {
      stateDir,
      pollIntervalMs: 50,
      onTransfer: (e) => second.push(e),
    });
    expect(version).toMatchObject({ version: 1, status: 'READY' });
    expect(second.map((t) => `${t.path}#${t.partNumber}`).sort()).toEqual([
      'weights/big.bin#2',
      'weights/big.bin#3',
    ]);
    expect((await client.listModelVersions(name)).model_versions).toHaveLength(1);
    expect(readdirSync(stateDir)).toEqual([]);
    await client.downloadModel(`models:/${name}/latest`, out);
    expectSameFiles(out);
  });

  it('treats a PUT file that storage already has (412) as uploaded when resuming', async () => {
    const { name, stateDir } = await fresh();
    const controller = new AbortController();
    await client
      .uploadModel(name, modelDir, {
        stateDir,
        concurrency: 1,
        signal: controller.signal,
        onTransfer: () => controller.abort(new Error('stop')),
      })
      .catch(() => undefined);
    // Forget that model.pkl was stored: the resumed run PUTs it again and gets 412.
    const [file] = readdirSync(stateDir);
    const state = JSON.parse(readFileSync(join(stateDir, file!), 'utf8'));
    expect(state.done).toEqual(['model.pkl']);
    state.done = [];
    writeFileSync(join(stateDir, file!), JSON.stringify(state));
    const transfers: TransferEvent[] = [];
    const version = await client.uploadModel(name, modelDir, {
      stateDir,
      pollIntervalMs: 50,
      onTransfer: (e) => transfers.push(e),
    });
    expect(version.status).toBe('READY');
    expect(transfers.find((t) => t.path === 'model.pkl')?.status).toBe(412);
  });

  /** Uploads a directory whose one file is rewritten after it was hashed; returns the error. */
  async function uploadChangingFile(name: string, stateDir: string, size: number) {
    const dir = join(work, `changing-${name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'm.bin'), randomBytes(size));
    let changed = false;
    return client
      .uploadModel(name, dir, {
        stateDir,
        pollIntervalMs: 50,
        onProgress: (e) => {
          if (e.phase === 'uploading' && !changed) {
            changed = true;
            writeFileSync(join(dir, 'm.bin'), randomBytes(size));
          }
        },
      })
      .catch((e) => e);
  }

  it('throws ArtifactVerificationError with the registry message when verification fails', async () => {
    const { name, stateDir } = await fresh();
    // Multipart: storage checks no whole-file SHA-256, the registry's verification catches it.
    const err = await uploadChangingFile(name, stateDir, 6 * MiB);
    expect(err).toBeInstanceOf(ArtifactVerificationError);
    expect(err.path).toBe('m.bin');
    expect(err.version).toBe(1);
    expect(err.message).toMatch(/File 'm\.bin' has SHA-256 [0-9a-f]{64}; [0-9a-f]{64} was declared/);
    expect((await client.getModelVersion(name, 1)).status).toBe('FAILED_REGISTRATION');
  });

  it('throws TransferError when storage refuses a single PUT whose body does not match its SHA-256', async () => {
    const { name, stateDir } = await fresh();
    const err = await uploadChangingFile(name, stateDir, 4096);
    expect(err).toBeInstanceOf(TransferError);
    expect(err.path).toBe('m.bin');
    expect(err.status).toBe(400);
    expect(err.message).toContain('BadDigest');
    expect((await client.getModelVersion(name, 1)).status).toBe('PENDING_REGISTRATION');
  });

  it('refuses a downloaded file that does not match the manifest, and deletes it', async () => {
    const { name, stateDir, out } = await fresh();
    await client.uploadModel(name, join(modelDir, 'model.pkl'), { stateDir, pollIntervalMs: 50 });
    // Fault injection: the manifest the registry answers is tampered with on the way.
    const tampering = new RegistryClient({
      endpoint: registry.url,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        if (!String(input).includes('/resolve')) return res;
        const body = (await res.json()) as any;
        body.download.files[0].sha256 = sha256(Buffer.from('something else'));
        return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
      },
    });
    const err = await tampering.downloadModel(`models:/${name}/1`, out).catch((e) => e);
    expect(err).toBeInstanceOf(ArtifactVerificationError);
    expect(err.path).toBe('model.pkl');
    expect(err.message).toContain("File 'model.pkl' has SHA-256");
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses a manifest path that would escape the target directory', async () => {
    const { name, stateDir, out } = await fresh();
    await client.uploadModel(name, join(modelDir, 'model.pkl'), { stateDir, pollIntervalMs: 50 });
    const escaping = new RegistryClient({
      endpoint: registry.url,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        const body = (await res.json()) as any;
        if (body.download) body.download.files[0].path = '../escaped.pkl';
        return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
      },
    });
    const err = await escaping.downloadModel(`models:/${name}/1`, out).catch((e) => e);
    expect(err).toBeInstanceOf(ArtifactVerificationError);
    expect(err.message).toContain("Refusing to write '../escaped.pkl'");
    expect(existsSync(join(out, '..', 'escaped.pkl'))).toBe(false);
  });

  it('surfaces the registry refusal as a RegistryApiError', async () => {
    const err = await client
      .uploadModel('no-such-model', join(modelDir, 'model.pkl'), { stateDir: join(work, 'none') })
      .catch((e) => e);
    expect(err).toBeInstanceOf(RegistryApiError);
    expect(err.isNotFound()).toBe(true);
  });
});
