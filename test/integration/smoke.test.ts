/**
 * The deployed smoke test (`npm run smoke`), run as a user runs it against `npm start`: two AWS
 * profiles in a shared credentials file name two people to the local registry (its identity is
 * the access key id, docs/identity.md), and the script signs with them through the SDK.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMOKE_STEPS } from '../../scripts/smoke';
import { killStarted, npmStart, type Running, root, stopWith } from '../support/npm-start';

const run = promisify(execFile);

let registry: Running;
let home: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'registry-smoke-profiles-'));
  writeFileSync(
    join(home, 'credentials'),
    [
      '[smoke-requester]',
      'aws_access_key_id = smoke-requester',
      'aws_secret_access_key = local',
      '[smoke-approver]',
      'aws_access_key_id = smoke-approver',
      'aws_secret_access_key = local',
      '',
    ].join('\n'),
  );
  writeFileSync(join(home, 'config'), '');
  registry = await npmStart({}, ['--in-memory']);
}, 90_000);

// One hook, in this order: a registry killed before it is stopped would leave its DynamoDB Local.
afterAll(async () => {
  if (registry) await stopWith(registry, 'SIGTERM');
  killStarted();
  rmSync(home, { recursive: true, force: true });
});

/** `npm run smoke -- …` as a child process; its exit code and output. */
async function smoke(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/smoke.ts', '--endpoint', registry.url, '--timeout', '60', ...args],
      {
        cwd: root,
        env: {
          ...process.env,
          AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
          AWS_CONFIG_FILE: join(home, 'config'),
          AWS_PROFILE: '',
          AWS_ACCESS_KEY_ID: '',
          AWS_SECRET_ACCESS_KEY: '',
          AWS_SESSION_TOKEN: '',
        },
      },
    );
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

/** The result column of each step's row. */
const results = (output: string) =>
  Object.fromEntries(
    SMOKE_STEPS.map((step) => [step, new RegExp(`^${step}\\s+(PASS|FAIL|SKIP)\\b`, 'm').exec(output)?.[1]]),
  );

describe('npm run smoke', () => {
  it('passes every step against the local registry and exits 0, leaving no model behind', async () => {
    const { code, output } = await smoke([
      '--profile',
      'smoke-requester',
      '--approver-profile',
      'smoke-approver',
    ]);
    expect(results(output), output).toEqual(Object.fromEntries(SMOKE_STEPS.map((s) => [s, 'PASS'])));
    expect(output).toMatch(/^events\s+PASS\s+\S+ s\s+6 of 6 seen \(the local event log\)/m);
    expect(output).toMatch(/^approve\s+PASS\s+\S+ s\s+approved by smoke-approver; version in Production/m);
    expect(code, output).toBe(0);
    const models = (await (await fetch(`${registry.url}/models`)).json()) as {
      registered_models?: { name: string }[];
    };
    expect(models.registered_models ?? []).toEqual([]);
  }, 120_000);

  it('fails the approval when the approver is the requester, skips what depends on it, still cleans up, and exits 1', async () => {
    const { code, output } = await smoke([
      '--profile',
      'smoke-requester',
      '--approver-profile',
      'smoke-requester',
      '--timeout',
      '5',
    ]);
    expect(results(output), output).toEqual({
      register: 'PASS',
      upload: 'PASS',
      verify: 'PASS',
      'request Production': 'PASS',
      approve: 'FAIL',
      download: 'SKIP',
      // The events up to the request were published; the approval's were never expected.
      events: 'PASS',
      cleanup: 'PASS',
    });
    expect(output).toMatch(/^approve\s+FAIL\b.*403/m);
    expect(output).toContain('Smoke test FAILED (1 step(s)).');
    expect(code).toBe(1);
  }, 120_000);

  it('fails a profile that does not exist before anything is created', async () => {
    const { code, output } = await smoke(['--profile', 'nobody', '--approver-profile', 'smoke-approver']);
    expect(results(output).register, output).toBe('FAIL');
    expect(results(output).cleanup).toBe('SKIP');
    expect(output).toMatch(/ProfileNotFound/);
    expect(code).toBe(1);
  }, 60_000);

  it('refuses to run without an endpoint or an approver', async () => {
    const { code, output } = await smoke(['--profile', 'smoke-requester']);
    expect(code).toBe(2);
    expect(output).toContain('Usage: npm run smoke');
  }, 30_000);
});
