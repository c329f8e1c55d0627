/**
 * The registry's error taxonomy. Use cases throw these; the HTTP layer maps them to status codes
 * in one place (functions/handlers/http/errors.ts), by class. Every error carries a stable code
 * and a message a person can act on. Anything that is not a RegistryError is an internal error
 * and is never shown to the caller.
 */
export abstract class RegistryError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A parameter has a wrong value: fix the request. */
export class InvalidParameterError extends RegistryError {
  readonly code = 'INVALID_PARAMETER_VALUE';
}

/** The body is not valid JSON, or not the right content type. */
export class MalformedRequestError extends RegistryError {
  readonly code = 'MALFORMED_REQUEST';
}

/** The request body is larger than the API accepts. */
export class PayloadTooLargeError extends RegistryError {
  readonly code = 'PAYLOAD_TOO_LARGE';
}

/** The request names something that does not exist. */
export class ResourceNotFoundError extends RegistryError {
  readonly code = 'RESOURCE_DOES_NOT_EXIST';
}

/** The request would create something that already exists. */
export class ResourceAlreadyExistsError extends RegistryError {
  readonly code = 'RESOURCE_ALREADY_EXISTS';
}

/** The resource is not in a state that allows the operation (e.g. promoting a version that is not READY). */
export class InvalidStateError extends RegistryError {
  readonly code = 'INVALID_STATE';
}

/** The caller is not allowed to do this (e.g. approving their own request). */
export class PermissionDeniedError extends RegistryError {
  readonly code = 'PERMISSION_DENIED';
}

/** Concurrent writers kept conflicting; the request changed nothing and may be retried. */
export class ConcurrentModificationError extends RegistryError {
  readonly code = 'CONCURRENT_MODIFICATION';
}

/** No route matches the method and path. */
export class EndpointNotFoundError extends RegistryError {
  readonly code = 'ENDPOINT_NOT_FOUND';
}

/** A limit documented in docs/limits.md would be exceeded (e.g. too many tags). */
export class LimitExceededError extends RegistryError {
  readonly code = 'LIMIT_EXCEEDED';
}
