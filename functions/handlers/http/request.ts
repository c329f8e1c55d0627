/**
 * Reads an API Gateway REST API proxy event (payload format 1.0) into validated operation input.
 * Every rejection here is a 4xx that changes nothing.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { z } from 'zod';
import type { OperationSpec } from '../../api/contract';
import { NAME_IN_QUERY, NAME_QUERY_PARAMETER } from '../../api/model-name-path';
import type { Protocol, RequestPart, ValidatedInput } from '../../api/protocol';
import { InvalidParameterError, MalformedRequestError, PayloadTooLargeError } from '../../domain/errors';
import { type IdentityTrust, type Principal, principalOf } from '../../domain/identity';
import { UnsupportedMediaTypeError } from './errors';

/** The largest JSON body the API accepts (metadata only: artifacts go to S3 directly). */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * The person API Gateway authenticated with SigV4, from `requestContext.identity` only: a deployed
 * caller cannot set it (headers are never read for identity). Locally the front fills the same
 * fields (docs/identity.md).
 */
export function callerOf(event: APIGatewayProxyEvent, trust: IdentityTrust): Principal {
  return principalOf(event.requestContext?.identity, trust);
}

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {}))
    if (k.toLowerCase() === want) return v ?? undefined;
  return undefined;
}

function parseBody(event: APIGatewayProxyEvent, spec: OperationSpec): Record<string, unknown> {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`The request body is larger than ${MAX_BODY_BYTES} bytes.`);
  }
  if (!spec.body) {
    // DELETE requests may carry an (ignored) empty JSON object, as MLflow clients send.
    if (text.trim() !== '' && text.trim() !== '{}') {
      throw new InvalidParameterError(`${spec.method} ${spec.path} takes no request body.`);
    }
    return {};
  }
  const contentType = header(event, 'content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new UnsupportedMediaTypeError(
      `Send the request body as JSON with 'Content-Type: application/json' (got '${contentType.slice(0, 100)}').`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MalformedRequestError('The request body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MalformedRequestError('The request body must be a JSON object.');
  }
  if (depthOf(parsed) > MAX_BODY_DEPTH) {
    throw new MalformedRequestError(
      `The request body nests objects or arrays more than ${MAX_BODY_DEPTH} levels deep; no field of this API needs that.`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** No field of the API nests deeper; deeper input is refused before any code walks it recursively. */
export const MAX_BODY_DEPTH = 32;

/** The nesting depth of a parsed JSON value, measured without recursion (no stack to overflow). */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > MAX_BODY_DEPTH) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

function parseQuery(event: APIGatewayProxyEvent, spec: OperationSpec): Record<string, unknown> {
  const multi = event.multiValueQueryStringParameters ?? {};
  const single = event.queryStringParameters ?? {};
  const keys = new Set([...Object.keys(multi), ...Object.keys(single)]);
  const lists = new Set(spec.queryLists ?? []);
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const values = (multi[key] ?? (single[key] !== undefined ? [single[key]] : [])).filter(
      (x): x is string => x !== undefined,
    );
    if (lists.has(key)) out[key] = values;
    else if (values.length > 1)
      throw new InvalidParameterError(`Query parameter '${key}' was given more than once.`);
    else out[key] = values[0];
  }
  return out;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A request part parsed by its schema; a failure is a 400 worded as the route's protocol words it. */
function validate(
  spec: OperationSpec,
  schema: z.ZodType | undefined,
  value: unknown,
  where: RequestPart,
  protocol: Protocol,
): Record<string, unknown> {
  if (!schema) return {};
  const result = schema.safeParse(value);
  if (!result.success)
    throw new InvalidParameterError(protocol.validationMessage(result.error.issues, where));
  const data: unknown = result.data;
  if (!isObject(data))
    throw new Error(`The ${where} schema of ${spec.operationId} does not describe an object.`);
  return data;
}

export function readInput(
  event: APIGatewayProxyEvent,
  spec: OperationSpec,
  protocol: Protocol,
  trust: IdentityTrust,
): ValidatedInput {
  const rawPath: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.pathParameters ?? {})) if (v !== undefined) rawPath[k] = v;
  const rawQuery = parseQuery(event, spec);
  // A model name a path cannot carry comes in the query (functions/api/model-name-path.ts).
  if (rawPath.name === NAME_IN_QUERY) {
    const name = rawQuery[NAME_QUERY_PARAMETER];
    if (typeof name !== 'string') {
      throw new InvalidParameterError(
        `The path names the model '${NAME_IN_QUERY}': give its name in the '${NAME_QUERY_PARAMETER}' query parameter.`,
      );
    }
    rawPath.name = name;
    delete rawQuery[NAME_QUERY_PARAMETER];
  }
  return {
    path: validate(spec, spec.pathParams, rawPath, 'path', protocol),
    query: validate(spec, spec.query, rawQuery, 'query', protocol),
    body: validate(spec, spec.body, parseBody(event, spec), 'body', protocol),
    caller: callerOf(event, trust),
  };
}
