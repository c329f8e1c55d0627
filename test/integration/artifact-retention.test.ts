/**
 * The files of a deleted model or version follow it: the cleanup function (run by the local rule
 * with the deployed rule's pattern) tags them registry-deleted=true, and from then on the local S3
 * denies reading them, as the deployed bucket policy does, so download URLs issued before the
 * delete stop working at once. The deployed lifecycle expiry is checked on the template
 * (test/infra/template.test.ts, "artifacts of deleted models and versions").
 */
import { createHash, randomBytes } from 'node:crypto';
import { GetObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELETED_TAG } from '../../functions/deployment/bucket';
import { LOCAL_AWS } from '../../local/dynamodb';
import type { LocalRegistry } from '../../local/registry';
import { apiClient, localRegistry, UNGUARDED } from '../support/engines';

let registry: LocalRegistry;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  registry = await localRegistry({ env: { GOVERNANCE_POLICY: UNGUARDED } });
  api = apiClient(registry.url, 'AKIAALICE');
});
afterAll(async () => {
  await registry?.stop();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Registers a READY version with one file; returns its download URL. */
async function readyVersion(name: string): Promise<{ version: number; url: string; body: Buffer }> {
  if ((await api('GET', `/models/${name}`)).status === 404) await api('POST', '/models', { name });
  const body = randomBytes(2048);
  const created = await api('POST', `/models/${name}/versions`, {
    files: [{ path: 'model.bin', size: body.length, sha256: sha256(body) }],
  });
  const version = created.body.model_version.version as number;
  const file = created.body.upload.files[0];
  expect((await fetch(file.url, { method: 'PUT', body, headers: file.headers })).status).toBe(200);
  expect((await api('POST', `/models/${name}/versions/${version}/finalize`, {})).status).toBe(200);
  await registry.settled();
  const download = await api('GET', `/models/${name}/versions/${version}/download`);
  expect(download.status, JSON.stringify(download.body)).toBe(200);
  return { version, url: download.body.download.files[0].url, body };
}

async function read(url: string, method = 'GET') {
  const res = await fetch(url, { method });
  return { status: res.status, text: await res.text() };
}

describe('files of deleted models and versions', () => {
  it('stop being readable the moment the version is deleted, download URLs issued before included', async () => {
    const one = await readyVersion('retired-version');
    const two = await readyVersion('retired-version');
    expect((await read(one.url)).status).toBe(200);

    expect((await api('DELETE', '/models/retired-version/versions/1')).status).toBe(200);
    await registry.settled();
    const denied = await read(one.url);
    expect(denied.status).toBe(403);
    expect(denied.text).toContain('<Code>AccessDenied</Code>');
    expect((await read(one.url, 'HEAD')).status).toBe(403);
    // The other version of the model is untouched.
    expect((await read(two.url)).status).toBe(200);
  });

  it('stop being readable for every version when the model is deleted, and other models keep theirs', async () => {
    const a = await readyVersion('retired-model');
    const b = await readyVersion('retired-model');
    const other = await readyVersion('kept-model');

    expect((await api('DELETE', '/models/retired-model')).status).toBe(200);
    await registry.settled();
    expect((await read(a.url)).status).toBe(403);
    expect((await read(b.url)).status).toBe(403);
    const kept = await fetch(other.url);
    expect(kept.status).toBe(200);
    expect(Buffer.from(await kept.arrayBuffer()).equals(other.body)).toBe(true);
  });

  it('are kept (tagged, not removed) for the retention window, their tag still readable', async () => {
    const v = await readyVersion('retained');
    expect((await api('DELETE', `/models/retained/versions/${v.version}`)).status).toBe(200);
    await registry.settled();
    const s3 = new S3Client({ endpoint: registry.s3Endpoint, forcePathStyle: true, ...LOCAL_AWS });
    const { pathname } = new URL(v.url);
    const [, bucket, ...key] = pathname.split('/');
    const tagging = await s3.send(
      new GetObjectTaggingCommand({ Bucket: bucket, Key: key.map(decodeURIComponent).join('/') }),
    );
    expect(tagging.TagSet).toEqual([{ Key: DELETED_TAG.key, Value: DELETED_TAG.value }]);
    s3.destroy();
  });
});
