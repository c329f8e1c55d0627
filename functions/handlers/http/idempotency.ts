/**
 * Idempotent mutating requests. A client that sends an `Idempotency-Key` header on a mutating
 * route gets, for every retry with the same key, the response of the first request that completed
 * (same status and body), even when its own first attempt ended in a timeout; a retry while the
 * first is still running gets 409 IDEMPOTENCY_IN_PROGRESS (retryable); the same key with other
 * parameters gets 422 IDEMPOTENCY_KEY_REUSED. Records are kept 24 hours, per caller (the person),
 * route and key (functions/adapters/dynamodb/idempotency.ts).
 *
 * Only successful responses (2xx) are recorded: a refused request changed nothing, so a retry of
 * it simply runs again.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { IdempotencyScope, IdempotencyStore } from '../../adapters/dynamodb/idempotency';
import type { OperationSpec } from '../../api/contract';
import type { ValidatedInput } from '../../api/protocol';
import { InvalidParameterError } from '../../domain/errors';
import { IdempotencyInProgressError, IdempotencyKeyReusedError } from './errors';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Set on a response that replays a recorded one. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** The `Idempotency-Key` header of a mutating request, validated; undefined when absent. */
export function idempotencyKeyOf(event: APIGatewayProxyEvent, spec: OperationSpec): string | undefined {
  if (spec.method === 'GET') return undefined;
  const want = IDEMPOTENCY_HEADER.toLowerCase();
  let value: string | undefined;
  for (const [k, v] of Object.entries(event.headers ?? {}))
    if (k.toLowerCase() === want) value = v ?? undefined;
  if (value === undefined) return undefined;
  if (!KEY_PATTERN.test(value)) {
    throw new InvalidParameterError(
      `The ${IDEMPOTENCY_HEADER} header must be 1 to 255 printable ASCII characters without spaces (a UUID is a good key).`,
    );
  }
  return value;
}

/** JSON with object keys sorted, so equal parameters hash equally whatever their order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The hash of what the request asks for: its path parameters, query and body. */
export function requestFingerprint(input: Pick<ValidatedInput, 'path' | 'query' | 'body'>): string {
  return createHash('sha256')
    .update(canonical({ path: input.path, query: input.query, body: input.body }), 'utf8')
    .digest('base64url');
}

/** How long a claim stays locked: the invocation's remaining time, and a little more. */
const LOCK_MARGIN_MS = 2_000;
const DEFAULT_LOCK_MS = 30_000;

/**
 * Runs `execute` at most once per (caller, route, key): returns the recorded response of an
 * earlier completed request, or runs it and records its response when it succeeds.
 */
export async function runIdempotently(
  store: IdempotencyStore,
  scope: IdempotencyScope,
  fingerprint: string,
  remainingMs: number | undefined,
  execute: () => Promise<APIGatewayProxyResult>,
  onRecordFailure: (err: unknown) => void = () => undefined,
): Promise<APIGatewayProxyResult> {
  const lockMs = (remainingMs && remainingMs > 0 ? remainingMs : DEFAULT_LOCK_MS) + LOCK_MARGIN_MS;
  const claim = await store.claim(scope, fingerprint, lockMs);
  if (claim.outcome === 'mismatch') {
    throw new IdempotencyKeyReusedError(
      `This ${IDEMPOTENCY_HEADER} was already used for a request with other parameters on ${scope.route}; use a new key for a new request.`,
    );
  }
  if (claim.outcome === 'in-progress') {
    throw new IdempotencyInProgressError(
      `A request with this ${IDEMPOTENCY_HEADER} is still being processed; retry in a moment to get its result.`,
    );
  }
  if (claim.outcome === 'completed') {
    return {
      statusCode: claim.response.statusCode,
      headers: { ...claim.response.headers, [REPLAYED_HEADER]: 'true' },
      body: claim.response.body,
    };
  }
  let result: APIGatewayProxyResult;
  try {
    result = await execute();
  } catch (err) {
    await store.release(scope, fingerprint).catch(() => undefined);
    throw err;
  }
  if (result.statusCode >= 200 && result.statusCode < 300) {
    const { 'X-Request-Id': _requestId, ...headers } = (result.headers ?? {}) as Record<string, string>;
    // The change is committed: answer with it even if it cannot be recorded (a retry then waits
    // for the lock to expire and runs again).
    await store
      .complete(scope, fingerprint, { statusCode: result.statusCode, headers, body: result.body })
      .catch(onRecordFailure);
  } else {
    await store.release(scope, fingerprint).catch(onRecordFailure);
  }
  return result;
}
