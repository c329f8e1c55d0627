/**
 * The SDK's HTTP layer against a tiny local server: SigV4 signatures that verify against an
 * independent implementation of the algorithm (node:crypto, written from AWS's documentation),
 * RFC 3986 query encoding (%20 for spaces) identical in the signature and on the wire, unsigned
 * requests on loopback when no credentials exist, and the retry policy (429/5xx/network only).
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RegistryApiError,
  RegistryClient,
  RegistryNetworkError,
  TransitionRequestWaitTimeoutError,
} from '../../sdk';

interface Captured {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** Starts a server that records each request and answers with `respond(n, req, res)`. */
async function fakeRegistry(
  respond: (n: number, req: Captured, res: ServerResponse) => void,
): Promise<{ url: string; requests: Captured[] }> {
  const requests: Captured[] = [];
  server = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const captured = { method: req.method!, url: req.url!, headers: req.headers, body };
    requests.push(captured);
    respond(requests.length, captured, res);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const staticCredentials = async () => CREDS;

// ----------------------------------------------------------- independent SigV4 (AWS docs)
const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const hex = (data: string) => createHash('sha256').update(data).digest('hex');

function expectedSignature(req: Captured, secret: string, region: string, service: string): string {
  const auth = req.headers.authorization!;
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) throw new Error(`Unexpected Authorization header: ${auth}`);
  const [, , date, scopeRegion, scopeService, signedHeaders] = m;
  expect(scopeRegion).toBe(region);
  expect(scopeService).toBe(service);
  const [rawPath, rawQuery = ''] = req.url.split('?');
  // Non-S3 services: each path segment is URI-encoded (again).
  const canonicalUri = rawPath!
    .split('/')
    .map((seg) => rfc3986(seg))
    .join('/');
  const canonicalQuery = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [k, v = ''] = pair.split('=');
      return [rfc3986(decodeURIComponent(k!)), rfc3986(decodeURIComponent(v))] as const;
    })
    .sort(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : 1) : ak < bk ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signedHeaders!.split(';');
  const canonicalHeaders = names
    .map((n) => `${n}:${String(req.headers[n]).trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [
    req.method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    hex(req.body),
  ].join('\n');
  const amzDate = String(req.headers['x-amz-date']);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region), service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('signing', () => {
  it('signs a GET with a query that verifies independently, spaces sent as %20', async () => {
    const fake = await fakeRegistry((_n, _req, res) => json(res, 200, { registered_models: [] }));
    const client = new RegistryClient({
      endpoint: `${fake.url}/prod`,
      region: 'eu-west-1',
      credentials: staticCredentials,
    });
    await client.searchRegisteredModels({
      filter: "name LIKE '%churn model%' AND tags.team = 'a+b'",
      order_by: ['name DESC', 'creation_timestamp'],
      max_results: 10,
    });
    const [req] = fake.requests;
    expect(req!.url).toContain(
      'filter=name%20LIKE%20%27%25churn%20model%25%27%20AND%20tags.team%20%3D%20%27a%2Bb%27',
    );
    expect(req!.url).not.toContain('+');
    expect(req!.url.startsWith('/prod/models?')).toBe(true);
    expect(new URL(req!.url, fake.url).searchParams.getAll('order_by')).toEqual([
      'name DESC',
      'creation_timestamp',
    ]);
    const signature = /Signature=([0-9a-f]{64})$/.exec(req!.headers.authorization!)![1];
    expect(signature).toBe(expectedSignature(req!, CREDS.secretAccessKey, 'eu-west-1', 'execute-api'));
    const signed = /SignedHeaders=([^,]+)/.exec(req!.headers.authorization!)![1]!.split(';');
    expect(signed).toEqual(expect.arrayContaining(['host', 'x-amz-date']));
  });

  it('signs a POST body and an encoded path (double-encoded in the canonical request)', async () => {
    const fake = await fakeRegistry((_n, _req, res) => json(res, 200, {}));
    const client = new RegistryClient({
      endpoint: fake.url,
      region: 'us-west-2',
      credentials: staticCredentials,
    });
    await client.setModelVersionTag('my modèle', 3, 'k e y', 'välue');
    const [req] = fake.requests;
    expect(req!.url).toBe('/models/my%20mod%C3%A8le/versions/3/tags');
    expect(JSON.parse(req!.body)).toEqual({ key: 'k e y', value: 'välue' });
    const signature = /Signature=([0-9a-f]{64})$/.exec(req!.headers.authorization!)![1];
    expect(signature).toBe(expectedSignature(req!, CREDS.secretAccessKey, 'us-west-2', 'execute-api'));
  });

  it.each([
    ['team/model'],
    ['a%b'],
    ['..'],
    ['~'],
    ['q?x#y'],
  ])('sends the name %j, which a path cannot carry, in the query (signed)', async (name) => {
    const fake = await fakeRegistry((_n, _req, res) => json(res, 200, {}));
    const client = new RegistryClient({
      endpoint: fake.url,
      region: 'us-west-2',
      credentials: staticCredentials,
    });
    await client.setModelVersionTag(name, 3, 'k', 'v');
    const [req] = fake.requests;
    const url = new URL(req!.url, 'http://x');
    expect(url.pathname).toBe('/models/~/versions/3/tags');
    expect(url.searchParams.get('name')).toBe(name);
    const signature = /Signature=([0-9a-f]{64})$/.exec(req!.headers.authorization!)![1];
    expect(signature).toBe(expectedSignature(req!, CREDS.secretAccessKey, 'us-west-2', 'execute-api'));
  });

  it('sends the session token of temporary credentials', async () => {
    const fake = await fakeRegistry((_n, _req, res) => json(res, 200, { transitions: [] }));
    const client = new RegistryClient({
      endpoint: fake.url,
      credentials: async () => ({ ...CREDS, sessionToken: 'SESSION' }),
    });
    await client.listTransitions('m', { version: 2 });
    const [req] = fake.requests;
    expect(req!.headers['x-amz-security-token']).toBe('SESSION');
    expect(req!.headers.authorization).toContain('x-amz-security-token');
    expect(/Signature=(\w+)$/.exec(req!.headers.authorization!)![1]).toBe(
      expectedSignature(req!, CREDS.secretAccessKey, 'us-east-1', 'execute-api'),
    );
  });

  it('sends unsigned requests to a loopback endpoint when no credentials can be found', async () => {
    const fake = await fakeRegistry((_n, _req, res) => json(res, 200, { registered_model: { name: 'm' } }));
    const client = new RegistryClient({
      endpoint: fake.url,
      credentials: async () => {
        throw new Error('no credentials');
      },
    });
    expect((await client.getRegisteredModel('m')).name).toBe('m');
    expect(fake.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('refuses to send unsigned requests to a remote endpoint', async () => {
    const client = new RegistryClient({
      endpoint: 'https://registry.example.com',
      credentials: async () => {
        throw new Error('no credentials');
      },
    });
    await expect(client.getRegisteredModel('m')).rejects.toThrow(/No AWS credentials/);
  });
});

describe('retries', () => {
  const client = (url: string, extra: Partial<ConstructorParameters<typeof RegistryClient>[0]> = {}) =>
    new RegistryClient({ endpoint: url, credentials: staticCredentials, retryBaseDelayMs: 1, ...extra });

  it('retries a 503, then succeeds', async () => {
    const fake = await fakeRegistry((n, _req, res) =>
      n === 1
        ? json(res, 503, { error_code: 'SERVICE_UNAVAILABLE', message: 'busy' })
        : json(res, 200, { model_version: { version: 7 } }),
    );
    expect((await client(fake.url).getModelVersion('m', 7)).version).toBe(7);
    expect(fake.requests).toHaveLength(2);
    // Each attempt is signed afresh.
    for (const req of fake.requests) {
      expect(/Signature=(\w+)$/.exec(req.headers.authorization!)![1]).toBe(
        expectedSignature(req, CREDS.secretAccessKey, 'us-east-1', 'execute-api'),
      );
    }
  });

  it.each([
    429, 500, 502, 504,
  ])('retries %i up to maxAttempts, then throws the last error', async (status) => {
    const fake = await fakeRegistry((_n, _req, res) =>
      json(res, status, { error_code: 'BUSY', message: `status ${status}` }, { 'x-request-id': 'req-1' }),
    );
    const err = await client(fake.url, { maxAttempts: 3 })
      .getRegisteredModel('m')
      .catch((e) => e);
    expect(err).toBeInstanceOf(RegistryApiError);
    expect(err).toMatchObject({ status, errorCode: 'BUSY', message: `status ${status}`, requestId: 'req-1' });
    expect(fake.requests).toHaveLength(3);
  });

  it.each([400, 401, 403, 404, 409, 413])('never retries %i', async (status) => {
    const fake = await fakeRegistry((_n, _req, res) =>
      json(
        res,
        status,
        { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'nope' },
        { 'x-request-id': 'r-9' },
      ),
    );
    const err = await client(fake.url)
      .getRegisteredModel('m')
      .catch((e) => e);
    expect(err).toBeInstanceOf(RegistryApiError);
    expect(err).toMatchObject({
      status,
      errorCode: 'RESOURCE_DOES_NOT_EXIST',
      message: 'nope',
      requestId: 'r-9',
    });
    expect(err.isNotFound()).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });

  it('retries network errors, then gives up with a RegistryNetworkError', async () => {
    const fake = await fakeRegistry((n, req, res) => {
      if (n < 3) res.socket?.destroy();
      else json(res, 200, { registered_model: { name: JSON.parse(req.body).name } });
    });
    expect((await client(fake.url).createRegisteredModel('m')).name).toBe('m');
    expect(fake.requests).toHaveLength(3);

    const down = await fakeRegistry((_n, _req, res) => res.socket?.destroy());
    const err = await client(down.url, { maxAttempts: 2 })
      .getRegisteredModel('m')
      .catch((e) => e);
    expect(err).toBeInstanceOf(RegistryNetworkError);
    expect(down.requests).toHaveLength(2);
  });

  it('sends the same client_token on every attempt of createModelVersion', async () => {
    const fake = await fakeRegistry((n, _req, res) =>
      n === 1
        ? json(res, 500, { error_code: 'INTERNAL_ERROR', message: 'x' })
        : json(res, 201, { model_version: { version: 1 } }),
    );
    await client(fake.url).createModelVersion('m', { source: 's3://b/k' });
    const tokens = fake.requests.map((r) => JSON.parse(r.body).client_token);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(tokens[1]).toBe(tokens[0]);
    await client(fake.url).createModelVersion('m', { source: 's3://b/k', client_token: 'mine' });
    expect(JSON.parse(fake.requests[2]!.body).client_token).toBe('mine');
  });

  it('maps a non-JSON error page to an error with the HTTP status', async () => {
    const fake = await fakeRegistry((_n, _req, res) => {
      res.writeHead(403, {
        'content-type': 'text/html',
        'x-amzn-errortype': 'AccessDeniedException:http://x',
      });
      res.end('<html>denied</html>');
    });
    const err = await client(fake.url)
      .getRegisteredModel('m')
      .catch((e) => e);
    expect(err).toMatchObject({ status: 403, errorCode: 'AccessDeniedException' });
    expect(err.isPermissionDenied()).toBe(true);
  });
});

describe('waitForTransitionRequest', () => {
  const request = (status: string) => ({
    transition_request: {
      id: 'tr-1',
      name: 'churn',
      version: 1,
      kind: 'stage',
      status,
      to_stage: 'Production',
      ...(status === 'FAILED' ? { reason: 'auc below 0.95' } : {}),
    },
  });

  it('reads the request until it is decided, and returns it', async () => {
    const statuses = ['PENDING', 'APPROVED', 'APPROVED', 'FAILED'];
    const fake = await fakeRegistry((n, _req, res) => json(res, 200, request(statuses[n - 1] ?? 'FAILED')));
    const client = new RegistryClient({ endpoint: fake.url, credentials: staticCredentials });
    const decided = await client.waitForTransitionRequest('churn', 'tr-1', { pollIntervalMs: 10 });
    expect([decided.status, decided.reason]).toEqual(['FAILED', 'auc below 0.95']);
    expect(fake.requests.map((r) => `${r.method} ${r.url}`)).toEqual(
      Array(4).fill('GET /models/churn/transition-requests/tr-1'),
    );
  });

  it('stops at its timeout with an error that names the request and its status', async () => {
    const fake = await fakeRegistry((_n, _req, res) => json(res, 200, request('APPROVED')));
    const client = new RegistryClient({ endpoint: fake.url, credentials: staticCredentials });
    const err = await client
      .waitForTransitionRequest('churn', 'tr-1', { timeoutMs: 200, pollIntervalMs: 20 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(TransitionRequestWaitTimeoutError);
    expect(err.request.status).toBe('APPROVED');
    expect(err.message).toMatch(/^Request tr-1 of 'churn' is still APPROVED after 0.2 s; stopped waiting\./);
    expect(fake.requests.length).toBeGreaterThan(1);
  });
});
