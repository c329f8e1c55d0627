/**
 * `npm start` as a user runs it, in a child process: its URL, the PID of its DynamoDB Local, and
 * a stop that waits for both to be gone. Every child is killed in `killStarted` (afterEach).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const root = join(__dirname, '..', '..');
const started: ChildProcess[] = [];

export interface Running {
  readonly url: string;
  readonly javaPid: number;
  readonly child: ChildProcess;
  readonly output: () => string;
}

export async function npmStart(env: Record<string, string>, args: string[] = []): Promise<Running> {
  const child = spawn(
    process.execPath,
    // tsx as a loader, not its CLI: the CLI runs the program in a grandchild that a SIGKILL of
    // the CLI would leave behind; this way the PID is the registry's own.
    ['--import', 'tsx', 'local/main.ts', ...args],
    {
      cwd: root,
      // PORT=0: the registry binds a port the kernel picks and prints it. A port picked here and
      // released would be free for anyone until the registry binds it, its own DynamoDB Local too.
      env: { ...process.env, PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  started.push(child);
  let output = '';
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
  const deadline = Date.now() + 60_000;
  while (!/pid (\d+)/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm start failed:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /running at (http:\/\/\S+)/.exec(output)![1]!;
  return { url, javaPid: Number(/pid (\d+)/.exec(output)![1]), child, output: () => output };
}

export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Stops the registry with `signal` and waits (up to 5 s) for its DynamoDB Local to exit. */
export async function stopWith(run: Running, signal: NodeJS.Signals): Promise<void> {
  const exited = new Promise((r) => run.child.once('exit', r));
  run.child.kill(signal);
  await exited;
  for (let i = 0; i < 50 && alive(run.javaPid); i++) await new Promise((r) => setTimeout(r, 100));
}

/** Kills `child` with the others in `killStarted` (a process a test spawns itself). */
export function trackChild(child: ChildProcess): void {
  started.push(child);
}

/** Kills every registry a test left running (its DynamoDB Local stops with it). */
export function killStarted(): void {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
}
