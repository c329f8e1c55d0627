/**
 * `npm start` as a user runs it: it refuses a busy port and names a missing Java before starting
 * anything, and SIGTERM or SIGINT sent to the npm process itself (not to its process group) stops
 * every process it started (the runner, node, DynamoDB Local's Java) and frees every port.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');

/** Every process whose ancestry includes `root` (from /proc). */
function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  for (const pid of parents.keys()) {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) {
      if (p === root) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '); // a zombie is gone
  } catch {
    return false;
  }
};

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server: Server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

const started: ChildProcess[] = [];
const seen = new Set<number>();
afterEach(() => {
  // Whatever a failed test left: stop it by PID.
  for (const pid of seen) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const child of started) if (child.pid && alive(child.pid)) process.kill(child.pid, 'SIGKILL');
  seen.clear();
  started.length = 0;
});

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm start', () => {
  it('refuses a port that is already in use, saying so', async () => {
    const busy = createServer();
    const port = await new Promise<number>((resolve) =>
      busy.listen(0, '127.0.0.1', () => resolve((busy.address() as { port: number }).port)),
    );
    try {
      const result = await run('npm', ['start', '--silent'], { ...process.env, PORT: String(port) });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(result.stderr).toContain(`PORT=${port + 1} npm start`);
    } finally {
      busy.close();
    }
  });

  it('names a missing Java and how to install it', async () => {
    // A PATH with node and nothing else.
    const bin = mkdtempSync(join(tmpdir(), 'mreg-nojava-'));
    try {
      symlinkSync(process.execPath, join(bin, 'node'));
      const result = await run(process.execPath, [join(ROOT, 'scripts', 'start.js')], {
        ...process.env,
        PATH: bin,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Java was not found/);
      expect(result.stderr).toMatch(/apt-get install -y openjdk-17-jre-headless/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops every process it started on ${signal} to the npm process`, async () => {
      // PORT=0: the kernel picks the registry's port (one picked here and released could be
      // taken meanwhile, by the registry's own DynamoDB Local too); the output names it.
      const npm = spawn('npm', ['start', '--', '--in-memory'], {
        cwd: ROOT,
        env: { ...process.env, PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.push(npm);
      let output = '';
      npm.stdout.on('data', (d) => {
        output += d;
      });
      npm.stderr.on('data', (d) => {
        output += d;
      });
      const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
      const up = await until(() => /DynamoDB Local: http:\/\/127\.0\.0\.1:\d+/.test(output), 90_000);
      expect(up, output).toBe(true);
      const pids = descendants(npm.pid!);
      for (const pid of pids) seen.add(pid);
      const comms = pids.map((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
      expect(comms).toContain('java');
      expect(output).toMatch(/running at http:\/\/127\.0\.0\.1:\d+/);
      const ports = [...new Set([...output.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])))];
      expect(ports.length, output).toBeGreaterThanOrEqual(3); // the API, S3 and DynamoDB Local
      for (const p of ports) expect(await listening(p), `port ${p}`).toBe(true);

      process.kill(npm.pid!, signal); // the npm process only, not its group
      await exited;
      expect(
        await until(() => pids.every((pid) => !alive(pid)), 15_000),
        `left running: ${pids.filter(alive)}`,
      ).toBe(true);
      for (const p of ports) expect(await listening(p), `port ${p}`).toBe(false);
    }, 120_000);
  }
});
