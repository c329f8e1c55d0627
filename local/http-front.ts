/**
 * The local stand-in for API Gateway: turns each HTTP request into the REST API proxy event
 * (payload format 1.0) that the deployed API sends, routed with the same contract, and invokes
 * the same handlers.
 *
 * Identity (local use only; docs/identity.md): the access key id of a SigV4-signed request names
 * the principal, `arn:aws:iam::000000000000:user/<access key id>`; an unsigned request is
 * `arn:aws:iam::000000000000:user/local-user`. Signatures are not verified. To present any caller
 * shape API Gateway reports (an assumed role's session, a Cognito identity, a federated user…), a
 * request may carry `X-Local-Identity`: a JSON object of `requestContext.identity` fields, which
 * this front puts into the event as API Gateway would. Deployed, API Gateway builds the identity
 * itself and the handlers never read it from headers, so the header has no effect there.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { FunctionGroup } from '../functions/api/contract';
import { isMlflowPath } from '../functions/api/mlflow/contract';
import { ALL_OPERATIONS } from '../functions/api/routes';
import { LOCAL_ACCOUNT, lambdaContext } from './lambda-context';

export const DEFAULT_LOCAL_PRINCIPAL = `arn:aws:iam::${LOCAL_ACCOUNT}:user/local-user`;
/** API Gateway's own limit on a REST API payload. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

interface Route {
  readonly method: string;
  readonly template: string;
  readonly segments: readonly string[];
  readonly group: FunctionGroup;
}

const ROUTES: readonly Route[] = ALL_OPERATIONS.map((o) => ({
  method: o.method,
  template: o.path,
  segments: o.path.split('/').filter(Boolean),
  group: o.group,
}));

function match(
  path: string,
): { routes: Route[]; params: Record<string, string> } | 'bad-encoding' | undefined {
  const raw = path.split('/').filter(Boolean);
  let segments: string[];
  try {
    segments = raw.map((s) => decodeURIComponent(s));
  } catch {
    return 'bad-encoding';
  }
  let found: { routes: Route[]; params: Record<string, string> } | undefined;
  for (const route of ROUTES) {
    if (route.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    route.segments.forEach((seg, i) => {
      if (!ok) return;
      if (seg.startsWith('{') && seg.endsWith('}')) params[seg.slice(1, -1)] = segments[i]!;
      else if (seg !== segments[i]) ok = false;
    });
    if (!ok) continue;
    // Literal segments win over parameters, as in API Gateway.
    if (!found || literalCount(route) > literalCount(found.routes[0]!)) found = { routes: [route], params };
    else if (found.routes[0]!.template === route.template) found.routes.push(route);
  }
  return found;
}

const literalCount = (r: Route) => r.segments.filter((s) => !s.startsWith('{')).length;

/** The `requestContext.identity` fields a local request may set with `X-Local-Identity`. */
export const LOCAL_IDENTITY_FIELDS = [
  'userArn',
  'caller',
  'user',
  'accessKey',
  'accountId',
  'cognitoIdentityId',
  'cognitoIdentityPoolId',
  'cognitoAuthenticationType',
  'cognitoAuthenticationProvider',
  'principalOrgId',
] as const;

export const LOCAL_IDENTITY_HEADER = 'x-local-identity';

/** Reads `X-Local-Identity`; a string naming the mistake when it is not a valid identity object. */
export function localIdentity(
  headers: IncomingMessage['headers'],
): Partial<Record<(typeof LOCAL_IDENTITY_FIELDS)[number], string | null>> | string | undefined {
  const raw = headers[LOCAL_IDENTITY_HEADER];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw.join(',') : raw;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'X-Local-Identity is not JSON.';
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return 'X-Local-Identity must be a JSON object of requestContext.identity fields.';
  }
  const out: Record<string, string | null> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!(LOCAL_IDENTITY_FIELDS as readonly string[]).includes(key)) {
      return `X-Local-Identity: unknown field '${key.slice(0, 40)}'; the fields are ${LOCAL_IDENTITY_FIELDS.join(', ')}.`;
    }
    if (v !== null && (typeof v !== 'string' || v.length > 2048)) {
      return `X-Local-Identity: ${key} must be a string (at most 2048 characters) or null.`;
    }
    out[key] = v;
  }
  return out;
}

