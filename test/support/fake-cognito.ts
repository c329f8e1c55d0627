/**
 * A fake of the Cognito endpoints the deployed console calls (no local engine provides them), as
 * Cognito documents them: the hosted UI's authorize step (it signs the user in at once and
 * redirects back with a code bound to the PKCE challenge), the OAuth 2.0 token endpoint
 * (authorization code with PKCE S256, refresh token; public client: no secret accepted) and the
 * identity service's GetId and GetCredentialsForIdentity (the ID token in `Logins`). It checks
 * what Cognito checks and counts the calls. A request handler: mount it on any HTTP server.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface FakeCognitoOptions {
  readonly clientId: string;
  readonly userPoolId: string;
  readonly region: string;
  readonly identityPoolId: string;
  /** The identity service's path on the server. @default '/identity' */
  readonly identityPath?: string;
  /** The clock (ms since the epoch). @default Date.now */
  readonly now?: () => number;
  /** The access key id of the credentials it hands out (numbered). @default 'ASIAFAKE' */
  readonly accessKeyPrefix?: string;
}

const b64url = (b: Buffer) => b.toString('base64url');

export function claimsOfJwt(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

export function fakeCognito(options: FakeCognitoOptions) {
  const now = options.now ?? Date.now;
  const identityPath = options.identityPath ?? '/identity';
  const loginKey = `cognito-idp.${options.region}.amazonaws.com/${options.userPoolId}`;
  const state = {
    codes: new Map<string, { challenge: string; redirect: string; sub: string }>(),
    refreshTokens: new Map<string, string>(),
    idTokens: new Set<string>(),
    calls: { authorize: 0, authorizationCode: 0, refresh: 0, getId: 0, credentials: 0 },
    tokenLifetime: 3600,
    /** Who the hosted UI signs in. */
    user: { sub: '7f3c-ana', email: 'ana@example.com' },
  };

  const issueIdToken = (sub: string) => {
    const header = b64url(Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'fake' })));
    const payload = b64url(
      Buffer.from(
        JSON.stringify({
          sub,
          email: state.user.email,
          'cognito:username': 'ana',
          aud: options.clientId,
          exp: Math.floor(now() / 1000) + state.tokenLifetime,
        }),
      ),
    );
    const token = `${header}.${payload}.${b64url(randomBytes(16))}`;
    state.idTokens.add(token);
    return token;
  };

  /** The hosted UI: answers where the browser goes back to (redirect URI, code, state). */
  const authorize = (url: URL): URL => {
    state.calls.authorize++;
    const p = url.searchParams;
    if (p.get('response_type') !== 'code' || p.get('client_id') !== options.clientId) {
      throw new Error('authorize: not a code request of this client');
    }
    if (p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge')) {
      throw new Error('authorize: no S256 PKCE challenge');
    }
    const code = b64url(randomBytes(12));
    state.codes.set(code, {
      challenge: p.get('code_challenge')!,
      redirect: p.get('redirect_uri')!,
      sub: state.user.sub,
    });
    const back = new URL(p.get('redirect_uri')!);
    back.searchParams.set('code', code);
    back.searchParams.set('state', p.get('state')!);
    return back;
  };

  const token = (form: URLSearchParams): [number, unknown] => {
    if (form.get('client_id') !== options.clientId || form.has('client_secret')) {
      return [400, { error: 'invalid_client' }];
    }
    if (form.get('grant_type') === 'authorization_code') {
      state.calls.authorizationCode++;
      const code = form.get('code') ?? '';
      const issued = state.codes.get(code);
      state.codes.delete(code); // a code is used once
      if (!issued || issued.redirect !== form.get('redirect_uri')) return [400, { error: 'invalid_grant' }];
      const challenge = b64url(
        createHash('sha256')
          .update(form.get('code_verifier') ?? '')
          .digest(),
      );
      if (challenge !== issued.challenge) return [400, { error: 'invalid_grant' }];
      const refresh = b64url(randomBytes(24));
      state.refreshTokens.set(refresh, issued.sub);
      return [
        200,
        {
          id_token: issueIdToken(issued.sub),
          access_token: 'access',
          refresh_token: refresh,
          expires_in: state.tokenLifetime,
          token_type: 'Bearer',
        },
      ];
    }
    if (form.get('grant_type') === 'refresh_token') {
      state.calls.refresh++;
      const sub = state.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!sub) return [400, { error: 'invalid_grant' }];
      // Cognito answers no new refresh token.
      return [200, { id_token: issueIdToken(sub), access_token: 'access', expires_in: state.tokenLifetime }];
    }
    return [400, { error: 'unsupported_grant_type' }];
  };

  const identity = (target: string | undefined, input: any): [number, unknown] => {
    const idToken: string | undefined = input.Logins?.[loginKey];
    const valid =
      idToken && state.idTokens.has(idToken) && (claimsOfJwt(idToken).exp as number) * 1000 > now();
    if (!valid) return [400, { __type: 'NotAuthorizedException', message: 'Invalid login token.' }];
    const sub = String(claimsOfJwt(idToken).sub);
    if (target === 'AWSCognitoIdentityService.GetId') {
      state.calls.getId++;
      if (input.IdentityPoolId !== options.identityPoolId)
        return [400, { __type: 'ResourceNotFoundException' }];
      return [200, { IdentityId: `${options.region}:${sub}` }];
    }
    if (target === 'AWSCognitoIdentityService.GetCredentialsForIdentity') {
      state.calls.credentials++;
      if (input.IdentityId !== `${options.region}:${sub}`) return [400, { __type: 'NotAuthorizedException' }];
      return [
        200,
        {
          IdentityId: input.IdentityId,
          Credentials: {
            AccessKeyId: `${options.accessKeyPrefix ?? 'ASIAFAKE'}${state.calls.credentials}`,
            SecretKey: 'secret-from-sts',
            SessionToken: `session-${state.calls.credentials}`,
            Expiration: Math.floor(now() / 1000) + 3600,
          },
        },
      ];
    }
    return [400, { __type: 'UnknownOperationException' }];
  };

  /** Answers the request when it is one of Cognito's (resolves false otherwise). */
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/oauth2/authorize') {
      try {
        res.writeHead(302, { location: authorize(url).href });
        res.end();
      } catch (err) {
        send(400, { error: (err as Error).message });
      }
      return true;
    }
    if (req.method !== 'POST' || (url.pathname !== '/oauth2/token' && url.pathname !== identityPath))
      return false;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (url.pathname === '/oauth2/token') {
      if (req.headers['content-type'] !== 'application/x-www-form-urlencoded')
        send(400, { error: 'invalid_request' });
      else send(...token(new URLSearchParams(body)));
    } else if (req.headers['content-type'] !== 'application/x-amz-json-1.1') {
      send(400, { __type: 'SerializationException' });
    } else {
      send(...identity(req.headers['x-amz-target'] as string | undefined, JSON.parse(body)));
    }
    return true;
  };

  return { state, authorize, handle, loginKey };
}
