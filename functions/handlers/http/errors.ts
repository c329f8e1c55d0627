/**
 * The registry API's error mapping and the transport errors the HTTP layer throws. Mapped by
 * class (functions/api/error-registry.ts): a RegistryError keeps its code and message with the
 * status of its class; anything else is an internal error whose details go to the log, never to
 * the caller. MLflow's routes map the same classes their own way (functions/api/mlflow/errors.ts).
 */
import type { z } from 'zod';
import { type ErrorTable, errorRegistry } from '../../api/error-registry';
import type { ErrorResponse, RequestPart } from '../../api/protocol';
import * as domainErrors from '../../domain/errors';
import { RegistryError } from '../../domain/errors';

/** The content type was not application/json. */
export class UnsupportedMediaTypeError extends RegistryError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
}

/** The path exists but not with this method. */
export class MethodNotAllowedError extends RegistryError {
  readonly code = 'METHOD_NOT_ALLOWED';
}

/** An Idempotency-Key was used before by this caller on this route for other parameters. */
export class IdempotencyKeyReusedError extends RegistryError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
}

/** A request with this Idempotency-Key is still being processed: retry shortly (retryable). */
export class IdempotencyInProgressError extends RegistryError {
  readonly code = 'IDEMPOTENCY_IN_PROGRESS';
}

/**
 * Every error class a request can end with: the domain's and the transport's. Each protocol maps
 * every one of them (a table that misses one does not compile).
 */
export const ERROR_CLASSES = {
  ...domainErrors,
  UnsupportedMediaTypeError,
  MethodNotAllowedError,
  IdempotencyKeyReusedError,
  IdempotencyInProgressError,
};

export type HttpStatus = 400 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 503;

/** The registry API answers each class's own code, with this status. */
export const REGISTRY_ERROR_TABLE = {
  InvalidParameterError: { status: 400 },
  MalformedRequestError: { status: 400 },
  LimitExceededError: { status: 400 },
  PermissionDeniedError: { status: 403 },
  ResourceNotFoundError: { status: 404 },
  EndpointNotFoundError: { status: 404 },
  MethodNotAllowedError: { status: 405 },
  ResourceAlreadyExistsError: { status: 409 },
  InvalidStateError: { status: 409 },
  ConcurrentModificationError: { status: 409 },
  IdempotencyInProgressError: { status: 409 },
  IdempotencyKeyReusedError: { status: 422 },
  PayloadTooLargeError: { status: 413 },
  UnsupportedMediaTypeError: { status: 415 },
} as const satisfies ErrorTable<typeof ERROR_CLASSES, { readonly status: HttpStatus }>;

export const REGISTRY_ERRORS = errorRegistry(ERROR_CLASSES, REGISTRY_ERROR_TABLE);

export type { ErrorBody } from '../../api/protocol';

export function statusOf(err: RegistryError): number {
  // A RegistryError subclass defined outside the mapped modules: a caller's mistake.
  return REGISTRY_ERRORS.resolve(err)?.status ?? 400;
}

export function errorResponse(err: unknown, requestId: string): ErrorResponse {
  if (err instanceof RegistryError) {
    return { status: statusOf(err), body: { error_code: err.code, message: err.message }, internal: false };
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

/** The registry API's message for a request part that failed its schema (up to five problems). */
export function validationMessage(issues: readonly z.core.$ZodIssue[], where: RequestPart): string {
  const problems = issues.slice(0, 5).map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : where;
    if (issue.code === 'unrecognized_keys') {
      // Nested objects (a model card's sections) name where the field was found.
      const at = [where, ...issue.path.map(String)].join('.');
      return `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')} in ${at}`;
    }
    return `${where === 'body' || where === 'query' ? `${where}.` : ''}${field}: ${issue.message}`;
  });
  return `Invalid request: ${problems.join('; ')}.`;
}
