/**
 * The console as the local front serves it: its files at `/`, index.html for a browser navigating
 * to any other non-API path, API routes first, a strict CSP; and its JavaScript budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleBundleSize, JS_BUDGET_GZIP_BYTES } from '../../local/console-size';
import type { LocalRegistry } from '../../local/registry';
import { localRegistry } from '../support/engines';
import { buildConsoleToTemp } from './support';

let build: { dir: string; remove: () => void } | undefined;
let registry: LocalRegistry | undefined;

beforeAll(async () => {
  build = await buildConsoleToTemp();
  registry = await localRegistry({ consoleDir: build.dir });
});
afterAll(async () => {
  await registry?.stop();
  build?.remove();
});

const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('the console in local mode', () => {
  it('serves index.html at / with a strict content security policy', async () => {
    const res = await fetch(`${registry!.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const body = await res.text();
    expect(body).toContain('<div id="app">');
    // Scripts come from files only (no inline script: the CSP forbids them).
    expect(body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('serves its hashed assets, cached for good', async () => {
    const index = await (await fetch(`${registry!.url}/`)).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(index)![1]!;
    const res = await fetch(`${registry!.url}${script}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toContain('immutable');
  });

  it('answers a browser navigating to a console path with index.html', async () => {
    for (const path of ['/inbox', '/model/churn', '/model/churn/versions/3', '/model/a%20b/history']) {
      const res = await fetch(`${registry!.url}${path}`, { headers: html });
      expect(res.status, path).toBe(200);
      expect(await res.text(), path).toContain('<div id="app">');
    }
  });

  it('keeps API routes first, and the API 404 for clients that are not browsers', async () => {
    const models = await fetch(`${registry!.url}/models`, { headers: html });
    expect(models.headers.get('content-type')).toBe('application/json');
    expect(await models.json()).toHaveProperty('registered_models');

    const unknown = await fetch(`${registry!.url}/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error_code).toBe('ENDPOINT_NOT_FOUND');

    const wrongMethod = await fetch(`${registry!.url}/inbox`, { method: 'POST', headers: html });
    expect(wrongMethod.status).toBe(404);
    const mlflow = await fetch(`${registry!.url}/api/2.0/mlflow/nothing`, { headers: html });
    expect(((await mlflow.json()) as any).error_code).toBe('ENDPOINT_NOT_FOUND');
  });

  it('does not serve files outside its build', async () => {
    for (const path of ['/%2e%2e/package.json', '/assets/%2e%2e/%2e%2e/package.json']) {
      const res = await fetch(`${registry!.url}${path}`);
      expect(res.status, path).toBe(404);
    }
  });

  it('tells the console it runs in local mode', async () => {
    const res = await fetch(`${registry!.url}/console-config.json`);
    expect(await res.json()).toEqual({ api_url: '', auth: { type: 'local' } });
  });

  it(`ships at most ${JS_BUDGET_GZIP_BYTES / 1024} KiB of JavaScript, gzipped`, () => {
    const size = consoleBundleSize(build!.dir);
    expect(size.files.length).toBeGreaterThan(0);
    expect(size.gzipBytes).toBeLessThanOrEqual(JS_BUDGET_GZIP_BYTES);
  });
});
