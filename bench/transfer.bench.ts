/**
 * Artifact transfer benchmark: the real CLI (dist/mreg.js, as a child process) uploads
 * (`versions create --artifact`: hash, presigned PUT/multipart, registry verification) and
 * downloads (`download`: stream, hash, verify) files of random data through a local registry,
 * measuring wall time → throughput, and the CLI process's peak RSS (VmHWM from /proc, polled every
 * 50 ms). The point: the CLI's memory does not grow with the size of the file.
 */
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalRegistry } from '../local/registry';
import { buildCli, CLI_OUTFILE } from '../scripts/build-cli';

const MiB = 1024 ** 2;

/** Writes `size` bytes of random data in 8 MiB chunks (never the whole file in memory). */
function writeRandomFile(path: string, size: number): void {
  const chunk = Buffer.alloc(8 * MiB);
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < size; ) {
      const n = Math.min(chunk.length, size - written);
      randomFillSync(chunk, 0, n);
      writeSync(fd, chunk, 0, n);
      written += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** Peak resident set size (VmHWM) of a process in KiB, or undefined where /proc is missing. */
function peakRssKiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

interface CliRun {
  readonly seconds: number;
  readonly peakKiB: number | undefined;
}

/** Runs the CLI, polling its peak RSS every 50 ms; fails on a non-zero exit. */
function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI_OUTFILE, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let peak: number | undefined;
    const poll = () => {
      const kib = child.pid ? peakRssKiB(child.pid) : undefined;
      if (kib !== undefined) peak = Math.max(peak ?? 0, kib);
    };
    const timer = setInterval(poll, 50);
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) reject(new Error(`mreg ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
      else resolve({ seconds, peakKiB: peak });
    });
  });
}

export async function benchTransfer(options: { sizesMiB: number[] }): Promise<string[]> {
  await buildCli();
  const registry = await startLocalRegistry({ inMemory: true });
  const work = mkdtempSync(join(tmpdir(), 'mreg-bench-'));
  const lines: string[] = [];
  try {
    const env = { MREG_ENDPOINT: registry.url, XDG_CACHE_HOME: join(work, 'cache') };
    const rows: string[] = [];
    for (const sizeMiB of options.sizesMiB) {
      const size = Math.round(sizeMiB * MiB);
      const file = join(work, `model-${sizeMiB}.bin`);
      writeRandomFile(file, size);
      const name = `bench-transfer-${sizeMiB}`;
      const created = await fetch(`${registry.url}/models`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (created.status !== 201) throw new Error(`create model: ${created.status} ${await created.text()}`);

      const up = await runCli(['versions', 'create', name, '--artifact', file, '--json'], env);
      const out = join(work, `out-${sizeMiB}`);
      const down = await runCli(['download', `models:/${name}/1`, out, '--json'], env);
      const got = statSync(join(out, `model-${sizeMiB}.bin`)).size;
      if (got !== size) throw new Error(`downloaded ${got} bytes, expected ${size}`);
      rmSync(file);
      rmSync(out, { recursive: true, force: true });

      const mib = (kib: number | undefined) => (kib === undefined ? 'n/a' : (kib / 1024).toFixed(0));
      rows.push(
        `| ${sizeMiB} MiB | upload (hash, PUT/multipart, verify) | ${up.seconds.toFixed(1)} | ${(sizeMiB / up.seconds).toFixed(0)} | ${mib(up.peakKiB)} |`,
      );
      rows.push(
        `| ${sizeMiB} MiB | download (stream, hash, verify) | ${down.seconds.toFixed(1)} | ${(sizeMiB / down.seconds).toFixed(0)} | ${mib(down.peakKiB)} |`,
      );
    }
    lines.push('');
    lines.push(
      'Artifact transfer with the CLI (dist/mreg.js as a child process; local registry and S3 in this process)',
    );
    lines.push('| file | direction | wall s | MiB/s | CLI peak RSS MiB |');
    lines.push('| ---: | --- | ---: | ---: | ---: |');
    lines.push(...rows);
  } finally {
    await registry.stop();
    rmSync(work, { recursive: true, force: true });
  }
  return lines;
}
