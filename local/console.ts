/**
 * The web console in local mode (docs/console.md): builds `web/` with Vite, and serves the built
 * files from the local front. API routes keep priority: the console answers only paths no route
 * matches — `/`, its own files, `/console-config.json`, and (for a browser navigating, i.e. a GET
 * that accepts text/html) any other path, with index.html, since the console routes on the client.
 * A non-browser client asking for an unknown path still gets the API's 404 ENDPOINT_NOT_FOUND.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';

/**
 * Vite, loaded only to build (it is a development dependency, and ESM: its types need a module
 * resolution this project's Node code does not use, hence this small view of its API).
 */
const VITE: string = 'vite';
type ViteConfig = Record<string, unknown>;
const loadVite = async () => (await import(VITE)) as { build(config: ViteConfig): Promise<unknown> };

export const CONSOLE_ROOT = resolve(__dirname, '..', 'web');
export const CONSOLE_DIST = join(CONSOLE_ROOT, 'dist');

/** The console's build: one entry, hashed file names, no inline scripts (a strict CSP holds). */
export function consoleBuildConfig(outDir = CONSOLE_DIST): ViteConfig {
  return {
    root: CONSOLE_ROOT,
    configFile: false,
    logLevel: 'warn',
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      modulePreload: { polyfill: false },
      sourcemap: false,
      reportCompressedSize: false,
    },
  };
}

/** Builds the console into `outDir` (default web/dist). Vite is a development dependency. */
export async function buildConsole(outDir = CONSOLE_DIST): Promise<void> {
  const { build } = await loadVite();
  await build(consoleBuildConfig(outDir));
}

function newestSourceChange(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceChange(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds the console when it has not been built or its sources changed since (so `npm start`
 * works on a fresh clone and after an edit). When it cannot be built (e.g. development
 * dependencies not installed), `error` says why; an earlier build, if any, is still `available`.
 */
export async function ensureConsoleBuilt(
  outDir = CONSOLE_DIST,
): Promise<{ available: boolean; built: boolean; error?: string }> {
  const index = join(outDir, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestSourceChange(CONSOLE_ROOT)) {
    return { available: true, built: false };
  }
  try {
    await buildConsole(outDir);
    return { available: true, built: true };
  } catch (err) {
    return { available: existsSync(index), built: false, error: (err as Error).message };
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The console's own policy: scripts and styles from this origin only; API calls to this origin;
 * downloads are navigations to presigned S3 URLs, which connect-src does not govern.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** What the console reads at start: where the API is and how to sign (here: local identities). */
const LOCAL_CONFIG = JSON.stringify({ api_url: '', auth: { type: 'local' } });

const wantsHtml = (req: IncomingMessage) => (req.headers.accept ?? '').includes('text/html');

/**
 * The local front's fallback for paths no API route matches: serves the console built in `dir`.
 * Resolves false when it does not answer the request (the front then answers 404 as before).
 */
export function consoleFallback(dir: string) {
  const root = resolve(dir);
  const cache = new Map<string, Buffer>();
  const load = async (file: string) => {
    let body = cache.get(file);
    if (!body) {
      body = await readFile(file);
      cache.set(file, body);
    }
    return body;
  };
  const serve = async (res: ServerResponse, req: IncomingMessage, file: string, status = 200) => {
    const body = await load(file);
    const ext = extname(file);
    const hashed = relative(root, file).startsWith(`assets${sep}`);
    res.writeHead(status, {
      'Content-Type': TYPES[ext] ?? 'application/octet-stream',
      'Content-Length': String(body.length),
      'Cache-Control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      ...(ext === '.html' ? { 'Content-Security-Policy': CONTENT_SECURITY_POLICY } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (url.pathname === '/console-config.json') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : LOCAL_CONFIG);
      return true;
    }
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return false;
    }
    const file = resolve(root, `.${path}`);
    if (file.startsWith(root + sep) && existsSync(file) && statSync(file).isFile()) {
      await serve(res, req, file);
      return true;
    }
    const index = join(root, 'index.html');
    if ((url.pathname === '/' || wantsHtml(req)) && existsSync(index)) {
      await serve(res, req, index);
      return true;
    }
    return false;
  };
}