/** The principal a request speaks for, from its SigV4 credential scope (local use only). */
export function localPrincipal(headers: IncomingMessage['headers'], query: URLSearchParams): string {
  const auth = headers.authorization;
  const credential =
    (typeof auth === 'string' ? /Credential=([^/,\s]+)\//.exec(auth)?.[1] : undefined) ??
    query.get('X-Amz-Credential')?.split('/')[0];
  return credential && /^[\w-]{1,128}$/.test(credential)
    ? `arn:aws:iam::${LOCAL_ACCOUNT}:user/${credential}`
    : DEFAULT_LOCAL_PRINCIPAL;
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

export interface LocalFrontOptions {
  readonly handlers: Record<FunctionGroup, LambdaHandler>;
  /** Answers GET /health: 200 once everything behind the front is ready. */
  readonly ready: () => boolean;
  /** Extra routes served before the API (e.g. the local event log). */
  readonly extra?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
  /**
   * Answers a path no API route matches (the web console), before the 404; resolves false to
   * leave the request to the 404. API routes keep priority over it.
   */
  readonly fallback?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
}

export function createLocalFront(options: LocalFrontOptions): Server {
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/health' && req.method === 'GET') {
        const ok = options.ready();
        return send(res, ok ? 200 : 503, { status: ok ? 'ok' : 'starting' });
      }
      if (options.extra && (await options.extra(req, res, url))) return;

      const found = match(url.pathname);
      if (found === 'bad-encoding') {
        return send(res, 400, {
          error_code: 'INVALID_PARAMETER_VALUE',
          message: 'The path is not valid URL encoding.',
        });
      }
      const route = found?.routes.find((r) => r.method === req.method);
      if (!route && isMlflowPath(url.pathname)) {
        // MLflow clients treat an endpoint as method + path and fall back (POST to GET
        // get-latest-versions) only on ENDPOINT_NOT_FOUND, as functions/api/mlflow/errors.ts maps it.
        return send(res, 404, {
          error_code: 'ENDPOINT_NOT_FOUND',
          message: `No route for ${req.method} ${url.pathname}.`,
        });
      }
      if (!found && (await options.fallback?.(req, res, url))) return;
      if (!found || !route) {
        // What API Gateway answers for a route it does not have.
        return send(res, found ? 405 : 404, {
          error_code: found ? 'METHOD_NOT_ALLOWED' : 'ENDPOINT_NOT_FOUND',
          message: found
            ? `${req.method} is not allowed on ${found.routes[0]!.template}.`
            : `No route for ${req.method} ${url.pathname}.`,
        });
      }
      const body = await readBody(req);
      if (body === 'too-large') {
        return send(res, 413, {
          error_code: 'PAYLOAD_TOO_LARGE',
          message: 'The request is larger than 10 MB.',
        });
      }
      // Form decoding, as API Gateway fills multiValueQueryStringParameters: '+' is a space
      // (python-requests, hence MLflow clients, encode spaces so) and %2B is a '+'. The handlers
      // never decode query values again.
      const multiQuery: Record<string, string[]> = {};
      for (const [k, v] of url.searchParams) {
        const list = multiQuery[k] ?? [];
        list.push(v);
        multiQuery[k] = list;
      }
      const headers: Record<string, string> = {};
      const multiHeaders: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined) continue;
        const values = Array.isArray(v) ? v : [v];
        headers[k] = values[values.length - 1]!;
        multiHeaders[k] = values;
      }
      const principal = localPrincipal(req.headers, url.searchParams);
      const presented = localIdentity(req.headers);
      if (typeof presented === 'string') {
        return send(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message: presented });
      }
      const requestId = randomUUID();
      const event: APIGatewayProxyEvent = {
        resource: route.template,
        path: url.pathname,
        httpMethod: req.method!,
        headers,
        multiValueHeaders: multiHeaders,
        queryStringParameters: Object.keys(multiQuery).length
          ? Object.fromEntries(Object.entries(multiQuery).map(([k, v]) => [k, v[v.length - 1]!]))
          : null,
        multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
        pathParameters: Object.keys(found.params).length ? found.params : null,
        stageVariables: null,
        body: body.length ? body.toString('utf8') : null,
        isBase64Encoded: false,
        requestContext: {
          accountId: LOCAL_ACCOUNT,
          apiId: 'local',
          authorizer: undefined,
          protocol: 'HTTP/1.1',
          httpMethod: req.method!,
          path: `/local${url.pathname}`,
          stage: 'local',
          requestId,
          requestTimeEpoch: Date.now(),
          resourceId: route.template,
          resourcePath: route.template,
          identity: {
            accessKey: principal.split('/').pop() ?? null,
            accountId: LOCAL_ACCOUNT,
            apiKey: null,
            apiKeyId: null,
            caller: principal,
            clientCert: null,
            cognitoAuthenticationProvider: null,
            cognitoAuthenticationType: null,
            cognitoIdentityId: null,
            cognitoIdentityPoolId: null,
            principalOrgId: null,
            sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
            user: principal,
            userAgent: headers['user-agent'] ?? null,
            userArn: principal,
            ...presented,
          },
        },
      };
      const context = lambdaContext(route.group, { requestId });
      const result = await options.handlers[route.group](event, context);
      const outHeaders: Record<string, string> = {};
      for (const [k, v] of Object.entries(result.headers ?? {})) outHeaders[k] = String(v);
      res.writeHead(result.statusCode, outHeaders);
      res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
    } catch (err) {
      // The front itself failed (not the handler, which maps its own errors).
      console.error('local front: request failed', err);
      if (!res.headersSent)
        send(res, 500, { error_code: 'INTERNAL_ERROR', message: 'The local front failed.' });
      else res.end();
    }
  });
}
