/**
 * SigV4 signing of API requests (service `execute-api`). The query string that is sent is built
 * with the same encoding SigV4 uses in its canonical request (RFC 3986: spaces as %20, `!'()*`
 * escaped), from the same key/value pairs that are signed, so the two cannot disagree.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { defaultCredentials, env } from './platform';

export type QueryValue = string | number | boolean | undefined | null | readonly (string | number)[];
export type QueryParams = Record<string, QueryValue>;

/** SigV4's URI encoding: encodeURIComponent plus `!'()*`. */
export function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The query as SigV4 sees it (values as strings; repeated keys as arrays). */
export function normalizeQuery(query: QueryParams | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      if (value.length) out[key] = value.map(String);
    } else out[key] = String(value);
  }
  return out;
}

/** The query string sent on the wire (no leading `?`), in the caller's order. */
export function queryString(query: Record<string, string | string[]>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) parts.push(`${escapeUri(key)}=${escapeUri(v)}`);
  }
  return parts.join('&');
}

export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

export interface SignerOptions {
  readonly endpoint: URL;
  readonly region: string;
  readonly credentials?: AwsCredentialIdentityProvider;
  /** The named profile to take credentials from (default: AWS_PROFILE); ignored with `credentials`. */
  readonly profile?: string;
}

export interface RequestToSign {
  readonly method: string;
  /** Encoded path as sent, e.g. `/models/my%20model`. */
  readonly path: string;
  readonly query: Record<string, string | string[]>;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/**
 * Signs requests; credentials are resolved on first use. On a loopback endpoint a missing
 * credential is not an error: requests go unsigned (local mode) — unless a profile was named:
 * then the caller asked for an identity, and a profile that does not exist
 * (ProfileNotFoundError) or yields no credentials fails the request instead of sending it as
 * the anonymous local user.
 */
export class RequestSigner {
  private signer?: Promise<SignatureV4 | undefined>;
  private readonly loopback: boolean;

  constructor(private readonly options: SignerOptions) {
    this.loopback = isLoopback(options.endpoint.hostname);
  }

  /** Returns the headers to send (the given ones plus host, x-amz-date, authorization, …). */
  async sign(request: RequestToSign, signingDate?: Date): Promise<Record<string, string>> {
    const signer = await this.getSigner();
    const headers: Record<string, string> = { ...request.headers, host: this.options.endpoint.host };
    if (!signer) return headers;
    const { endpoint } = this.options;
    const http = new HttpRequest({
      method: request.method,
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: request.path,
      query: request.query,
      headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
    });
    const signed = await signer.sign(http, signingDate ? { signingDate } : {});
    return { ...(signed.headers as Record<string, string>) };
  }

  private getSigner(): Promise<SignatureV4 | undefined> {
    this.signer ??= this.createSigner().catch((err) => {
      this.signer = undefined; // try again next time
      throw err;
    });
    return this.signer;
  }

  private async createSigner(): Promise<SignatureV4 | undefined> {
    const profile = this.options.credentials ? undefined : this.options.profile || env('AWS_PROFILE');
    const provider = this.options.credentials ?? (await defaultCredentials(profile, this.loopback));
    try {
      await provider();
    } catch (err) {
      if (this.loopback && !profile) return undefined;
      const from = profile ? ` in the AWS profile '${profile}'` : '';
      throw new Error(
        `No AWS credentials found${from} to sign requests to ${this.options.endpoint.origin}: ${(err as Error).message}`,
      );
    }
    // Give the provider (not the resolved value) to the signer, so expiring credentials refresh.
    return new SignatureV4({
      service: 'execute-api',
      region: this.options.region,
      credentials: provider,
      sha256: Sha256,
    });
  }
}
