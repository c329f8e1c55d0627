/**
 * Sign-in of the deployed console (docs/console.md, Deployed): the Cognito hosted UI with the
 * authorization code flow and PKCE (a public client: no secret anywhere), then the identity pool's
 * temporary AWS credentials for the signed-in user (GetId, GetCredentialsForIdentity), refreshed
 * before they expire, for the SigV4 signer. Plain `fetch` calls to Cognito's documented endpoints
 * (the OAuth 2.0 token endpoint; the identity service's JSON API, unsigned for these two
 * actions): no AWS SDK in the bundle.
 *
 * Tokens and credentials stay in memory. Only the PKCE verifier and the page to return to are kept
 * in sessionStorage between the redirect and the callback; a reload signs in again (silently
 * while the hosted UI's session lasts).
 */
import type { AwsCredentials } from '../api/signers';

/** The `auth` of console-config.json when deployed (lib/registry-console.ts writes it). */
export interface CognitoAuthConfig {
  readonly type: 'cognito';
  readonly region: string;
  readonly user_pool_id: string;
  readonly client_id: string;
  readonly identity_pool_id: string;
  /** The hosted UI's origin, e.g. https://acme.auth.eu-west-1.amazoncognito.com. */
  readonly domain: string;
  /** The registered callback (the console's origin and `/`). */
  readonly redirect_uri: string;
  /** Go straight to this federated identity provider (skip the hosted UI's choice). */
  readonly identity_provider?: string;
  /** The identity service endpoint. @default https://cognito-identity.<region>.amazonaws.com/ */
  readonly identity_endpoint?: string;
}

/** What the sign-in needs of the browser (tests give their own). */
export interface AuthEnvironment {
  readonly fetch: typeof fetch;
  /** sessionStorage in the browser. */
  readonly storage: {
    getItem(key: string): string | null;
    setItem(key: string, value: string): void;
    removeItem(key: string): void;
  };
  readonly now: () => number;
  /** Random bytes (crypto.getRandomValues). */
  readonly random: (length: number) => Uint8Array;
}

export const SCOPES = ['openid', 'email', 'profile'];

/** Credentials are renewed this long before they expire (and tokens before theirs). */
export const REFRESH_MARGIN_MS = 5 * 60_000;

const PENDING_KEY = 'model-registry-console.sign-in';

export class SignInError extends Error {
  override name = 'SignInError';
}

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** PKCE (RFC 7636): a random verifier and its S256 challenge. */
export async function createPkce(
  random: AuthEnvironment['random'],
): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url(random(32));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  return { verifier, challenge: base64url(digest) };
}

/**
 * Starts signing in: keeps the verifier, the state and the page to come back to, and answers the
 * hosted UI's authorize URL to navigate to.
 */
export async function beginSignIn(
  config: CognitoAuthConfig,
  env: AuthEnvironment,
  returnTo: string,
): Promise<string> {
  const { verifier, challenge } = await createPkce(env.random);
  const state = base64url(env.random(16));
  env.storage.setItem(PENDING_KEY, JSON.stringify({ state, verifier, returnTo }));
  const url = new URL('/oauth2/authorize', config.domain);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.client_id,
    redirect_uri: config.redirect_uri,
    scope: SCOPES.join(' '),
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(config.identity_provider ? { identity_provider: config.identity_provider } : {}),
  }).toString();
  return url.href;
}

export interface Tokens {
  readonly idToken: string;
  readonly refreshToken: string | undefined;
  /** When the ID token expires (ms since the epoch). */
  readonly expiresAt: number;
}

/** The claims of a JWT, unverified: for display and expiry only (Cognito verifies the token). */
export function claimsOf(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1];
  if (!part) throw new SignInError('The identity provider answered a malformed ID token.');
  const binary = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  const json = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  return JSON.parse(json) as Record<string, unknown>;
}

async function tokenRequest(
  config: CognitoAuthConfig,
  env: AuthEnvironment,
  params: Record<string, string>,
  refreshToken?: string,
): Promise<Tokens> {
  let response: Response;
  try {
    response = await env.fetch(new URL('/oauth2/token', config.domain).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: config.client_id, ...params }).toString(),
    });
  } catch {
    throw new SignInError('The sign-in service did not answer.');
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof body.id_token !== 'string') {
    throw new SignInError(`Sign-in failed: ${String(body.error ?? `HTTP ${response.status}`)}.`);
  }
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 3600;
  return {
    idToken: body.id_token,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : refreshToken,
    expiresAt: env.now() + expiresIn * 1000,
  };
}

/**
 * The hosted UI's redirect back (`?code=…&state=…`): checks the state against the one kept at
 * the start, exchanges the code with the PKCE verifier and answers the tokens and the page to go
 * back to. Undefined when the URL is not a sign-in callback.
 */
