/**
 * A real browser for the console's tests, benchmark and screenshots: Debian's Chromium, started
 * here (headless, a fresh profile directory, no background networking) and driven by
 * playwright-core over the DevTools protocol. `close()` stops it by its process group and removes
 * the profile, so no browser outlives a run, whatever happened in it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Where Chromium is (Debian's package); CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
] as const;

export interface TestBrowser {
  readonly browser: Browser;
  /** The Chromium process (it leads its own process group). */
  readonly pid: number;
  /** A fresh context: its own storage, so one identity per context. */
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}

const open = new Set<TestBrowser>();
process.once('exit', () => {
  for (const b of open) {
    try {
      process.kill(-b.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export async function launchChromium(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'console-chromium-'));
  const child = spawn(
    CHROMIUM_PATH,
    [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopProcess = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    // Renderers and helpers of the group, if any outlived the browser process.
    killGroup(child, 'SIGKILL');
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`Chromium did not start:\n${output}`)), 30_000);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`Cannot start ${CHROMIUM_PATH} (install Debian's chromium): ${err.message}`));
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`Chromium exited at start:\n${output}`));
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        output += chunk;
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const browser = await chromium.connectOverCDP(endpoint);
    const handle: TestBrowser = {
      browser,
      pid: child.pid!,
      newContext: () => browser.newContext({ viewport: { width: 1280, height: 900 } }),
      async close() {
        open.delete(handle);
        await browser.close().catch(() => undefined);
        await stopProcess();
      },
    };
    open.add(handle);
    return handle;
  } catch (err) {
    await stopProcess();
    throw err;
  }
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly targets: string[];
}

/**
 * The serious and critical accessibility violations axe-core finds in the page as it is now
 * (axe runs in the page through the DevTools protocol, so the console's CSP stays in force).
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(async () => {
    const g = globalThis as any;
    const result = await g.axe.run(g.document, { resultTypes: ['violations'] });
    return result.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n: any) => n.target.join(' ')),
    }));
  })) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
