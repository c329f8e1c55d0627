/**
 * How the console authenticates its API requests, as a pluggable signer: it gets the request about
 * to be sent and returns the headers to send with it.
 *
 * - Local mode: `localIdentity(arn)` names the caller with `X-Local-Identity` (the local front
 *   reads it as API Gateway's `requestContext.identity`; a deployed API ignores it).
 * - Deployed: `sigv4(region, credentials)` signs for `execute-api` with aws4fetch, with
 *   credentials from a provider (e.g. a Cognito identity pool; docs/console.md).
 */
import { AwsV4Signer } from 'aws4fetch';

export interface OutgoingRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
}

export type Signer = (request: OutgoingRequest) => Promise<Record<string, string>>;

export const LOCAL_IDENTITY_HEADER = 'x-local-identity';

export function localIdentity(userArn: string): Signer {
  const identity = JSON.stringify({ userArn });
  return async (request) => ({ ...request.headers, [LOCAL_IDENTITY_HEADER]: identity });
}

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/** Resolves the credentials to sign with (it refreshes them as they expire). */
export type CredentialsProvider = () => Promise<AwsCredentials>;

/**
 * SigV4 for API Gateway (`execute-api`): the request's headers plus x-amz-date, the session token
 * if any, and authorization. `now` fixes the signing time (tests).
 */
export function sigv4(region: string, credentials: CredentialsProvider, now?: () => Date): Signer {
  return async (request) => {
    const c = await credentials();
    const signer = new AwsV4Signer({
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: request.body ?? null,
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
      service: 'execute-api',
      region,
      ...(now
        ? {
            datetime: now()
              .toISOString()
              .replace(/[:-]|\.\d{3}/g, ''),
          }
        : {}),
    });
    const signed = await signer.sign();
    const headers: Record<string, string> = {};
    signed.headers.forEach((value, key) => {
      headers[key] = value;
    });
    return headers;
  };
}
