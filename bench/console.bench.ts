/**
 * The web console's first useful render with a large registry, and its JavaScript weight.
 *
 * Seeds `models` registered models (bench/seed.ts; the first 100 with 3 versions each, one in
 * Production) into an in-memory local registry serving a fresh build of the console, then opens
 * `/` in Chromium (playwright-core) `runs` times, each in a new browser context (empty cache), and
 * times navigation start → the first model rows in the DOM: a MutationObserver installed before
 * the page's own scripts records `performance.now()` when the first `tr[data-model]` appears.
 * Also reports the API call behind it (the first page of models) measured from Node, and the
 * console's JavaScript, gzipped. Fails above the budgets: 1 s (median) and 150 KiB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConsole } from '../local/console';
import { consoleBundleSize, JS_BUDGET_GZIP_BYTES } from '../local/console-size';
import { startLocalRegistry } from '../local/registry';
import { launchChromium, type TestBrowser } from '../test/support/browser';
import { openSeeder } from './seed';

export const FIRST_RENDER_BUDGET_MS = 1000;
/** The console's first page of models (web/src/pages/models.tsx). */
const PAGE = 25;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const max = (xs: number[]) => Math.max(...xs);
const ms = (x: number) => `${x.toFixed(0)} ms`;

/** Installed before the console's scripts: records when the first model row is in the DOM. */
const WATCH_FIRST_ROWS = `
  new MutationObserver((_, observer) => {
    if (document.querySelector('tr[data-model]')) {
      window.__firstRowsAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
`;

export async function benchConsole(options: { models: number; runs: number }): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'console-bench-'));
  const lines: string[] = [];
  let browser: TestBrowser | undefined;
  await buildConsole(dir);
  const size = consoleBundleSize(dir);
  const registry = await startLocalRegistry({
    inMemory: true,
    port: 0,
    consoleDir: dir,
    reconcileIntervalMs: 0,
  });
  try {
    const seedStart = performance.now();
    const seeder = openSeeder(registry, { concurrency: 16 });
    const names = Array.from({ length: options.models }, (_, i) => `model-${String(i).padStart(6, '0')}`);
    for (let i = 0; i < names.length; i += 500)
      await Promise.all(names.slice(i, i + 500).map((n) => seeder.seedModel(n)));
    await Promise.all(names.slice(0, 100).map((n) => seeder.seedVersions(n, 3)));
    seeder.close();
    const seedMs = performance.now() - seedStart;

    // The request behind the first render, from Node (the console's default: by name, 25 a page),
    // after a few requests that warm the handlers and DynamoDB Local up, as on a running registry.
    for (let i = 0; i < 3; i++) await (await fetch(`${registry.url}/models?max_results=${PAGE}`)).json();
    const api: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      const start = performance.now();
      const res = await fetch(`${registry.url}/models?order_by=name%20ASC&max_results=${PAGE}`);
      const body = (await res.json()) as { registered_models: unknown[] };
      if (body.registered_models.length !== PAGE) {
        throw new Error(`expected ${PAGE} models, got ${JSON.stringify(body).slice(0, 200)}`);
      }
      api.push(performance.now() - start);
    }

    browser = await launchChromium();
    const firstRows: number[] = [];
    const loaded: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      const context = await browser.newContext();
      try {
        await context.addInitScript(WATCH_FIRST_ROWS);
        const page = await context.newPage();
        await page.goto(`${registry.url}/`);
        await page.waitForFunction(() => (globalThis as any).__firstRowsAt !== undefined, undefined, {
          timeout: 30_000,
        });
        const rows = await page.locator('tr[data-model]').count();
        if (rows !== PAGE) throw new Error(`expected ${PAGE} rows on the first page, saw ${rows}`);
        firstRows.push(await page.evaluate(() => (globalThis as any).__firstRowsAt as number));
        loaded.push(
          await page.evaluate(() => {
            const [nav] = (globalThis as any).performance.getEntriesByType('navigation');
            return nav.loadEventEnd as number;
          }),
        );
      } finally {
        await context.close();
      }
    }

    const render = median(firstRows);
    lines.push(
      `## Console: first useful render at ${options.models.toLocaleString('en')} models`,
      '',
      `Seeded in ${(seedMs / 1000).toFixed(1)} s. ${options.runs} page loads, each in a new browser context (empty cache); Chromium headless, local registry in memory.`,
      '',
      '| measure | median | max | budget |',
      '| --- | --- | --- | --- |',
      `| navigation start → first model rows visible | ${ms(render)} | ${ms(max(firstRows))} | ${ms(FIRST_RENDER_BUDGET_MS)} |`,
      `| navigation start → load event | ${ms(median(loaded))} | ${ms(max(loaded))} | |`,
      `| \`GET /models?order_by=name ASC&max_results=${PAGE}\` from Node | ${ms(median(api))} | ${ms(max(api))} | |`,
      '',
      `JavaScript: ${size.files.length} file${size.files.length > 1 ? 's' : ''}, ${(size.bytes / 1024).toFixed(1)} KiB, ${(size.gzipBytes / 1024).toFixed(1)} KiB gzipped (budget ${JS_BUDGET_GZIP_BYTES / 1024} KiB).`,
    );
    const over = [
      ...(render > FIRST_RENDER_BUDGET_MS
        ? [`first render ${ms(render)} > ${ms(FIRST_RENDER_BUDGET_MS)}`]
        : []),
      ...(size.gzipBytes > JS_BUDGET_GZIP_BYTES
        ? [`JavaScript ${size.gzipBytes} B > ${JS_BUDGET_GZIP_BYTES} B`]
        : []),
    ];
    if (over.length) throw new Error(`The console is over budget: ${over.join('; ')}\n${lines.join('\n')}`);
    return lines;
  } finally {
    await browser?.close();
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
