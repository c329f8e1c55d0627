/**
 * Nothing secret in the console bundle: the built files (Vite, as `npm run build:console` builds
 * them) hold no AWS access key, private key, client secret or password, and the deployed sign-in
 * is a public client (PKCE; no client secret in the code or the configuration it reads).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../local/console';

const out = mkdtempSync(join(tmpdir(), 'console-build-'));
beforeAll(async () => {
  // As `npm run build:console` builds it (vitest sets NODE_ENV=test, which gives a development build).
  const mode = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await buildConsole(out);
  } finally {
    process.env.NODE_ENV = mode;
  }
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const SECRETS: [string, RegExp][] = [
  ['AWS access key id', /\b(AKIA|ASIA)[A-Z0-9]{16}\b/],
  ['AWS secret access key', /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/],
  ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['client secret', /client_secret/i],
  ['password value', /password\s*[:=]\s*["'][^"']+["']/i],
  ['bearer token', /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./],
];

describe('the console bundle', () => {
  it('holds nothing that looks like a key, a secret or a token', () => {
    const built = files(out);
    expect(built.some((f) => f.endsWith('.js'))).toBe(true);
    for (const file of built) {
      const text = readFileSync(file, 'utf8');
      for (const [what, pattern] of SECRETS) {
        expect(pattern.exec(text)?.[0], `${what} in ${file}`).toBeUndefined();
      }
    }
  });

  it('signs in as a public client with PKCE (S256) and keeps tokens out of local storage', () => {
    const js = files(out)
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    for (const text of [
      'code_challenge_method',
      'S256',
      'AWSCognitoIdentityService.',
      'GetCredentialsForIdentity',
    ]) {
      expect(js.includes(text), text).toBe(true);
    }
    expect(/localStorage\.setItem\([^)]*(token|credential)/i.test(js)).toBe(false);
    // A production build: no development JSX carrying the build machine's file paths.
    expect(js.includes('fileName:'), 'development build').toBe(false);
  });
});
