/**
 * The real `mreg` binary (dist/mreg.js, built by scripts/build-cli.ts) run as a child process
 * against a local registry started in this process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFailure } from '../../cli/main';
import { buildProgram, COMMAND_FOR_OPERATION, UsageError } from '../../cli/program';
import { OPERATIONS, type OperationSpec } from '../../functions/api/contract';
import type { LocalRegistry } from '../../local/registry';
import { ArtifactVerificationError, RegistryApiError, RegistryNetworkError } from '../../sdk';
import { localRegistry } from '../support/engines';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'mreg.js');
const MiB = 1024 ** 2;

let registry: LocalRegistry;
let work: string;
let modelDir: string;
const files: Record<string, Buffer> = {
  'model.pkl': randomBytes(2048),
  'weights/big.bin': randomBytes(7 * MiB + 3),
};

/** Newest modification time under a directory. */
function newest(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { recursive: true }).map((p) => statSync(join(dir, String(p))).mtimeMs),
  );
}

beforeAll(async () => {
  const sources = Math.max(
    newest(join(ROOT, 'cli')),
    newest(join(ROOT, 'sdk')),
    statSync(join(ROOT, 'scripts', 'build-cli.ts')).mtimeMs,
  );
  if (!existsSync(BIN) || statSync(BIN).mtimeMs < sources) {
    execFileSync('npx', ['tsx', 'scripts/build-cli.ts'], { cwd: ROOT, stdio: 'pipe' });
  }
  registry = await localRegistry({
    env: { MULTIPART_THRESHOLD_BYTES: String(5 * MiB), MULTIPART_PART_SIZE_BYTES: String(5 * MiB) },
  });
  work = mkdtempSync(join(tmpdir(), 'mreg-cli-'));
  modelDir = join(work, 'model');
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(join(modelDir, path, '..'), { recursive: true });
    writeFileSync(join(modelDir, path), body);
  }
});
afterAll(async () => {
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the binary (asynchronously: the registry answers from this process). */
function mreg(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: work,
      env: { ...process.env, MREG_ENDPOINT: registry.url, XDG_CACHE_HOME: join(work, 'cache'), ...env },
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

const ok = (run: Run) => {
  expect(run.stderr, run.stderr).toBe('');
  expect(run.code).toBe(0);
  return run.stdout;
};
const json = (run: Run) => JSON.parse(ok(run));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('mreg against a local registry', () => {
  const name = 'churn-model';

  it('creates a model', async () => {
    expect(ok(await mreg(['models', 'create', name, '--description', 'Churn', '--tag', 'team=risk']))).toBe(
      `Created model ${name}.\n`,
    );
    const model = json(await mreg(['models', 'get', name, '--json']));
    expect(model.registered_model).toMatchObject({ name, description: 'Churn', tags: { team: 'risk' } });
    // Production is guarded by default; this model guards Staging instead. That weakens the
    // policy (Production no longer guarded), so it is a request that another person approves.
    const policy = json(
      await mreg([
        'policy',
        'set',
        name,
        '{"guarded_stages": ["Staging"], "protected_aliases": []}',
        '--json',
      ]),
    );
    expect(policy.policy_request.weakenings).toEqual([
      'stage Production no longer guarded',
      'alias @champion no longer protected',
    ]);
    const approved = ok(
      await mreg(['policy', 'requests', 'approve', name, policy.policy_request.id], {
        AWS_ACCESS_KEY_ID: 'AKIAPOLICYADMIN',
        AWS_SECRET_ACCESS_KEY: 'local',
      }),
    );
    expect(approved).toContain('APPLIED');
    expect(ok(await mreg(['policy', 'get', name]))).toMatch(/guarded stages:\s+Staging \(model override\)/);
  });

  it('registers versions from a directory, with metrics, parameters and a dataset', async () => {
    const out = ok(
      await mreg([
        'versions',
        'create',
        name,
        '--artifact',
        modelDir,
        '--metric',
        'auc=0.91',
        '--metric',
        'f1=0.8',
        '--param',
        'depth=6',
        '--run-id',
        'run-1',
        '--dataset-name',
        'customers',
        '--dataset-digest',
        'sha256:abc',
      ]),
    );
    expect(out).toBe(`Registered ${name} version 1 (READY, 2 files, 7.00 MiB).\n`);
    const second = json(
      await mreg(['--json', 'versions', 'create', name, '--artifact', modelDir, '--metric', 'auc=0.93']),
    );
    expect(second.model_version).toMatchObject({ version: 2, status: 'READY', metrics: { auc: 0.93 } });
    expect(second.model_version.files).toEqual([
      { path: 'model.pkl', size: 2048, sha256: sha(files['model.pkl']!) },
      { path: 'weights/big.bin', size: 7 * MiB + 3, sha256: sha(files['weights/big.bin']!) },
    ]);
    const v1 = json(await mreg(['versions', 'get', name, '1', '--json'])).model_version;
    expect(v1).toMatchObject({
      metrics: { auc: 0.91, f1: 0.8 },
      parameters: { depth: '6' },
      run_id: 'run-1',
      dataset: { name: 'customers', digest: 'sha256:abc' },
    });
    // Resume state is cleaned up after each successful upload.
    const cache = join(work, 'cache', 'mreg', 'uploads');
    expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
  });

  it('lists versions as an aligned table, and as JSON', async () => {
    const lines = ok(await mreg(['versions', 'list', name]))
      .trimEnd()
      .split('\n');
    expect(lines).toHaveLength(3);
    const header = lines[0]!;
    expect(header).toMatch(/^NAME\s+VERSION\s+STAGE\s+STATUS\s+ALIASES\s+RUN ID\s+METRICS\s+CREATED$/);
    for (const column of ['VERSION', 'STAGE', 'STATUS', 'CREATED']) {
      const at = header.indexOf(column);
      for (const row of lines.slice(1)) expect(row[at - 1], `${column} in ${row}`).toBe(' ');
      for (const row of lines.slice(1)) expect(row[at], `${column} in ${row}`).not.toBe(' ');
    }
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4))).toEqual(
      expect.arrayContaining([
        [name, '1', 'None', 'READY'],
        [name, '2', 'None', 'READY'],
      ]),
    );
    const page = json(await mreg(['versions', 'list', name, '--json']));
    expect(page.model_versions.map((v: any) => v.version).sort()).toEqual([1, 2]);
  });

  it('promotes with --archive-existing, and records the transitions', async () => {
    expect(ok(await mreg(['promote', name, '1', '--stage', 'Production']))).toContain('now in Production');
    const promoted = json(
      await mreg([
        'promote',
        name,
        '2',
        '--stage',
        'production',
        '--archive-existing',
        '--comment',
        'better',
        '--json',
      ]),
    );
    expect(promoted.model_version).toMatchObject({ version: 2, current_stage: 'Production' });
    expect(json(await mreg(['versions', 'get', name, '1', '--json'])).model_version.current_stage).toBe(
      'Archived',
    );
    const latest = json(await mreg(['latest', name, '--stage', 'Production', '--json']));
    expect(latest.model_versions.map((v: any) => v.version)).toEqual([2]);
    const transitions = ok(await mreg(['transitions', name]));
    expect(transitions).toMatch(/^WHEN\s+VERSION\s+FROM\s+TO\s+ACTOR\s+COMMENT/);
    expect(transitions).toContain('better');
    expect(transitions).toContain('Archived');
  });

  it('requests a transition into a guarded stage, lists it and cancels it', async () => {
    const requested = await mreg(['promote', name, '1', '--stage', 'Staging', '--comment', 'try it']);
    expect(ok(requested)).toMatch(
      /^Staging is guarded: requested the transition of churn-model version 1 \(request [\w-]+, 1 approval needed\)/,
    );
    const page = json(await mreg(['requests', 'list', name, '--status', 'pending', '--json']));
    expect(page.transition_requests).toHaveLength(1);
    const request = page.transition_requests[0];
    expect(request).toMatchObject({ version: 1, to_stage: 'Staging', status: 'PENDING', comment: 'try it' });
    expect(ok(await mreg(['requests', 'list', name]))).toMatch(
      /^ID\s+VERSION\s+FROM\s+TO\s+STATUS\s+APPROVALS/,
    );
    expect(ok(await mreg(['requests', 'get', name, request.id]))).toContain('status:');
    const cancelled = json(
      await mreg(['requests', 'cancel', name, request.id, '--reason', 'not now', '--json']),
    );
    expect(cancelled.transition_request.status).toBe('CANCELLED');
    const rejected = await mreg(['requests', 'approve', name, request.id]);
    expect(rejected.code).toBe(1);
  });

  it('sets an alias and downloads through it, byte for byte', async () => {
    expect(ok(await mreg(['alias', 'set', name, 'champion', '2']))).toContain('champion');
    expect(json(await mreg(['alias', 'get', name, 'champion', '--json'])).model_version.version).toBe(2);
    const out = ok(await mreg(['download', `models:/${name}@champion`, './out']));
    expect(out).toBe(`Downloaded ${name} version 2 (2 files, 7.00 MiB) to ./out.\n`);
    for (const [path, body] of Object.entries(files)) {
      expect(readFileSync(join(work, 'out', path)).equals(body), path).toBe(true);
    }
    const resolved = json(await mreg(['resolve', `models:/${name}/Production`, '--json']));
    expect(resolved.download).toMatchObject({ name, version: 2 });
  });

  it('searches models (default) and versions', async () => {
    await mreg(['models', 'create', 'fraud-model']);
    const table = ok(await mreg(['search', "name LIKE '%churn%'"]));
    expect(table).toMatch(/^NAME\s+LATEST VERSIONS/);
    expect(table).toContain(name);
    expect(table).not.toContain('fraud-model');
    const page = json(await mreg(['search', "name LIKE '%churn%'", '--json']));
    expect(page.registered_models.map((m: any) => m.name)).toEqual([name]);
    const versions = json(await mreg(['search', '--versions', `name = '${name}'`, '--json']));
    expect(versions.model_versions).toHaveLength(2);
  });

  it('tags, untags, updates, renames and deletes', async () => {
    ok(await mreg(['models', 'tag', 'fraud-model', 'owner', 'ops']));
    ok(await mreg(['versions', 'tag', name, '2', 'validated', 'yes']));
    ok(await mreg(['versions', 'untag', name, '2', 'validated']));
    ok(await mreg(['versions', 'update', name, '2', '--description', 'best so far']));
    expect(json(await mreg(['versions', 'get', name, '2', '--json'])).model_version).toMatchObject({
      description: 'best so far',
      tags: {},
    });
    ok(await mreg(['models', 'update', 'fraud-model', '--description', 'Fraud']));
    ok(await mreg(['models', 'rename', 'fraud-model', 'fraud-model-2']));
    expect(json(await mreg(['models', 'get', 'fraud-model-2', '--json'])).registered_model).toMatchObject({
      description: 'Fraud',
      tags: { owner: 'ops' },
    });
    ok(await mreg(['models', 'untag', 'fraud-model-2', 'owner']));
    ok(await mreg(['models', 'delete', 'fraud-model-2']));
    const created = json(
      await mreg(['versions', 'create', name, '--source', 's3://bucket/external', '--json']),
    );
    expect(created.model_version).toMatchObject({
      version: 3,
      status: 'READY',
      source: 's3://bucket/external',
    });
    ok(await mreg(['versions', 'delete', name, '3']));
    ok(await mreg(['alias', 'delete', name, 'champion']));
  });

  it('rolls Production back, and answers audit and stage-history questions', async () => {
    const before = Date.now();
    const rolled = json(await mreg(['rollback', name, '--comment', 'regression', '--json']));
    expect(rolled.model_version).toMatchObject({ version: 1, current_stage: 'Production' });
    const history = json(
      await mreg(['stage-history', name, '--stage', 'Production', '--at', String(before), '--json']),
    );
    expect(history.versions).toEqual([2]);
    expect(ok(await mreg(['stage-history', name, '--stage', 'Production']))).toMatch(
      /^Production at .*: 1\n$/,
    );
    const audit = json(await mreg(['audit', name, '--json']));
    expect(audit.entries.length).toBeGreaterThan(0);
    expect(ok(await mreg(['audit', name, '--max-results', '5']))).toMatch(/^WHEN\s+EVENT\s+VERSION\s+ACTOR/);
  });

  it('exits 1 with the registry message for an unknown model', async () => {
    const run = await mreg(['models', 'get', 'no-such-model']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^mreg: .*no-such-model.* \(RESOURCE_DOES_NOT_EXIST, HTTP 404, request id [\w-]+\)\n$/,
    );
    const asJson = await mreg(['--json', 'versions', 'get', 'no-such-model', '1']);
    expect(asJson.code).toBe(1);
    expect(asJson.stdout).toBe('');
  });

  it.each([
    [['versions', 'create', name]],
    [['versions', 'create', name, '--artifact', 'x', '--source', 's3://b/k']],
    [['versions', 'create', name, '--artifact', 'does-not-exist']],
    [['versions', 'create', name, '--source', 's3://b/k', '--metric', 'auc=high']],
    [['versions', 'get', name, 'one']],
    [['models', 'get']],
    [['models', 'frobnicate']],
    [['promote', name, '1']],
    [['search', '--max-results', 'zero']],
  ])('exits 2 on bad usage: %j', async (args) => {
    const run = await mreg(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^mreg: /);
  });

  it('exits 4 when the registry cannot be reached', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const run = await mreg(['models', 'list'], { MREG_ENDPOINT: `http://127.0.0.1:${port}` });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(
      /^mreg: Could not reach the registry at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    );
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('exits 0 for --help and --version', async () => {
    expect((await mreg(['--help'])).code).toBe(0);
    expect(ok(await mreg(['--version']))).toBe('0.1.0\n');
  });
});

describe('exit codes', () => {
  it.each([
    [new RegistryApiError(404, 'RESOURCE_DOES_NOT_EXIST', 'gone'), 1],
    [new RegistryApiError(409, 'INVALID_STATE', 'busy'), 1],
    [new RegistryApiError(503, 'SERVICE_UNAVAILABLE', 'later'), 4],
    [new RegistryNetworkError('down'), 4],
    [new ArtifactVerificationError("File 'a' has SHA-256 x", 'a'), 3],
    [new UsageError('bad'), 2],
  ])('%o → %i', (err, code) => {
    expect(describeFailure(err).code).toBe(code);
  });
});

describe('CLI coverage of the API', () => {
  const program = buildProgram();
  const find = (path: string) =>
    path
      .split(' ')
      .reduce<Command | undefined>((cmd, word) => cmd?.commands.find((c) => c.name() === word), program);

  it.each(
    OPERATIONS.filter((o: OperationSpec) => o.protocol !== 'mlflow').map((o) => [o.operationId]),
  )('%s has a command', (id) => {
    const path = (COMMAND_FOR_OPERATION as Record<string, string>)[id];
    expect(path, `no command for ${id}`).toBeDefined();
    expect(find(path!), `command '${path}' does not exist`).toBeDefined();
  });
});
