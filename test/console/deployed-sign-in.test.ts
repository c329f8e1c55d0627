/**
 * The deployed console's sign-in in a real browser (Chromium): the built console, its deployed
 * configuration (`auth.type: cognito`), a fake of Cognito's hosted UI, token and identity
 * endpoints (test/support/fake-cognito.ts) and the API of a local registry, all behind one local
 * origin standing in for CloudFront. Opening a page sends the browser to the hosted UI, back with
 * a code, which the console exchanges with its PKCE verifier; the identity pool's credentials then
 * sign every API call with SigV4 (the local front names the caller by the access key id).
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleFallback } from '../../local/console';
import type { LocalRegistry } from '../../local/registry';
import { launchChromium, type TestBrowser } from '../support/browser';
import { localRegistry } from '../support/engines';
import { fakeCognito } from '../support/fake-cognito';
import { buildConsoleToTemp, clientAs } from './support';

const cognito = fakeCognito({
  clientId: 'console-client',
  userPoolId: 'eu-west-1_AbCdEf',
  region: 'eu-west-1',
  identityPoolId: 'eu-west-1:pool',
  accessKeyPrefix: 'cognito-user-',
});

let registry: LocalRegistry | undefined;
let browser: TestBrowser | undefined;
let server: Server | undefined;
let removeBuild: (() => void) | undefined;
let origin = '';
const signedApiCalls: string[] = [];

beforeAll(async () => {
  const build = await buildConsoleToTemp();
  removeBuild = build.remove;
  registry = await localRegistry();
  const api = new URL(registry.url);
  const files = consoleFallback(build.dir);
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/console-config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
      res.end(
        JSON.stringify({
          api_url: `${origin}/api`,
          auth: {
            type: 'cognito',
            region: 'eu-west-1',
            user_pool_id: 'eu-west-1_AbCdEf',
            client_id: 'console-client',
            identity_pool_id: 'eu-west-1:pool',
            domain: origin,
            redirect_uri: `${origin}/`,
            identity_endpoint: `${origin}/identity`,
          },
        }),
      );
      return;
    }
    if (await cognito.handle(req, res)) return;
    if (url.pathname.startsWith('/api/')) {
      // The API (another origin when deployed): proxied to the local registry.
      signedApiCalls.push(String(req.headers.authorization ?? ''));
      const upstream = httpRequest(
        {
          host: api.hostname,
          port: api.port,
          method: req.method,
          path: `${url.pathname.slice('/api'.length)}${url.search}`,
          headers: { ...req.headers, host: api.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
      return;
    }
    if (!(await files(req, res, url))) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await clientAs(registry, 'seed').createRegisteredModel('fraud-detector');
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await registry?.stop();
  removeBuild?.();
});

describe('the deployed console in a browser', () => {
  it('signs in through the hosted UI with PKCE, comes back to the page asked for, and signs API calls', async () => {
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/inbox`);
      await page.getByRole('heading', { name: /approval inbox/i }).waitFor({ timeout: 30_000 });
      // Back on the page asked for, without the code in the address bar.
      expect(new URL(page.url()).pathname).toBe('/inbox');
      expect(new URL(page.url()).search).toBe('');
      expect(cognito.state.calls).toMatchObject({
        authorize: 1,
        authorizationCode: 1,
        getId: 1,
        credentials: 1,
      });
      await expect(page.getByText('ana@example.com').textContent()).resolves.toBe('ana@example.com');
      expect(await page.getByRole('link', { name: 'Sign out' }).getAttribute('href')).toContain('/logout?');
      // No local identity switcher in the deployed console.
      expect(await page.getByLabel('Local identity').count()).toBe(0);

      await page.getByRole('link', { name: 'Models' }).click();
      await page.getByText('fraud-detector').first().waitFor({ timeout: 30_000 });
      expect(signedApiCalls.length).toBeGreaterThan(0);
      for (const auth of signedApiCalls) {
        expect(auth).toMatch(
          /^AWS4-HMAC-SHA256 Credential=cognito-user-1\/\d{8}\/eu-west-1\/execute-api\/aws4_request/,
        );
      }
      // Tokens, credentials and the used verifier stay out of storage (in memory only).
      const stored = await page.evaluate(() => {
        const g = globalThis as any;
        return JSON.stringify({ ...g.sessionStorage, ...g.localStorage });
      });
      expect(stored).not.toMatch(/eyJ|secret|verifier/);
    } finally {
      await context.close();
    }
  });
});
