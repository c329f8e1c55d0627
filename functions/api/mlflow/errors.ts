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
import { InvalidStateError, RegistryError } from '../../domain/errors';
import { ERROR_CLASSES } from '../../handlers/http/errors';
import { type ErrorTable, errorRegistry } from '../error-registry';
import type { RequestPart } from '../protocol';

/**
 * A stage change that a governance policy holds for approval. Nothing changed: the answer names
 * the transition request that was created and how to get it approved. MLflow has no "accepted"
 * answer for transition-stage (the client only knows 200 = applied), so it is an error, never a
 * silent success.
 */
export class TransitionPendingApprovalError extends InvalidStateError {}

/** MLflow ErrorCode names (databricks.proto) the client decodes; others become INTERNAL_ERROR. */
const MLFLOW_CODES = [
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
] as const;
export type MlflowErrorCode = (typeof MLFLOW_CODES)[number];
const isMlflowCode = (code: string): code is MlflowErrorCode =>
  (MLFLOW_CODES as readonly string[]).includes(code);

/** Each error class as MLflow answers it: HTTP status and MLflow error code. */
export const MLFLOW_ERROR_TABLE = {
  InvalidParameterError: { status: 400, code: 'INVALID_PARAMETER_VALUE' },
  // MLflow answers a wrong content type with 400 INVALID_PARAMETER_VALUE (not 415).
  UnsupportedMediaTypeError: { status: 400, code: 'INVALID_PARAMETER_VALUE' },
  MalformedRequestError: { status: 400, code: 'MALFORMED_REQUEST' },
  // MLflow has no 413; the client does not retry a 400 and shows the message.
  PayloadTooLargeError: { status: 400, code: 'INVALID_PARAMETER_VALUE' },
  LimitExceededError: { status: 400, code: 'INVALID_PARAMETER_VALUE' },
  ResourceAlreadyExistsError: { status: 400, code: 'RESOURCE_ALREADY_EXISTS' },
  // MLflow maps INVALID_STATE to 500, which its client retries for minutes although the answer
  // cannot change (a version that is not READY, a transition waiting for approval). The code
  // stays INVALID_STATE, so callers can tell "wrong state" from "bad parameter", with status 400.
  InvalidStateError: { status: 400, code: 'INVALID_STATE' },
  PermissionDeniedError: { status: 403, code: 'PERMISSION_DENIED' },
  ResourceNotFoundError: { status: 404, code: 'RESOURCE_DOES_NOT_EXIST' },
  EndpointNotFoundError: { status: 404, code: 'ENDPOINT_NOT_FOUND' },
  // For MLflow clients an endpoint is a method and a path: the client falls back (e.g. from POST
  // to GET get-latest-versions) only on ENDPOINT_NOT_FOUND.
  MethodNotAllowedError: { status: 404, code: 'ENDPOINT_NOT_FOUND' },
  // Lost races after the registry's own retries: nothing changed, so the client's automatic
  // retry (on 503) is exactly the right reaction.
  ConcurrentModificationError: { status: 503, code: 'TEMPORARILY_UNAVAILABLE' },
  // A retry that arrives while the first request with its Idempotency-Key still runs: the
  // client's retry on 503 then gets the first request's result.
  IdempotencyInProgressError: { status: 503, code: 'TEMPORARILY_UNAVAILABLE' },
  IdempotencyKeyReusedError: { status: 400, code: 'INVALID_PARAMETER_VALUE' },
} as const satisfies ErrorTable<
  typeof ERROR_CLASSES,
  { readonly status: 400 | 403 | 404 | 503; readonly code: MlflowErrorCode }
>;

export const MLFLOW_ERRORS = errorRegistry(ERROR_CLASSES, MLFLOW_ERROR_TABLE);

export interface MlflowErrorBody {
  readonly error_code: string;
  readonly message: string;
}

export function mlflowErrorResponse(
  err: unknown,
  requestId: string,
): { status: number; body: MlflowErrorBody; internal: boolean } {
  if (err instanceof RegistryError) {
    const mapped = MLFLOW_ERRORS.resolve(err);
    if (mapped)
      return {
        status: mapped.status,
        body: { error_code: mapped.code, message: err.message },
        internal: false,
      };
    // A registry error defined outside the mapped modules: a caller's mistake, never retried.
    return {
      status: 400,
      body: { error_code: isMlflowCode(err.code) ? err.code : 'BAD_REQUEST', message: err.message },
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
export function mlflowValidationMessage(issues: readonly z.core.$ZodIssue[], where: RequestPart): string {
  const issue = issues[0];
  if (!issue) return `Invalid request ${where}.`;
  if (/^(Missing value for required parameter|Invalid value)/.test(issue.message)) return issue.message;
  const field = issue.path.length ? issue.path.join('.') : where;
  return `Invalid value for parameter '${field}' supplied: ${issue.message}. See the API docs for more information about request parameters.`;
}
