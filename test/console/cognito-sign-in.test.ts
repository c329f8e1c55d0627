/**
 * The deployed console's sign-in (web/src/auth/cognito.ts) against a fake of Cognito's endpoints
 * on a local HTTP server (test/support/fake-cognito.ts; no local engine provides them). The fake
 * checks what Cognito checks (client id, redirect URI, code verifier, the ID token in Logins) and
 * counts calls, so the test sees when the console refreshes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sigv4 } from '../../web/src/api/signers';
import {
  type AuthEnvironment,
  beginSignIn,
  type CognitoAuthConfig,
  CognitoSession,
  completeSignIn,
  REFRESH_MARGIN_MS,
  SignInError,
} from '../../web/src/auth/cognito';
import { fakeCognito } from '../support/fake-cognito';

const CLIENT_ID = 'console-client';
const POOL = 'eu-west-1_AbCdEf';
const REDIRECT = 'https://console.example.com/';
const LOGIN_KEY = `cognito-idp.eu-west-1.amazonaws.com/${POOL}`;

let clock = Date.parse('2026-11-30T12:00:00Z');

const b64url = (b: Buffer) => b.toString('base64url');

const cognito = fakeCognito({
  clientId: CLIENT_ID,
  userPoolId: POOL,
  region: 'eu-west-1',
  identityPoolId: 'eu-west-1:pool',
  accessKeyPrefix: 'ASIA',
  now: () => clock,
});
const fake = {
  get calls() {
    return cognito.state.calls;
  },
  get idTokens() {
    return cognito.state.idTokens;
  },
  set tokenLifetime(seconds: number) {
    cognito.state.tokenLifetime = seconds;
  },
  authorize: (url: string) => cognito.authorize(new URL(url)),
};

let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    if (!(await cognito.handle(req, res))) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const config = (): CognitoAuthConfig => ({
  type: 'cognito',
  region: 'eu-west-1',
  user_pool_id: POOL,
  client_id: CLIENT_ID,
  identity_pool_id: 'eu-west-1:pool',
  domain: origin,
  redirect_uri: REDIRECT,
  identity_endpoint: `${origin}/identity`,
});

function environment(): AuthEnvironment & { stored: Map<string, string> } {
  const stored = new Map<string, string>();
  return {
    stored,
    fetch: (input, init) => fetch(input, init),
    storage: {
      getItem: (k) => stored.get(k) ?? null,
      setItem: (k, v) => void stored.set(k, v),
      removeItem: (k) => void stored.delete(k),
    },
    now: () => clock,
    random: (n) => new Uint8Array(randomBytes(n)),
  };
}

async function signIn(env = environment()) {
  const url = await beginSignIn(config(), env, '/model/fraud?x=1');
  const done = await completeSignIn(config(), env, fake.authorize(url));
  return { env, done: done!, user: new CognitoSession(config(), env, done!.tokens) };
}

describe('deployed sign-in (hosted UI, PKCE, identity pool)', () => {
  it('sends the browser to the hosted UI with a S256 challenge and a state, keeping only the verifier', async () => {
    const env = environment();
    const url = new URL(await beginSignIn({ ...config(), identity_provider: 'Corp' }, env, '/inbox'));
    expect(url.origin).toBe(origin);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT,
      scope: 'openid email profile',
      code_challenge_method: 'S256',
      identity_provider: 'Corp',
    });
    const kept = JSON.parse([...env.stored.values()][0]!);
    expect(kept.state).toBe(url.searchParams.get('state'));
    expect(kept.returnTo).toBe('/inbox');
    const challenge = b64url(createHash('sha256').update(kept.verifier).digest());
    expect(url.searchParams.get('code_challenge')).toBe(challenge);
    expect(kept.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('exchanges the code with the verifier, then the ID token for credentials; the person is the user', async () => {
    const before = { ...fake.calls };
    const { env, done, user } = await signIn();
    expect(done.returnTo).toBe('/model/fraud?x=1');
    expect(env.stored.size).toBe(0); // the verifier is gone once used
    expect(fake.calls.authorizationCode).toBe(before.authorizationCode + 1);
    const credentials = await user.credentials();
    expect(credentials).toMatchObject({ secretAccessKey: 'secret-from-sts' });
    expect(credentials.accessKeyId).toMatch(/^ASIA/);
    expect(fake.calls.getId).toBe(before.getId + 1);
    expect(user.person).toBe(`cognito:${LOGIN_KEY}:7f3c-ana`);
    expect(user.claims.email).toBe('ana@example.com');
    expect(new URL(user.signOutUrl()).searchParams.get('logout_uri')).toBe(REDIRECT);
    // The credentials sign API calls (SigV4 for execute-api, with the session token).
    const headers = await sigv4(
      'eu-west-1',
      user.credentials,
    )({
      method: 'GET',
      url: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/models',
      headers: {},
    });
    expect(headers['x-amz-security-token']).toBe(credentials.sessionToken);
    expect(headers.authorization).toContain(`Credential=${credentials.accessKeyId}/`);
  });

  it('refuses a callback whose state it did not start, a wrong verifier, and reports the hosted UI’s errors', async () => {
    const env = environment();
    const url = await beginSignIn(config(), env, '/');
    const back = fake.authorize(url);
    back.searchParams.set('state', 'forged');
    await expect(completeSignIn(config(), env, back)).rejects.toThrow(/does not belong to a sign-in/);

    const env2 = environment();
    const back2 = fake.authorize(await beginSignIn(config(), env2, '/'));
    const key = [...env2.stored.keys()][0]!;
    env2.stored.set(key, JSON.stringify({ ...JSON.parse(env2.stored.get(key)!), verifier: 'x'.repeat(43) }));
    await expect(completeSignIn(config(), env2, back2)).rejects.toThrow(/invalid_grant/);

    const denied = new URL(`${REDIRECT}?error=access_denied&error_description=User+is+disabled`);
    await expect(completeSignIn(config(), environment(), denied)).rejects.toThrow(/User is disabled/);
    expect(await completeSignIn(config(), environment(), new URL(`${REDIRECT}?filter=x`))).toBeUndefined();
  });

  it('reuses credentials until shortly before they expire, then renews them once for concurrent calls', async () => {
    const { user } = await signIn();
    const first = await user.credentials();
    const before = { ...fake.calls };
    expect(await user.credentials()).toBe(first);
    clock += 60 * 60_000 - REFRESH_MARGIN_MS + 1000; // within the margin of both expiries
    const [a, b, c] = await Promise.all([user.credentials(), user.credentials(), user.credentials()]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(a.accessKeyId).not.toBe(first.accessKeyId);
    // The ID token was about to expire too: refreshed first, once; the identity id is kept.
    expect(fake.calls.refresh).toBe(before.refresh + 1);
    expect(fake.calls.credentials).toBe(before.credentials + 1);
    expect(fake.calls.getId).toBe(before.getId);
  });

  it('renews only the credentials while the ID token is still valid', async () => {
    fake.tokenLifetime = 4 * 3600;
    try {
      const { user } = await signIn();
      await user.credentials();
      const before = { ...fake.calls };
      clock += 60 * 60_000;
      await user.credentials();
      expect(fake.calls.refresh).toBe(before.refresh);
      expect(fake.calls.credentials).toBe(before.credentials + 1);
    } finally {
      fake.tokenLifetime = 3600;
    }
  });

  it('says so when the identity pool refuses the token', async () => {
    const { user } = await signIn();
    fake.idTokens.clear();
    await expect(user.credentials()).rejects.toThrow(SignInError);
    await expect(user.credentials()).rejects.toThrow(/NotAuthorizedException/);
  });
});
