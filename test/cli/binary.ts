/**
 * The built `mreg` (dist/mreg.js) for the CLI tests, rebuilt when cli/, sdk/ or the build script
 * changed since. Test files run in parallel: the bundle is written to a temporary file and renamed
 * into place, so no test ever runs a half-written binary.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildCli } from '../../scripts/build-cli';

export const ROOT = join(__dirname, '..', '..');
export const BIN = join(ROOT, 'dist', 'mreg.js');

/** Newest modification time under a directory. */
function newest(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { recursive: true }).map((p) => statSync(join(dir, String(p))).mtimeMs),
  );
}

export async function ensureBinary(): Promise<string> {
  const sources = Math.max(
    newest(join(ROOT, 'cli')),
    newest(join(ROOT, 'sdk')),
    statSync(join(ROOT, 'scripts', 'build-cli.ts')).mtimeMs,
  );
  if (!existsSync(BIN) || statSync(BIN).mtimeMs < sources) {
    const tmp = `${BIN}.${process.pid}.tmp`;
    await buildCli(tmp);
    renameSync(tmp, BIN);
  }
  return BIN;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a run: none of the machine's AWS identity (no profile, no keys, shared files
 * that do not exist) nor mreg settings, unless the test gives them.
 */
export function cleanEnv(dir: string, env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(base)) {
    if (
      /^(AWS_(PROFILE|DEFAULT_PROFILE|ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)$|MREG_|COLUMNS$)/.test(
        key,
      )
    ) {
      delete base[key];
    }
  }
  return {
    ...base,
    XDG_CACHE_HOME: join(dir, 'cache'),
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    ...env,
  };
}

/** Runs the binary in `dir` (asynchronously: a registry may answer from this process). */
export function runMreg(args: string[], dir: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: cleanEnv(dir, env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
