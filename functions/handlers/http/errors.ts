/**
 * The one place where errors become HTTP responses. Mapped by class: a RegistryError keeps its
 * code and message; anything else is an internal error whose details go to the log, never to the
 * caller.
 */
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

type ErrorClass = abstract new (...args: never[]) => RegistryError;

const STATUS_BY_CLASS: ReadonlyArray<readonly [ErrorClass, number]> = [
  [InvalidParameterError, 400],
  [MalformedRequestError, 400],
  [LimitExceededError, 400],
  [PermissionDeniedError, 403],
  [ResourceNotFoundError, 404],
  [EndpointNotFoundError, 404],
  [MethodNotAllowedError, 405],
  [ResourceAlreadyExistsError, 409],
  [InvalidStateError, 409],
  [ConcurrentModificationError, 409],
  [IdempotencyInProgressError, 409],
  [IdempotencyKeyReusedError, 422],
  [PayloadTooLargeError, 413],
  [UnsupportedMediaTypeError, 415],
];

export interface ErrorBody {
  readonly error_code: string;
  readonly message: string;
}

export function statusOf(err: RegistryError): number {
  for (const [cls, status] of STATUS_BY_CLASS) if (err instanceof cls) return status;
  return 400;
}

export function errorResponse(
  err: unknown,
  requestId: string,
): { status: number; body: ErrorBody; internal: boolean } {
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
