/**
 * The real `mreg` binary (dist/mreg.js, built by scripts/build-cli.ts) run as a child process
 * against a local registry started in this process.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputSettings } from '../../cli/context';
import { describeFailure } from '../../cli/main';
import { buildProgram, COMMAND_FOR_OPERATION, UsageError } from '../../cli/program';
import { OPERATIONS, type OperationSpec } from '../../functions/api/contract';
import type { LocalRegistry } from '../../local/registry';
import { ArtifactVerificationError, RegistryApiError, RegistryNetworkError } from '../../sdk';
import { localRegistry } from '../support/engines';
import { BIN, cleanEnv, ensureBinary, type Run, runMreg } from './binary';

const MiB = 1024 ** 2;

let registry: LocalRegistry;
let work: string;
let modelDir: string;
const files: Record<string, Buffer> = {
  'model.pkl': randomBytes(2048),
  'weights/big.bin': randomBytes(7 * MiB + 3),
};

beforeAll(async () => {
  await ensureBinary();
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

/** Runs the binary against the test's registry. */
const mreg = (args: string[], env: Record<string, string> = {}) =>
  runMreg(args, work, { MREG_ENDPOINT: registry.url, ...env });

/** Human output: stdout is a pipe here, where JSON is the default. */
const human = (args: string[], env: Record<string, string> = {}) => mreg(['--output', 'table', ...args], env);

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
    expect(ok(await human(['models', 'create', name, '--description', 'Churn', '--tag', 'team=risk']))).toBe(
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
    expect(ok(await human(['policy', 'get', name]))).toMatch(/guarded stages:\s+Staging \(model override\)/);
  });

  it('registers versions from a directory, with metrics, parameters and a dataset', async () => {
    const out = ok(
      await human([
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
    const lines = ok(await human(['versions', 'list', name]))
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

  it('writes a model card from a file, shows it, and writes back what it printed', async () => {
    const card = {
      intended_use: { primary_uses: 'Retention campaigns.', out_of_scope_uses: 'Credit decisions.' },
      metrics: [{ name: 'recall', value: 0.78, slice: 'sex=female' }],
      limitations: 'Trained on EU customers only.',
    };
    writeFileSync(join(work, 'card.json'), JSON.stringify(card));
    expect(ok(await human(['card', 'set', name, '1', '--file', 'card.json']))).toBe(
      `Saved the model card of ${name} version 1.\n`,
    );
    const got = json(await mreg(['card', 'get', name, '1']));
    expect(got).toEqual({ model_card: card });
    const shown = ok(await human(['card', 'get', name, '1']));
    expect(shown).toContain(
      'Intended use\n  primary uses: Retention campaigns.\n  out of scope: Credit decisions.',
    );
    expect(shown).toMatch(/Metrics\n\s+METRIC\s+SLICE\s+VALUE/);
    expect(shown).toMatch(/recall\s+sex=female\s+0\.78/);
    expect(shown).toContain('Limitations\n  Trained on EU customers only.');
    // `card get --output json` output is accepted as it is.
    writeFileSync(join(work, 'card-out.json'), JSON.stringify(got));
    expect(json(await mreg(['card', 'set', name, '1', '--file', 'card-out.json']))).toEqual(got);
    expect(json(await mreg(['versions', 'get', name, '1'])).model_version.model_card).toEqual(card);

    writeFileSync(join(work, 'bad-card.json'), JSON.stringify({ ...card, colour: 'red' }));
    const refused = await mreg(['card', 'set', name, '1', '--file', 'bad-card.json']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /unknown field\(s\) 'colour' in body\.model_card.*INVALID_PARAMETER_VALUE/,
    );
    const none = await mreg(['card', 'get', name, '2']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('has no model card');
  });

  it('promotes with --archive-existing, and records the transitions', async () => {
    expect(ok(await human(['promote', name, '1', '--stage', 'Production']))).toContain('now in Production');
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
    const transitions = ok(await human(['transitions', name]));
    expect(transitions).toMatch(/^WHEN\s+VERSION\s+FROM\s+TO\s+ACTOR\s+COMMENT/);
    expect(transitions).toContain('better');
    expect(transitions).toContain('Archived');
  });

  it('requests a transition into a guarded stage, lists it and cancels it', async () => {
    const requested = await human(['promote', name, '1', '--stage', 'Staging', '--comment', 'try it']);
    expect(ok(requested)).toMatch(
      /^Staging is guarded: requested the transition of churn-model version 1 \(request [\w-]+, 1 approval needed\)/,
    );
    const page = json(await mreg(['requests', 'list', name, '--status', 'pending', '--json']));
    expect(page.transition_requests).toHaveLength(1);
    const request = page.transition_requests[0];
    expect(request).toMatchObject({ version: 1, to_stage: 'Staging', status: 'PENDING', comment: 'try it' });
    expect(ok(await human(['requests', 'list', name]))).toMatch(
      /^ID\s+VERSION\s+FROM\s+TO\s+STATUS\s+APPROVALS/,
    );
    expect(ok(await human(['requests', 'get', name, request.id]))).toContain('status:');
    const cancelled = json(
      await mreg(['requests', 'cancel', name, request.id, '--reason', 'not now', '--json']),
    );
    expect(cancelled.transition_request.status).toBe('CANCELLED');
    const rejected = await mreg(['requests', 'approve', name, request.id]);
    expect(rejected.code).toBe(1);
  });

  it('sets an alias and downloads through it, byte for byte', async () => {
    expect(ok(await human(['alias', 'set', name, 'champion', '2']))).toContain('champion');
    expect(json(await mreg(['alias', 'get', name, 'champion', '--json'])).model_version.version).toBe(2);
    const out = ok(await human(['download', `models:/${name}@champion`, './out']));
    expect(out).toBe(`Downloaded ${name} version 2 (2 files, 7.00 MiB) to ./out.\n`);
    for (const [path, body] of Object.entries(files)) {
      expect(readFileSync(join(work, 'out', path)).equals(body), path).toBe(true);
    }
    const resolved = json(await mreg(['resolve', `models:/${name}/Production`, '--json']));
    expect(resolved.download).toMatchObject({ name, version: 2 });
  });

  it('searches models (default) and versions', async () => {
    await mreg(['models', 'create', 'fraud-model']);
    const table = ok(await human(['search', "name LIKE '%churn%'"]));
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
    expect(ok(await human(['stage-history', name, '--stage', 'Production']))).toMatch(
      /^Production at .*: 1\n$/,
    );
    const audit = json(await mreg(['audit', name, '--json']));
    expect(audit.entries.length).toBeGreaterThan(0);
    expect(ok(await human(['audit', name, '--max-results', '5']))).toMatch(/^WHEN\s+EVENT\s+VERSION\s+ACTOR/);
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
    [['card', 'set', name, '1']],
    [['card', 'set', name, '1', '--file', 'no-such-card.json']],
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Local mode takes the caller from the access key id of a signed request. */
const as = (user: string) => ({ AWS_ACCESS_KEY_ID: user, AWS_SECRET_ACCESS_KEY: 'local' });
const LOCAL = 'arn:aws:iam::000000000000:user';

describe('mreg output, paging, governance and events against a local registry', () => {
  const gov = 'gov-model';
  let requestId: string;

  beforeAll(async () => {
    ok(await mreg(['models', 'create', gov]));
    ok(
      await mreg(
        ['versions', 'create', gov, '--source', 's3://bucket/a', '--run-id', 'run-a'].concat(
          ['--metric', 'auc=0.91', '--metric', 'f1=0.8', '--param', 'depth=6', '--param', 'lr=0.1'],
          ['--dataset-name', 'customers', '--dataset-digest', 'sha256:aaa'],
        ),
      ),
    );
    ok(
      await mreg(
        ['versions', 'create', gov, '--source', 's3://bucket/b', '--run-id', 'run-b'].concat(
          ['--metric', 'auc=0.93', '--metric', 'recall=0.7', '--param', 'depth=8', '--param', 'lr=0.1'],
          ['--dataset-name', 'customers', '--dataset-digest', 'sha256:bbb'],
        ),
      ),
    );
    ok(await mreg(['versions', 'create', gov, '--source', 's3://bucket/c']));
    ok(
      await mreg([
        'policy',
        'set',
        gov,
        '{"guarded_stages": ["Staging", "Production"], "required_approvals": 2}',
      ]),
    );
  });

  it("gives a subcommand's --version to the subcommand, and keeps mreg --version", async () => {
    ok(await mreg(['promote', gov, '3', '--stage', 'Archived']));
    const audit = json(await mreg(['audit', gov, '--version', '3', '--json']));
    expect(audit.entries.length).toBeGreaterThan(0);
    expect(audit.entries.map((e: any) => e.version)).toEqual(audit.entries.map(() => 3));
    const transitions = json(await mreg(['transitions', gov, '--version', '3']));
    expect(transitions.transitions.map((t: any) => [t.version, t.to_stage])).toEqual([[3, 'Archived']]);
    expect(json(await mreg(['transitions', '--version', '1', gov])).transitions).toEqual([]);
    expect(json(await mreg(['requests', 'list', gov, '--version', '1', '--json']))).toEqual({
      transition_requests: [],
    });
    expect(ok(await human(['audit', gov, '--version', '3']))).toMatch(/^WHEN\s+EVENT\s+VERSION\s+ACTOR/);
    expect(ok(await mreg(['--version']))).toBe('0.1.0\n');
    expect(ok(await mreg(['-V']))).toBe('0.1.0\n');
    // The CLI's version belongs before the command only.
    const misplaced = await mreg(['models', 'list', '--version']);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toMatch(/^mreg: unknown option '--version'/);
  });

  it('says what an approval did: one of two recorded, then the request approved', async () => {
    const promoted = json(await mreg(['promote', gov, '1', '--stage', 'Staging']));
    requestId = promoted.transition_request.id;
    await registry.settled(); // the quality gates have run: the request waits for approvals
    // The approver's inbox: every model's pending requests (GET /transition-requests).
    const inbox = json(await mreg(['requests', 'inbox', '--all']));
    expect(inbox.transition_requests.map((r: { id: string }) => r.id)).toContain(requestId);
    expect(ok(await human(['requests', 'inbox'], { COLUMNS: '200' }))).toMatch(
      new RegExp(`${requestId}\\s+${gov}\\s+1\\s+None\\s+Staging\\s+PENDING`),
    );
    expect(ok(await human(['requests', 'approve', gov, requestId], as('alice')))).toBe(
      `Recorded your approval of request ${requestId} (${gov} version 1 → Staging): 1 of 2 approvals; waiting for 1 more.\n`,
    );
    expect(ok(await human(['requests', 'approve', gov, requestId, '--comment', 'lgtm'], as('bob')))).toBe(
      `Request ${requestId} is APPLIED: ${gov} version 1 is now in Staging.\n`,
    );
    expect(json(await mreg(['versions', 'get', gov, '1'])).model_version.current_stage).toBe('Staging');
  });

  it('waits, after the approval that completes a request, until the change is applied; exits 1 when it fails instead', async () => {
    const model = 'wait-model';
    ok(await mreg(['models', 'create', model]));
    for (const source of ['s3://bucket/w1', 's3://bucket/w2'])
      ok(await mreg(['versions', 'create', model, '--source', source, '--metric', 'auc=0.91']));
    const first = json(await mreg(['promote', model, '1', '--stage', 'Production'])).transition_request;
    await registry.settled(); // the quality gates have run
    expect(ok(await human(['requests', 'approve', model, first.id], as('alice')))).toBe(
      `Request ${first.id} is APPLIED: ${model} version 1 is now in Production.\n`,
    );
    // No waiting here: the approval's answer came once the change was applied.
    expect(json(await mreg(['versions', 'get', model, '1'])).model_version.current_stage).toBe('Production');

    // A gate added after filing: the approved request is checked again and fails; nothing changes.
    const second = json(await mreg(['promote', model, '2', '--stage', 'Production'])).transition_request;
    await registry.settled();
    ok(await mreg(['policy', 'set', model, '{"quality_gates": ["auc >= 0.95"]}']));
    const failed = await mreg(['requests', 'approve', model, second.id], as('alice'));
    expect(failed.code, failed.stderr).toBe(1);
    expect(JSON.parse(failed.stdout).transition_request.status).toBe('FAILED');
    expect(failed.stderr).toMatch(
      new RegExp(`^mreg: Request ${second.id} ended FAILED \\(.*auc.*\\): nothing changed\\.\n$`),
    );
    expect(json(await mreg(['versions', 'get', model, '2'])).model_version.current_stage).toBe('None');

    const usage = await mreg(['requests', 'approve', model, second.id, '--wait-timeout', '0'], as('alice'));
    expect([usage.code, usage.stderr]).toEqual([2, "mreg: --wait-timeout expects seconds > 0, got '0'.\n"]);
  });

  it('reports awaiting_approval only on pending requests, and opens no request for a version already in the stage', async () => {
    // The request approved above is APPLIED: nobody needs to act on it any more.
    const applied = json(await mreg(['requests', 'get', gov, requestId])).transition_request;
    expect([applied.status, applied.awaiting_approval]).toEqual(['APPLIED', false]);
    const opened = json(await mreg(['promote', gov, '2', '--stage', 'Production'])).transition_request;
    await registry.settled();
    expect(json(await mreg(['requests', 'get', gov, opened.id])).transition_request.awaiting_approval).toBe(
      true,
    );
    ok(await mreg(['requests', 'cancel', gov, opened.id, '--reason', 'not yet']));
    const cancelled = json(await mreg(['requests', 'get', gov, opened.id])).transition_request;
    expect([cancelled.status, cancelled.awaiting_approval]).toEqual(['CANCELLED', false]);
    // Version 1 is in Staging (a guarded stage): promoting it there again changes nothing, asks nobody.
    const before = json(await mreg(['requests', 'list', gov, '--all'])).transition_requests.length;
    const again = json(await mreg(['promote', gov, '1', '--stage', 'Staging']));
    expect(again.transition_request).toBeUndefined();
    expect(again.model_version.current_stage).toBe('Staging');
    expect(json(await mreg(['requests', 'list', gov, '--all'])).transition_requests).toHaveLength(before);
    expect(ok(await human(['promote', gov, '1', '--stage', 'Staging']))).not.toMatch(/request/i);
  });

  it('shows people rather than ARNs, in tables that fit the terminal, at local times with their offset', async () => {
    const env = { COLUMNS: '200', TZ: 'Asia/Kolkata' };
    const localTime = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+05:30/;
    for (const args of [
      ['requests', 'list', gov],
      ['transitions', gov],
      ['audit', gov],
      ['versions', 'list', gov],
    ]) {
      const wide = ok(await human(args, env));
      expect(wide, args.join(' ')).not.toContain('arn:aws');
      expect(wide, args.join(' ')).toMatch(localTime);
      const narrow = ok(await human(args, { ...env, COLUMNS: '80' }));
      expect(narrow, args.join(' ')).not.toContain('arn:aws');
      for (const line of narrow.trimEnd().split('\n')) expect([...line].length, line).toBeLessThanOrEqual(80);
    }
    // Identifiers are cut last: at 100 columns the request id is whole.
    expect(ok(await human(['requests', 'list', gov], { COLUMNS: '100' }))).toContain(requestId);
    const requests = ok(await human(['requests', 'list', gov], env));
    expect(requests).toMatch(/\slocal-user\s/);
    const transitions = ok(await human(['transitions', gov], env));
    expect(transitions, transitions).toMatch(/\s1\s+None\s+Staging\s+local-user\s/);
    const request = ok(await human(['requests', 'get', gov, requestId], env));
    expect(request).toMatch(/approvals:\s+2 of 2: alice, bob/);
    expect(request).toMatch(/requester:\s+local-user/);
    expect(request).not.toContain('arn:aws');
    expect(ok(await human(['versions', 'get', gov, '1'], env))).toMatch(
      /created:\s+.* \+05:30 by local-user/,
    );
    // A long cell is cut with an ellipsis rather than wrapped.
    ok(await mreg(['models', 'update', gov, '--description', `A ${'very '.repeat(30)}long description`]));
    const models = ok(await human(['models', 'list'], { COLUMNS: '60' }));
    const row = models.split('\n').find((l) => l.startsWith(gov))!;
    expect(row).toMatch(/…$/);
    expect([...row].length).toBeLessThanOrEqual(60);
    // JSON keeps the full principals.
    const asJson = json(await mreg(['requests', 'get', gov, requestId]));
    expect(asJson.transition_request.requester).toBe(`${LOCAL}/local-user`);
    expect(asJson.transition_request.approvals.map((a: any) => a.principal)).toEqual([
      `${LOCAL}/alice`,
      `${LOCAL}/bob`,
    ]);
  });

  it('refuses a --profile that does not exist (exit 2) instead of sending unsigned requests', async () => {
    const config = join(work, 'aws-config');
    writeFileSync(config, '[default]\nregion = eu-west-1\n\n[profile other]\nregion = eu-west-1\n');
    const run = await mreg(['--profile', 'approver', 'models', 'create', 'never-created'], {
      AWS_CONFIG_FILE: config,
    });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`The AWS profile 'approver' does not exist in ${config}`);
    expect(run.stderr).toContain('`aws configure --profile approver`');
    expect(run.stderr).toContain('AWS_ACCESS_KEY_ID=approver');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    // After the command, and through AWS_PROFILE, alike.
    expect((await mreg(['models', 'create', 'never-created', '--profile', 'approver'])).code).toBe(2);
    expect((await mreg(['models', 'create', 'never-created'], { AWS_PROFILE: 'approver' })).code).toBe(2);
    expect((await mreg(['models', 'get', 'never-created'])).code).toBe(1);
  });

  it('signs with a --profile that exists: local mode acts as its access key', async () => {
    const credentials = join(work, 'aws-credentials');
    writeFileSync(credentials, '[approver]\naws_access_key_id = carol\naws_secret_access_key = local\n');
    const created = json(
      await mreg(['--profile', 'approver', 'models', 'create', 'profiled-model'], {
        AWS_SHARED_CREDENTIALS_FILE: credentials,
      }),
    );
    expect(created.registered_model.created_by).toBe(`${LOCAL}/carol`);
  });

  it('prints JSON when piped, a table with --output table, tab-separated text with --output text', async () => {
    const piped = json(await mreg(['versions', 'list', gov]));
    expect(piped.model_versions).toHaveLength(3);
    expect(ok(await mreg(['versions', 'list', gov, '--output', 'json']))).toBe(
      ok(await mreg(['versions', 'list', gov, '--json'])),
    );
    expect(ok(await mreg(['versions', 'list', gov, '--output', 'table']))).toMatch(/^NAME\s+VERSION\s+STAGE/);
    const text = ok(await mreg(['--output', 'text', 'versions', 'get', gov, '1']))
      .trimEnd()
      .split('\n');
    // The aws CLI's layout: the scalars of an object (sorted by key) after its upper-cased key,
    // then each nested object on its own line.
    const version = text[0]!.split('\t');
    expect(version[0]).toBe('MODEL_VERSION');
    expect(version.slice(-4)).toEqual(['run-a', 's3://bucket/a', 'READY', '1']);
    expect(text).toContain('DATASET\tsha256:aaa\tcustomers');
    expect(text).toContain('METRICS\t0.91\t0.8');
    expect(text).toContain('PARAMETERS\t6\t0.1');
    const rows = ok(await mreg(['versions', 'list', gov, '--output', 'text']))
      .split('\n')
      .filter((l) => l.startsWith('MODEL_VERSIONS\t'));
    expect(rows.map((r) => r.split('\t').at(-1)).sort()).toEqual(['1', '2', '3']);
    expect(ok(await mreg(['versions', 'list', gov], { MREG_OUTPUT: 'text' }))).toMatch(/^MODEL_VERSIONS\t/);
    for (const args of [
      ['versions', 'list', gov, '--json', '--output', 'text'],
      ['versions', 'list', gov, '--output', 'yaml'],
    ]) {
      const run = await mreg(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
    }
  });

  it('applies --query (JMESPath) to the JSON response, in every output format', async () => {
    const versions = ['versions', 'list', gov, '--query', 'sort(model_versions[].version)'];
    expect(json(await mreg(versions))).toEqual([1, 2, 3]);
    expect(ok(await mreg([...versions, '--output', 'text']))).toBe('1\t2\t3\n');
    expect(ok(await mreg([...versions, '--output', 'table']))).toBe('1\n2\n3\n');
    const picked = 'model_versions[?version==`1`].{v: version, run: run_id}';
    expect(ok(await human(['versions', 'list', gov, '--query', picked]))).toBe('V  RUN\n1  run-a\n');
    expect(json(await mreg(['models', 'get', gov, '--query', 'registered_model.name']))).toBe(gov);
    // A malformed expression is a usage error, found before any request (this endpoint is down).
    const bad = await mreg([
      'versions',
      'list',
      gov,
      '--query',
      'model_versions[',
      '--endpoint',
      'http://127.0.0.1:9',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^mreg: --query is not a valid JMESPath expression/);
  });

  it('follows next_page_token with --all and prints one merged list', async () => {
    const first = json(await mreg(['versions', 'list', gov, '--max-results', '1']));
    expect(first.model_versions).toHaveLength(1);
    expect(first.next_page_token).toEqual(expect.any(String));
    const all = json(await mreg(['versions', 'list', gov, '--max-results', '1', '--all']));
    expect(all.model_versions.map((v: any) => v.version).sort()).toEqual([1, 2, 3]);
    expect(all).not.toHaveProperty('next_page_token');
    expect(json(await mreg(['audit', gov, '--max-results', '2', '--all'])).entries).toEqual(
      json(await mreg(['audit', gov])).entries,
    );
    const searched = json(
      await mreg(['search', '--versions', `name = '${gov}'`, '--max-results', '2', '--all']),
    );
    expect(searched.model_versions).toHaveLength(3);
    expect(ok(await human(['versions', 'list', gov, '--max-results', '1']))).toContain('(more: --page-token');
    const table = ok(await human(['versions', 'list', gov, '--max-results', '1', '--all']));
    expect(table.trimEnd().split('\n')).toHaveLength(4);
    expect(table).not.toContain('--page-token');
  });

  it('compares two versions side by side', async () => {
    const c = json(await mreg(['compare', gov, '1', '2']));
    expect(c.model_versions.map((v: any) => v.version)).toEqual([1, 2]);
    expect(c.metrics).toEqual([
      { key: 'auc', values: [0.91, 0.93], difference: 0.02 },
      { key: 'f1', values: [0.8, null], difference: null },
      { key: 'recall', values: [null, 0.7], difference: null },
    ]);
    expect(c.parameters).toEqual([
      { key: 'depth', values: ['6', '8'], differs: true },
      { key: 'lr', values: ['0.1', '0.1'], differs: false },
    ]);
    const field = (name: string) => c.fields.find((f: any) => f.field === name);
    expect(field('run_id')).toEqual({ field: 'run_id', values: ['run-a', 'run-b'], differs: true });
    expect(field('dataset.name')).toEqual({
      field: 'dataset.name',
      values: ['customers', 'customers'],
      differs: false,
    });
    expect(field('dataset.digest').differs).toBe(true);
    expect(field('current_stage').values).toEqual(['Staging', 'None']);
    const table = ok(await human(['compare', gov, '1', '2']));
    expect(table).toMatch(/^FIELD\s+VERSION 1\s+VERSION 2\s+DIFFERENCE\n/);
    expect(table).toMatch(/\nstage\s+Staging\s+None\s+changed\n/);
    expect(table).toMatch(/\ndataset name\s+customers\s+customers\n/);
    expect(table).toMatch(/\ndataset digest\s+sha256:aaa\s+sha256:bbb\s+changed\n/);
    expect(table).toMatch(/\nsource\s+s3:\/\/bucket\/a\s+s3:\/\/bucket\/b\s+changed\n/);
    expect(table).toMatch(/\ncreated by\s+local-user\s+local-user\n/);
    expect(table).toMatch(/\nmetric auc\s+0\.91\s+0\.93\s+\+0\.02\n/);
    expect(table).toMatch(/\nmetric f1\s+0\.8\s+only in v1\n/);
    expect(table).toMatch(/\nmetric recall\s+0\.7\s+only in v2\n/);
    expect(table).toMatch(/\nparam depth\s+6\s+8\s+changed\n/);
    expect(table).toMatch(/\nparam lr\s+0\.1\s+0\.1\n/);
  });

  it('prints the local event log, filtered by --type', async () => {
    const all = json(await mreg(['events']));
    expect(all.events.length).toBeGreaterThan(0);
    expect(all.events[0]).toMatchObject({
      source: 'model-registry',
      detail: { event_id: expect.any(String) },
    });
    const created = json(await mreg(['events', '--type', 'ModelVersionCreated']));
    expect(created.events.length).toBeGreaterThan(0);
    expect(created.events.every((e: any) => e['detail-type'] === 'ModelVersionCreated')).toBe(true);
    expect(created.events.filter((e: any) => e.detail.model.name === gov)).toHaveLength(3);
    const approvals = ok(await human(['events', '--type', 'TransitionApproved']));
    expect(approvals).toMatch(/^WHEN\s+EVENT\s+MODEL\s+VERSION\s+ACTOR/);
    expect(approvals).toMatch(/TransitionApproved\s+gov-model\s+1\s+alice/);
    const remote = await mreg([
      'events',
      '--endpoint',
      'https://abc.execute-api.eu-west-1.amazonaws.com/prod',
    ]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(/^mreg: mreg events reads the event log of a local registry/);
  });

  it('follows the event log: new events as they come, each once, until interrupted', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'events', '--follow', '--interval', '0.2', '--type', 'RegisteredModelCreated'],
      { cwd: work, env: cleanEnv(work, { MREG_ENDPOINT: registry.url }), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines: string[] = [];
    let partial = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      partial += chunk;
      const complete = partial.split('\n');
      partial = complete.pop()!;
      lines.push(...complete);
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 100 && !done(); i++) await sleep(100);
      expect(done(), lines.join('\n')).toBe(true);
    };
    const names = () => lines.map((l) => JSON.parse(l).detail.model.name);
    try {
      await until(() => names().includes(gov));
      ok(await mreg(['models', 'create', 'followed-model']));
      await until(() => names().includes('followed-model'));
      await sleep(700); // a few more polls: nothing is printed twice
    } finally {
      child.kill('SIGINT');
    }
    await once(child, 'close');
    expect(stderr).toBe('');
    const events = lines.map((l) => JSON.parse(l));
    expect(events.every((e) => e['detail-type'] === 'RegisteredModelCreated')).toBe(true);
    const ids = events.map((e) => e.detail.event_id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('exits 0, silently, when the reader of its output goes away (mreg openapi | head)', async () => {
    const child = spawn(process.execPath, [BIN, 'openapi'], {
      cwd: work,
      env: cleanEnv(work, { MREG_ENDPOINT: registry.url }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    // The document (~360 KB) is larger than a pipe holds: mreg is still writing when the reader leaves.
    child.stdout.once('data', () => child.stdout.destroy());
    const [code] = await once(child, 'close');
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('shows the global options in the help of every command', async () => {
    for (const args of [
      ['audit', '--help'],
      ['versions', 'create', '--help'],
      ['requests', '--help'],
      ['help', 'promote'],
    ]) {
      const out = ok(await mreg(args));
      expect(out, args.join(' ')).toContain('Global Options:');
      for (const option of ['--endpoint <url>', '--region', '--profile', '--output', '--json', '--query']) {
        expect(out, `${args.join(' ')}: ${option}`).toContain(option);
      }
    }
    const audit = ok(await mreg(['audit', '--help']));
    expect(audit).toMatch(/--version <n>\s+only entries about this version/);
    expect(audit).not.toContain('-V, --version');
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

  it('describes every command, argument and option', () => {
    const missing: string[] = [];
    const walk = (cmd: Command, path: string) => {
      if (!cmd.description()) missing.push(path);
      for (const a of cmd.registeredArguments) if (!a.description) missing.push(`${path} <${a.name()}>`);
      for (const o of cmd.options as readonly Option[])
        if (!o.description) missing.push(`${path} ${o.flags}`);
      for (const sub of cmd.commands) walk(sub, `${path} ${sub.name()}`);
    };
    walk(program, 'mreg');
    expect(missing).toEqual([]);
  });

  it('prints a table on a terminal and JSON when piped, unless told otherwise', () => {
    const list = find('versions list')!;
    const { isTTY } = process.stdout;
    const env = process.env.MREG_OUTPUT;
    delete process.env.MREG_OUTPUT;
    try {
      process.stdout.isTTY = true;
      expect(outputSettings(list).format).toBe('table');
      process.stdout.isTTY = false;
      expect(outputSettings(list).format).toBe('json');
      process.env.MREG_OUTPUT = 'text';
      expect(outputSettings(list).format).toBe('text');
    } finally {
      process.stdout.isTTY = isTTY;
      if (env === undefined) delete process.env.MREG_OUTPUT;
      else process.env.MREG_OUTPUT = env;
    }
  });

  it.each(
    OPERATIONS.filter((o: OperationSpec) => o.protocol !== 'mlflow').map((o) => [o.operationId]),
  )('%s has a command', (id) => {
    const path = (COMMAND_FOR_OPERATION as Record<string, string>)[id];
    expect(path, `no command for ${id}`).toBeDefined();
    expect(find(path!), `command '${path}' does not exist`).toBeDefined();
  });
});