export async function completeSignIn(
  config: CognitoAuthConfig,
  env: AuthEnvironment,
  url: URL,
): Promise<{ tokens: Tokens; returnTo: string } | undefined> {
  const error = url.searchParams.get('error');
  const code = url.searchParams.get('code');
  const state = url.searchParams.get('state');
  if (!error && !(code && state)) return undefined;
  const pending = env.storage.getItem(PENDING_KEY);
  env.storage.removeItem(PENDING_KEY);
  if (error) {
    throw new SignInError(`Sign-in failed: ${url.searchParams.get('error_description') ?? error}.`);
  }
  const kept = pending
    ? (JSON.parse(pending) as { state: string; verifier: string; returnTo: string })
    : undefined;
  if (!kept || kept.state !== state) {
    throw new SignInError('Sign-in failed: this answer does not belong to a sign-in this page started.');
  }
  const tokens = await tokenRequest(config, env, {
    grant_type: 'authorization_code',
    code: code!,
    redirect_uri: config.redirect_uri,
    code_verifier: kept.verifier,
  });
  return { tokens, returnTo: kept.returnTo };
}

/** New tokens from the refresh token (Cognito answers no new refresh token: the old one stays). */
export function refreshTokens(
  config: CognitoAuthConfig,
  env: AuthEnvironment,
  refreshToken: string,
): Promise<Tokens> {
  return tokenRequest(
    config,
    env,
    { grant_type: 'refresh_token', refresh_token: refreshToken },
    refreshToken,
  );
}

/** The identity pool's login key for the user pool. */
export const loginKey = (config: CognitoAuthConfig) =>
  `cognito-idp.${config.region}.amazonaws.com/${config.user_pool_id}`;

async function identityCall<T>(
  config: CognitoAuthConfig,
  env: AuthEnvironment,
  action: 'GetId' | 'GetCredentialsForIdentity',
  body: unknown,
): Promise<T> {
  let response: Response;
  try {
    response = await env.fetch(
      config.identity_endpoint ?? `https://cognito-identity.${config.region}.amazonaws.com/`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `AWSCognitoIdentityService.${action}`,
        },
        body: JSON.stringify(body),
      },
    );
  } catch {
    throw new SignInError('The identity service did not answer.');
  }
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const type = String(json.__type ?? `HTTP ${response.status}`)
      .split('#')
      .pop();
    throw new SignInError(`No AWS credentials for this sign-in (${type}: ${String(json.message ?? '')}).`);
  }
  return json as T;
}

export interface TemporaryCredentials extends AwsCredentials {
  /** When they expire (ms since the epoch). */
  readonly expiresAt: number;
}

/** The identity pool's credentials for an ID token (and the identity id, reused afterwards). */
export async function credentialsFor(
  config: CognitoAuthConfig,
  env: AuthEnvironment,
  idToken: string,
  identityId?: string,
): Promise<{ identityId: string; credentials: TemporaryCredentials }> {
  const logins = { [loginKey(config)]: idToken };
  const id =
    identityId ??
    (
      await identityCall<{ IdentityId: string }>(config, env, 'GetId', {
        IdentityPoolId: config.identity_pool_id,
        Logins: logins,
      })
    ).IdentityId;
  const answer = await identityCall<{
    Credentials?: { AccessKeyId: string; SecretKey: string; SessionToken: string; Expiration: number };
  }>(config, env, 'GetCredentialsForIdentity', { IdentityId: id, Logins: logins });
  const c = answer.Credentials;
  if (!c) throw new SignInError('The identity service answered no credentials.');
  return {
    identityId: id,
    credentials: {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretKey,
      sessionToken: c.SessionToken,
      // The JSON protocol answers timestamps as epoch seconds.
      expiresAt: c.Expiration * 1000,
    },
  };
}

/**
 * A signed-in user: resolves credentials for the signer, fetching new ones (with new tokens when
 * the ID token is about to expire) REFRESH_MARGIN_MS before they expire, one refresh at a time.
 */
export class CognitoSession {
  private identityId: string | undefined;
  private current: TemporaryCredentials | undefined;
  private pending: Promise<TemporaryCredentials> | undefined;

  constructor(
    private readonly config: CognitoAuthConfig,
    private readonly env: AuthEnvironment,
    private tokens: Tokens,
  ) {}

  /** The user's claims (email, sub, …), from the ID token. */
  get claims(): Record<string, unknown> {
    return claimsOf(this.tokens.idToken);
  }

  /** The person the registry records for this user (docs/identity.md: Cognito users). */
  get person(): string {
    return `cognito:${loginKey(this.config)}:${String(this.claims.sub)}`;
  }

  readonly credentials = async (): Promise<AwsCredentials> => {
    const now = this.env.now();
    if (this.current && this.current.expiresAt - REFRESH_MARGIN_MS > now) return this.current;
    this.pending ??= this.renew().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  };

  private async renew(): Promise<TemporaryCredentials> {
    if (this.tokens.expiresAt - REFRESH_MARGIN_MS <= this.env.now()) {
      if (!this.tokens.refreshToken) throw new SignInError('The sign-in has expired: sign in again.');
      this.tokens = await refreshTokens(this.config, this.env, this.tokens.refreshToken);
    }
    const { identityId, credentials } = await credentialsFor(
      this.config,
      this.env,
      this.tokens.idToken,
      this.identityId,
    );
    this.identityId = identityId;
    this.current = credentials;
    return credentials;
  }

  /** The hosted UI's sign-out URL (it comes back to the console, which signs in again). */
  signOutUrl(): string {
    const url = new URL('/logout', this.config.domain);
    url.search = new URLSearchParams({
      client_id: this.config.client_id,
      logout_uri: this.config.redirect_uri,
    }).toString();
    return url.href;
  }
}
