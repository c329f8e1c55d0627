/**
 * The SDK's errors. The registry answers errors as `{error_code, message}` with a 4xx/5xx status;
 * those become `RegistryApiError`. A registry that cannot be reached is a `RegistryNetworkError`;
 * files that do not match their manifest are an `ArtifactVerificationError`.
 */

/** Base class of every error the SDK throws on purpose. */
export class RegistryClientError extends Error {
  override readonly name: string = 'RegistryClientError';
}

/** The registry answered with an error status. */
export class RegistryApiError extends RegistryClientError {
  override readonly name = 'RegistryApiError';
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }

  isNotFound(): boolean {
    return this.status === 404 || this.errorCode === 'RESOURCE_DOES_NOT_EXIST';
  }
  isAlreadyExists(): boolean {
    return this.errorCode === 'RESOURCE_ALREADY_EXISTS';
  }
  isInvalidParameter(): boolean {
    return this.errorCode === 'INVALID_PARAMETER_VALUE' || this.errorCode === 'MALFORMED_REQUEST';
  }
  isInvalidState(): boolean {
    return this.errorCode === 'INVALID_STATE';
  }
  isPermissionDenied(): boolean {
    return this.status === 403 || this.errorCode === 'PERMISSION_DENIED';
  }
  isThrottled(): boolean {
    return this.status === 429;
  }
  isServerError(): boolean {
    return this.status >= 500;
  }
  /** Whether the SDK retries this status (429, 500, 502, 503, 504). */
  isRetryable(): boolean {
    return RETRYABLE_STATUSES.has(this.status);
  }
}

/** The registry (or a storage URL it handed out) could not be reached. */
export class RegistryNetworkError extends RegistryClientError {
  override readonly name = 'RegistryNetworkError';
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** A file does not match its manifest (size or SHA-256), or the registry failed the version. */
export class ArtifactVerificationError extends RegistryClientError {
  override readonly name = 'ArtifactVerificationError';
  constructor(
    message: string,
    /** The file concerned, when one is known. */
    readonly path?: string,
    /** The version concerned (uploads). */
    readonly version?: number,
  ) {
    super(message);
  }
}

/** A transfer to or from storage failed for a reason other than the network (e.g. a 403). */
export class TransferError extends RegistryClientError {
  override readonly name = 'TransferError';
  constructor(
    message: string,
    readonly status: number,
    readonly path: string,
  ) {
    super(message);
  }
}

/**
 * A named AWS profile (the `profile` option, or AWS_PROFILE) is in neither shared file. Thrown
 * before any request is sent: falling back to other credentials, or to unsigned requests in local
 * mode, would act as someone else.
 */
export class ProfileNotFoundError extends RegistryClientError {
  override readonly name = 'ProfileNotFoundError';
  constructor(
    readonly profile: string,
    readonly configFile: string,
    readonly credentialsFile: string,
  ) {
    super(
      `The AWS profile '${profile}' does not exist in ${configFile} or ${credentialsFile}. Create it with \`aws configure --profile ${profile}\`.`,
    );
  }
}

/**
 * A transition request was still open (PENDING or APPROVED) when `waitForTransitionRequest` stopped
 * waiting. Nothing failed: the registry applies or fails it later (docs/governance.md).
 */
export class TransitionRequestWaitTimeoutError extends RegistryClientError {
  override readonly name = 'TransitionRequestWaitTimeoutError';
  constructor(
    readonly request: { readonly id: string; readonly name: string; readonly status: string },
    waitedMs: number,
  ) {
    super(
      `Request ${request.id} of '${request.name}' is still ${request.status} after ${waitedMs / 1000} s; stopped waiting. It is applied or failed later: read it again with getTransitionRequest (\`mreg requests get ${request.name} ${request.id}\`).`,
    );
  }
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);
