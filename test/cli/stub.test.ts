/**
 * `mreg` against a stand-in HTTP server, for answers a local registry does not give on demand:
 * inbox pages of chosen content (paging, `--all`, tables), and a server without the local event
 * log. Also the SDK's refusal of a missing AWS profile, before any request is sent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProfileNotFoundError, RegistryClient, type TransitionRequest } from '../../sdk';
import { ensureBinary, runMreg } from './binary';

let server: Server;
let url: string;
let work: string;
const seen: URL[] = [];
let answer: (u: URL) => { status: number; body: unknown } = () => ({ status: 404, body: {} });

beforeAll(async () => {
  await ensureBinary();
  work = mkdtempSync(join(tmpdir(), 'mreg-stub-'));
  server = createServer((req, res) => {
    const u = new URL(req.url!, 'http://stub');
    seen.push(u);
    const { status, body } = answer(u);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  if (work) rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
  seen.length = 0;
});

const mreg = (args: string[], env: Record<string, string> = {}) =>
  runMreg(args, work, { MREG_ENDPOINT: url, ...env });

const request = (id: string, name: string, requester: string): TransitionRequest => ({
  id,
  name,
  version: 3,
  kind: 'stage',
  from_stage: 'Staging',
  to_stage: 'Production',
  archive_existing_versions: true,
  requester,
  requester_person: requester,
  status: 'PENDING',
  approvals: [],
  required_approvals: 2,
  awaiting_approval: true,
  creation_timestamp: Date.UTC(2026, 10, 30, 13, 5, 9),
  last_updated_timestamp: Date.UTC(2026, 10, 30, 13, 5, 9),
  expiration_timestamp: Date.UTC(2026, 11, 7, 13, 5, 9),
});
const first = request(
  'tr-11111111-1111-4111-8111-111111111111',
  'churn',
  'arn:aws:iam::123456789012:user/alice',
);
const second = request(
  'tr-22222222-2222-4222-8222-222222222222',
  'fraud',
  'arn:aws:sts::123456789012:assumed-role/Deployer/bob',
);

describe('requests inbox (GET /transition-requests)', () => {
  beforeEach(() => {
    answer = (u) =>
      u.pathname !== '/transition-requests'
        ? { status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND', message: 'No such route.' } }
        : u.searchParams.get('page_token') === 'page-2'
          ? { status: 200, body: { transition_requests: [second] } }
          : { status: 200, body: { transition_requests: [first], next_page_token: 'page-2' } };
  });

  it('lists the pending requests of every model, page by page or --all', async () => {
    const page = await mreg(['requests', 'inbox']);
    expect(page.stderr).toBe('');
    expect(JSON.parse(page.stdout)).toEqual({ transition_requests: [first], next_page_token: 'page-2' });
    expect(seen.map((u) => u.search)).toEqual(['?status=PENDING']);

    seen.length = 0;
    const all = await mreg(['requests', 'inbox', '--all', '--max-results', '1']);
    expect(JSON.parse(all.stdout)).toEqual({ transition_requests: [first, second] });
    expect(seen.map((u) => u.search)).toEqual([
      '?status=PENDING&max_results=1',
      '?status=PENDING&max_results=1&page_token=page-2',
    ]);

    seen.length = 0;
    await mreg(['requests', 'inbox', '--status', 'approved']);
    expect(seen.map((u) => u.searchParams.get('status'))).toEqual(['APPROVED']);
  });

  it('shows the inbox as a table with the model of each request', async () => {
    const run = await mreg(['requests', 'inbox', '--all', '--output', 'table'], {
      TZ: 'UTC',
      COLUMNS: '200',
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+MODEL\s+VERSION\s+FROM\s+TO\s+STATUS\s+APPROVALS\s+REQUESTER\s+CREATED$/);
    expect(lines[1]!.split(/\s{2,}/)).toEqual([
      first.id,
      'churn',
      '3',
      'Staging',
      'Production',
      'PENDING',
      '0/2',
      'alice',
      '2026-11-30 13:05:09 +00:00',
    ]);
    expect(lines[2]).toContain('Deployer/bob');
    expect(lines).toHaveLength(3);
    const paged = await mreg(['requests', 'inbox', '--output', 'table']);
    expect(paged.stdout).toContain('(more: --page-token page-2, or --all)');
    const ids = await mreg([
      'requests',
      'inbox',
      '--all',
      '--query',
      'transition_requests[].id',
      '--output',
      'text',
    ]);
    expect(ids.stdout).toBe(`${first.id}\t${second.id}\n`);
  });

  it('rejects an unknown status before asking the registry', async () => {
    const run = await mreg(['requests', 'inbox', '--status', 'waiting']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^mreg: option '--status <status>' argument 'waiting' is invalid/);
    expect(seen).toEqual([]);
  });
});

describe('events against a server without an event log', () => {
  it('exits 1 and says mreg events needs a local registry', async () => {
    answer = () => ({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND', message: 'No such route.' } });
    const run = await mreg(['events']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^mreg: http:\/\/127\.0\.0\.1:\d+ has no event log .* started with npm start\./,
    );
    expect(seen.map((u) => u.pathname)).toEqual(['/local/events']);
  });
});

describe('a named AWS profile that does not exist', () => {
  const saved = { ...process.env };
  afterAll(() => {
    for (const key of ['AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_PROFILE']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  it('fails the SDK call with ProfileNotFoundError, sending nothing, on a loopback endpoint too', async () => {
    const config = join(work, 'config');
    const credentials = join(work, 'credentials');
    writeFileSync(
      config,
      '[default]\nregion = eu-west-1\n[profile ci]\nregion = eu-west-1\n[sso-session corp]\n',
    );
    writeFileSync(credentials, '[deployer]\naws_access_key_id = x\naws_secret_access_key = y\n');
    process.env.AWS_CONFIG_FILE = config;
    process.env.AWS_SHARED_CREDENTIALS_FILE = credentials;
    delete process.env.AWS_PROFILE;

    const err = await new RegistryClient({ endpoint: url, profile: 'approver' })
      .getRegisteredModel('churn')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProfileNotFoundError);
    expect(err).toMatchObject({ profile: 'approver', configFile: config, credentialsFile: credentials });
    expect((err as Error).message).toContain('aws configure --profile approver');

    process.env.AWS_PROFILE = 'corp'; // an sso-session section is not a profile
    await expect(new RegistryClient({ endpoint: url }).getRegisteredModel('churn')).rejects.toBeInstanceOf(
      ProfileNotFoundError,
    );
    expect(seen).toEqual([]);

    // Profiles in either file are found (the request then goes out, signed).
    answer = () => ({ status: 200, body: { registered_model: { name: 'churn' } } });
    for (const profile of ['ci', 'deployer', 'default']) {
      await new RegistryClient({ endpoint: url, profile }).getRegisteredModel('churn').catch(() => undefined);
    }
    process.env.AWS_PROFILE = 'deployer';
    await new RegistryClient({ endpoint: url }).getRegisteredModel('churn');
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.some((u) => u.pathname === '/models/churn')).toBe(true);
  });
});
