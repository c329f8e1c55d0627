/**
 * `npm start` as a user runs it: a real child process, a data directory that survives restarts,
 * and no Java process left behind after Ctrl-C or SIGTERM.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, killStarted, npmStart, root, stopWith, trackChild } from '../support/npm-start';

afterEach(killStarted);

describe('npm start', () => {
  it('keeps data in the data directory across a restart, and stops DynamoDB Local on SIGTERM and SIGINT', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mreg-data-'));
    try {
      const first = await npmStart({ MREG_DATA_DIR: dataDir });
      expect((await fetch(`${first.url}/health`)).status).toBe(200);
      const created = await fetch(`${first.url}/models`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'survivor' }),
      });
      expect(created.status).toBe(201);
      expect(alive(first.javaPid)).toBe(true);
      await stopWith(first, 'SIGTERM');
      expect(alive(first.javaPid)).toBe(false);

      const second = await npmStart({ MREG_DATA_DIR: dataDir });
      const fetched = await fetch(`${second.url}/models/survivor`);
      expect(fetched.status).toBe(200);
      await stopWith(second, 'SIGINT');
      expect(alive(second.javaPid)).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('keeps nothing with --in-memory', async () => {
    const run = await npmStart({}, ['--in-memory']);
    expect(run.output()).toContain('in memory');
    await stopWith(run, 'SIGTERM');
    expect(alive(run.javaPid)).toBe(false);
  }, 60_000);

  it('delivers an event recorded just before a crash, after the restart (transactional outbox)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mreg-crash-'));
    const delivered = async (url: string) => {
      const res = await fetch(`${url}/local/events?type=RegisteredModelCreated`);
      const body = (await res.json()) as {
        events: { detail: { model: { name: string }; event_id: string } }[];
      };
      return body.events.filter((e) => e.detail.model.name === 'crash-survivor');
    };
    try {
      // The write commits (with its event, in one transaction), then the process dies before the
      // relay publishes anything: the relay is held back, and the process is killed with SIGKILL.
      const first = await npmStart({ MREG_DATA_DIR: dataDir, MREG_OUTBOX_PAUSED: '1' });
      const created = await fetch(`${first.url}/models`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'crash-survivor' }),
      });
      expect(created.status).toBe(201);
      await new Promise((r) => setTimeout(r, 500));
      expect(await delivered(first.url)).toEqual([]);
      const exited = new Promise((r) => first.child.once('exit', r));
      first.child.kill('SIGKILL');
      await exited;
      process.kill(first.javaPid, 'SIGKILL'); // a SIGKILLed parent cannot stop its DynamoDB Local
      for (let i = 0; i < 50 && alive(first.javaPid); i++) await new Promise((r) => setTimeout(r, 100));

      const second = await npmStart({ MREG_DATA_DIR: dataDir });
      let events: Awaited<ReturnType<typeof delivered>> = [];
      for (let i = 0; i < 100 && events.length === 0; i++) {
        events = await delivered(second.url);
        if (events.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(events).toHaveLength(1);
      // A second restart does not publish it again: the relay resumes from its checkpoint.
      await stopWith(second, 'SIGTERM');
      const third = await npmStart({ MREG_DATA_DIR: dataDir });
      await new Promise((r) => setTimeout(r, 1000));
      expect(await delivered(third.url)).toEqual([]);
      await stopWith(third, 'SIGTERM');
      expect(alive(third.javaPid)).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('delivers a webhook for a change made just before a crash, after the restart, once, signed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mreg-hook-crash-'));
    const secret = 'crash-secret';
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const json = (method: string, body: unknown) => ({
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    try {
      // The webhook exists; the change commits with its event, then the process dies before the
      // relay publishes it (held back, then SIGKILL): nothing was delivered yet.
      const first = await npmStart({ MREG_DATA_DIR: dataDir, MREG_OUTBOX_PAUSED: '1' });
      const hook = await fetch(
        `${first.url}/api/2.0/mlflow/webhooks`,
        json('POST', {
          name: 'crash-hook',
          url: hookUrl,
          events: [{ entity: 'REGISTERED_MODEL', action: 'CREATED' }],
          secret,
        }),
      );
      expect(hook.status).toBe(200);
      const created = await fetch(
        `${first.url}/api/2.0/mlflow/registered-models/create`,
        json('POST', { name: 'hooked-survivor' }),
      );
      expect(created.status).toBe(200);
      await new Promise((r) => setTimeout(r, 500));
      expect(received).toEqual([]);
      const exited = new Promise((r) => first.child.once('exit', r));
      first.child.kill('SIGKILL');
      await exited;
      process.kill(first.javaPid, 'SIGKILL');
      for (let i = 0; i < 50 && alive(first.javaPid); i++) await new Promise((r) => setTimeout(r, 100));

      // After the restart the relay publishes the event and the delivery goes out, signed with
      // the secret sealed before the crash (its key is kept in the data directory).
      const second = await npmStart({ MREG_DATA_DIR: dataDir });
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(received).toHaveLength(1);
      const [got] = received;
      const id = String(got!.headers['x-mlflow-delivery-id']);
      const timestamp = String(got!.headers['x-mlflow-timestamp']);
      const expected = createHmac('sha256', secret)
        .update(`${id}.${timestamp}.${got!.body}`)
        .digest('base64');
      expect(got!.headers['x-mlflow-signature']).toBe(`v1,${expected}`);
      expect(JSON.parse(got!.body)).toMatchObject({
        entity: 'registered_model',
        action: 'created',
        data: { name: 'hooked-survivor', tags: {}, description: '' },
      });
      await stopWith(second, 'SIGTERM');

      // Another restart sends nothing again: the event was published once, delivered once.
      const third = await npmStart({ MREG_DATA_DIR: dataDir });
      await new Promise((r) => setTimeout(r, 1500));
      expect(received).toHaveLength(1);
      await stopWith(third, 'SIGTERM');
      expect(alive(third.javaPid)).toBe(false);
    } finally {
      receiver.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('serves the mreg CLI: register a model from a file, promote it after approval, download it', async () => {
    const bin = join(root, 'dist', 'mreg.js');
    if (!existsSync(bin))
      execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build-cli.ts'], { cwd: root });
    const work = mkdtempSync(join(tmpdir(), 'mreg-cli-'));
    const run = await npmStart({}, ['--in-memory']);
    try {
      const mreg = (args: string[], user = 'ALICE') =>
        JSON.parse(
          execFileSync(process.execPath, [bin, '--json', ...args], {
            cwd: work,
            encoding: 'utf8',
            env: {
              ...process.env,
              MREG_ENDPOINT: run.url,
              AWS_ACCESS_KEY_ID: user,
              AWS_SECRET_ACCESS_KEY: 'local',
            },
          }),
        );
      const model = join(work, 'model.bin');
      writeFileSync(model, randomBytes(300_000));
      mreg(['models', 'create', 'cli-model']);
      const created = mreg([
        'versions',
        'create',
        'cli-model',
        '--artifact',
        model,
        '--metric',
        'accuracy=0.97',
      ]);
      expect(created.model_version ?? created).toMatchObject({ version: 1, status: 'READY' });
      const promoted = mreg(['promote', 'cli-model', '1', '--stage', 'Production']);
      const requestId = promoted.transition_request.id as string;
      mreg(['requests', 'approve', 'cli-model', requestId], 'BOB');
      let stage = '';
      for (let i = 0; i < 50 && stage !== 'Production'; i++) {
        stage = mreg(['versions', 'get', 'cli-model', '1']).model_version.current_stage;
        if (stage !== 'Production') await new Promise((r) => setTimeout(r, 100));
      }
      expect(stage).toBe('Production');
      mreg(['download', 'models:/cli-model/Production', join(work, 'out')]);
      expect(readFileSync(join(work, 'out', 'model.bin')).equals(readFileSync(model))).toBe(true);
    } finally {
      await stopWith(run, 'SIGTERM');
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('npm start --policy', () => {
  const transition = (url: string, name: string) =>
    fetch(`${url}/api/2.0/mlflow/model-versions/transition-stage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, version: '1', stage: 'Production', archive_existing_versions: true }),
    });
  const seed = async (url: string, name: string) => {
    const post = (path: string, body: unknown) =>
      fetch(`${url}/api/2.0/mlflow/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('registered-models/create', { name })).status).toBe(200);
    expect((await post('model-versions/create', { name, source: 's3://bucket/m/1' })).status).toBe(200);
  };

  it("--policy mlflow (or GOVERNANCE_POLICY=mlflow) behaves as MLflow's registry; the default stays governed", async () => {
    const mlflow = await npmStart({}, ['--in-memory', '--policy', 'mlflow']);
    expect(mlflow.output()).toMatch(/Governance: mlflow/);
    await seed(mlflow.url, 'switched');
    expect((await transition(mlflow.url, 'switched')).status).toBe(200);
    const deleted = await fetch(`${mlflow.url}/api/2.0/mlflow/model-versions/delete`, {
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'switched', version: '1' }),
    });
    expect(deleted.status).toBe(200);
    await stopWith(mlflow, 'SIGTERM');

    const fromEnv = await npmStart({ GOVERNANCE_POLICY: 'mlflow' }, ['--in-memory']);
    expect(fromEnv.output()).toMatch(/Governance: mlflow/);
    await stopWith(fromEnv, 'SIGTERM');

    const governed = await npmStart({}, ['--in-memory']);
    expect(governed.output()).toMatch(/Governance: governed/);
    await seed(governed.url, 'guarded');
    const refused = await transition(governed.url, 'guarded');
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toMatch(/transition request tr-/);
    await stopWith(governed, 'SIGTERM');
  }, 120_000);

  it('refuses an unknown profile or invalid JSON before starting anything, with exit code 2', async () => {
    for (const [args, env, reason] of [
      [
        ['--policy', 'mlfow'],
        {},
        /--policy: Unknown governance policy profile 'mlfow': use governed or mlflow/,
      ],
      [
        [],
        { GOVERNANCE_POLICY: '{"guarded_stages": "Production"' },
        /GOVERNANCE_POLICY: .*neither a profile name nor valid JSON/,
      ],
      [['--policy'], {}, /--policy needs a value/],
    ] as const) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', '--in-memory', ...args], {
        cwd: root,
        env: { ...process.env, PORT: '0', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      trackChild(child);
      let output = '';
      child.stdout!.on('data', (d) => {
        output += d;
      });
      child.stderr!.on('data', (d) => {
        output += d;
      });
      const code = await new Promise((r) => child.once('exit', r));
      expect(code, output).toBe(2);
      expect(output).toMatch(reason);
      expect(output).not.toMatch(/DynamoDB Local/);
    }
  }, 60_000);
});
