/**
 * The one place where errors become MLflow error responses (`{error_code, message}` with MLflow's
 * HTTP statuses), by class, for every route with `protocol: 'mlflow'`. The messages are the
 * registry's, which already use the wording MLflow clients match on ("Registered Model with
 * name=X not found", "Registered Model (name=X) already exists.", ...).
 *
 * MLflow's client retries 408, 429 and 5xx for about four minutes, so every deterministic error
 * must be a 4xx here.
 */
import type { z } from 'zod';
import {
  ConcurrentModificationError,
  EndpointNotFoundError,
  InvalidParameterError,
  InvalidStateError,
  LimitExceededError,
  MalformedRequestError,
  PayloadTooLargeError,
  PermissionDeniedError,
  RegistryError,
  ResourceAlreadyExistsError,
  ResourceNotFoundError,
} from '../../domain/errors';
import {
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  MethodNotAllowedError,
  UnsupportedMediaTypeError,
} from '../../handlers/http/errors';

/**
 * A stage change that a governance policy holds for approval. Nothing changed: the answer names
 * the transition request that was created and how to get it approved. MLflow has no "accepted"
 * answer for transition-stage (the client only knows 200 = applied), so it is an error, never a
 * silent success.
 */
export class TransitionPendingApprovalError extends InvalidStateError {}

type ErrorClass = abstract new (...args: never[]) => RegistryError;

/** MLflow ErrorCode names (databricks.proto) the client decodes; others become INTERNAL_ERROR. */
const MLFLOW_CODES = new Set([
  'INTERNAL_ERROR',
  'TEMPORARILY_UNAVAILABLE',
  'BAD_REQUEST',
  'INVALID_PARAMETER_VALUE',
  'ENDPOINT_NOT_FOUND',
  'MALFORMED_REQUEST',
  'INVALID_STATE',
  'PERMISSION_DENIED',
  'UNAUTHENTICATED',
  'REQUEST_LIMIT_EXCEEDED',
  'RESOURCE_ALREADY_EXISTS',
  'RESOURCE_DOES_NOT_EXIST',
  'NOT_IMPLEMENTED',
]);

/** [class, HTTP status, MLflow error code]: the first class that matches wins (subclasses first). */
const MLFLOW_BY_CLASS: ReadonlyArray<readonly [ErrorClass, number, string]> = [
  [InvalidParameterError, 400, 'INVALID_PARAMETER_VALUE'],
  // MLflow answers a wrong content type with 400 INVALID_PARAMETER_VALUE (not 415).
  [UnsupportedMediaTypeError, 400, 'INVALID_PARAMETER_VALUE'],
  [MalformedRequestError, 400, 'MALFORMED_REQUEST'],
  // MLflow has no 413; the client does not retry a 400 and shows the message.
  [PayloadTooLargeError, 400, 'INVALID_PARAMETER_VALUE'],
  [LimitExceededError, 400, 'INVALID_PARAMETER_VALUE'],
  [ResourceAlreadyExistsError, 400, 'RESOURCE_ALREADY_EXISTS'],
  // MLflow maps INVALID_STATE to 500, which its client retries for minutes although the answer
  // cannot change (a version that is not READY, a transition waiting for approval). The code
  // stays INVALID_STATE, so callers can tell "wrong state" from "bad parameter", with status 400.
  [InvalidStateError, 400, 'INVALID_STATE'],
  [PermissionDeniedError, 403, 'PERMISSION_DENIED'],
  [ResourceNotFoundError, 404, 'RESOURCE_DOES_NOT_EXIST'],
  [EndpointNotFoundError, 404, 'ENDPOINT_NOT_FOUND'],
  // For MLflow clients an endpoint is a method and a path: the client falls back (e.g. from POST
  // to GET get-latest-versions) only on ENDPOINT_NOT_FOUND.
  [MethodNotAllowedError, 404, 'ENDPOINT_NOT_FOUND'],
  // Lost races after the registry's own retries: nothing changed, so the client's automatic
  // retry (on 503) is exactly the right reaction.
  [ConcurrentModificationError, 503, 'TEMPORARILY_UNAVAILABLE'],
  // A retry that arrives while the first request with its Idempotency-Key still runs: the
  // client's retry on 503 then gets the first request's result.
  [IdempotencyInProgressError, 503, 'TEMPORARILY_UNAVAILABLE'],
  [IdempotencyKeyReusedError, 400, 'INVALID_PARAMETER_VALUE'],
];

export interface MlflowErrorBody {
  readonly error_code: string;
  readonly message: string;
}

export function mlflowErrorResponse(
  err: unknown,
  requestId: string,
): { status: number; body: MlflowErrorBody; internal: boolean } {
  if (err instanceof RegistryError) {
    for (const [cls, status, code] of MLFLOW_BY_CLASS) {
      if (err instanceof cls)
        return { status, body: { error_code: code, message: err.message }, internal: false };
    }
    // A registry error this table does not know yet: a caller's mistake, never retried.
    return {
      status: 400,
      body: { error_code: MLFLOW_CODES.has(err.code) ? err.code : 'BAD_REQUEST', message: err.message },
      internal: false,
    };
  }
  return {
    status: 500,
    body: {
      error_code: 'INTERNAL_ERROR',
      message: `The registry could not complete the request. Retry later; if it persists, report request id ${requestId}.`,
    },
    internal: true,
  };
}

/** MLflow-style message for a request that failed schema validation (the first problem). */
export function mlflowValidationMessage(issues: z.ZodError['issues'], where: string): string {
  const issue = issues[0];
  if (!issue) return `Invalid request ${where}.`;
  if (/^(Missing value for required parameter|Invalid value)/.test(issue.message)) return issue.message;
  const field = issue.path.length ? issue.path.join('.') : where;
  return `Invalid value for parameter '${field}' supplied: ${issue.message}. See the API docs for more information about request parameters.`;
}
