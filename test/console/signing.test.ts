/**
 * The console's API client and its pluggable signing: SigV4 (aws4fetch, for the deployed
 * console) signs exactly as the AWS SDK's signer does, and the local front names the caller from
 * it; the local identity header names any principal; errors carry the API's code and message.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRegistry } from '../../local/registry';
import { ApiError, RegistryApi } from '../../web/src/api/client';
import { localIdentity, sigv4 } from '../../web/src/api/signers';
import { localRegistry } from '../support/engines';

let registry: LocalRegistry | undefined;
beforeAll(async () => {
  registry = await localRegistry();
});
afterAll(async () => {
  await registry?.stop();
});

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

describe('the console API client', () => {
  it('signs with SigV4 exactly as the AWS SDK signer does (path, query, body)', async () => {
    const when = new Date('2026-11-30T12:00:00Z');
    const url = new URL(
      'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/models/my%20model/versions?filter=name%20LIKE%20%27a%25%27&max_results=5',
    );
    const body = JSON.stringify({ description: 'x' });
    const headers = await sigv4(
      'eu-west-1',
      async () => ({ ...credentials, sessionToken: 'token' }),
      () => when,
    )({
      method: 'PATCH',
      url: url.href,
      headers: { 'content-type': 'application/json' },
      body,
    });
    const reference = await new SignatureV4({
      service: 'execute-api',
      region: 'eu-west-1',
      credentials: { ...credentials, sessionToken: 'token' },
      sha256: Sha256,
      applyChecksum: false,
    }).sign(
      new HttpRequest({
        method: 'PATCH',
        protocol: 'https:',
        hostname: url.hostname,
        path: url.pathname, // encoded as sent, as the SDK signs it (sdk/signing.ts)
        query: { filter: "name LIKE 'a%'", max_results: '5' },
        headers: { host: url.hostname, 'content-type': 'application/json', 'x-amz-date': '20261130T120000Z' },
        body,
      }),
      // aws4fetch signs host and the x-amz-* headers (what API Gateway requires).
      { signingDate: when, unsignableHeaders: new Set(['content-type']) },
    );
    const signature = (auth: string) => /Signature=([0-9a-f]{64})/.exec(auth)?.[1];
    expect(headers['x-amz-security-token']).toBe('token');
    expect(headers.authorization).toContain('SignedHeaders=host;x-amz-date;x-amz-security-token,');
    expect(signature(headers.authorization!)).toBe(signature(String(reference.headers.authorization)));
  });

  it('is named by its SigV4 access key id in local mode', async () => {
    const api = new RegistryApi(
      registry!.url,
      sigv4('us-east-1', async () => ({ accessKeyId: 'dave', secretAccessKey: 'x' })),
    );
    await api.request('POST', '/models', { body: { name: 'signed-by-dave' } });
    const model = await api.getModel('signed-by-dave');
    expect(model.created_by).toBe('arn:aws:iam::000000000000:user/dave');
  });

  it('presents any principal with the local identity header', async () => {
    const arn = 'arn:aws:sts::000000000000:assumed-role/Deployer/erin';
    const api = new RegistryApi(registry!.url, localIdentity(arn));
    await api.request('POST', '/models', { body: { name: 'created-by-erin', tags: { team: 'ml' } } });
    const model = await api.getModel('created-by-erin');
    expect(model.created_by).toBe(arn);
    const page = await api.searchModels({
      filter: "tags.team = 'ml' AND name LIKE 'created-by%'",
      max_results: 5,
    });
    expect(page.registered_models.map((m) => m.name)).toEqual(['created-by-erin']);
  });

  it("turns an error answer into an ApiError with the API's code and message", async () => {
    const api = new RegistryApi(registry!.url, localIdentity('arn:aws:iam::000000000000:user/alice'));
    const error = await api.getModel('no-such-model').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, code: 'RESOURCE_DOES_NOT_EXIST' });
    expect((error as ApiError).message).toContain('no-such-model');
    const unreachable = await new RegistryApi('http://127.0.0.1:9', localIdentity('x'))
      .getModel('m')
      .catch((e: unknown) => e);
    expect(unreachable).toMatchObject({ code: 'NETWORK_ERROR' });
  });
});
