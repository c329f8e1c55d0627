/**
 * A finalized upload is always verified, and never lost while it waits: the version stops expiring
 * when it is finalized (DynamoDB TTL cannot delete it however long verification takes), and the
 * local verification queue is journaled and retried, so a crash of the local registry between
 * finalize and the end of verification loses nothing (deployed: Lambda keeps the event, retries
 * it, then dead-letters it; see test/infra/template.test.ts "verification").
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TTL_ATTRIBUTE } from '../../functions/deployment/table';
import type { VerificationJob } from '../../functions/use-cases/ports';
import type { LocalRegistry } from '../../local/registry';
import { LocalVerificationQueue } from '../../local/verification-queue';
import { apiClient, documentClient, localRegistry, tableSnapshot, UNGUARDED } from '../support/engines';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The stored version item (the adapter's own record, TTL attribute included). */
async function versionItem(registry: LocalRegistry, version: number): Promise<Record<string, unknown>> {
  const items = (await tableSnapshot(documentClient(), registry.tableName)) as Record<string, unknown>[];
  const item = items.find((i) => typeof i.status === 'string' && i.version === version);
  expect(item, `version ${version} item`).toBeDefined();
  return item!;
}

describe('verification of a finalized upload', () => {
  it('is not lost when the registry stops before it ran, and the version never expires meanwhile', async () => {
    const dataDir = tempDir('verify-crash-');
    const tableName = `test-${randomUUID()}`;
    const env = { GOVERNANCE_POLICY: UNGUARDED };
    const first = await localRegistry({ dataDir, tableName, env, verificationPaused: true });
    const api = apiClient(first.url, 'AKIAALICE');
    const body = randomBytes(4096);
    try {
      await api('POST', '/models', { name: 'crashy' });
      const created = await api('POST', '/models/crashy/versions', {
        files: [{ path: 'model.bin', size: body.length, sha256: sha256(body) }],
      });
      expect(created.status).toBe(201);
      // Waiting for its upload, the version expires (DynamoDB TTL removes it if it is never finalized).
      expect(typeof (await versionItem(first, 1))[TTL_ATTRIBUTE]).toBe('number');
      const file = created.body.upload.files[0];
      expect((await fetch(file.url, { method: 'PUT', body, headers: file.headers })).status).toBe(200);
      expect((await api('POST', '/models/crashy/versions/1/finalize', {})).status).toBe(200);
      // Being verified, it does not: a slow or lost verification cannot let TTL delete it.
      const verifying = await versionItem(first, 1);
      expect(verifying.status).toBe('PENDING_REGISTRATION');
      expect(verifying[TTL_ATTRIBUTE]).toBeUndefined();
    } finally {
      await first.stop();
    }
    const journal = readFileSync(join(dataDir, 'verifications.jsonl'), 'utf8');
    expect(journal).toContain('"op":"queued"');

    const second = await localRegistry({ dataDir, tableName, env });
    try {
      await second.settled();
      const version = await apiClient(second.url, 'AKIAALICE')('GET', '/models/crashy/versions/1');
      expect(version.body.model_version.status).toBe('READY');
      expect((await versionItem(second, 1))[TTL_ATTRIBUTE]).toBeUndefined();
      expect(readFileSync(join(dataDir, 'verifications.jsonl'), 'utf8')).toContain('"op":"done"');
    } finally {
      await second.stop();
    }
  });
});

describe('local verification queue', () => {
  const job: VerificationJob = { name: 'm', modelId: 'id', version: 1 };

  it('retries a failed run twice, as Lambda retries an asynchronous invocation', async () => {
    let calls = 0;
    const queue = new LocalVerificationQueue({
      retryDelayMs: 1,
      run: async () => {
        if (++calls < 3) throw new Error('throttled');
      },
    });
    await queue.enqueue(job);
    await queue.drain();
    expect(calls).toBe(3);
    expect(queue.pending()).toEqual([]);
    expect(queue.deadLetters()).toEqual([]);
  });

  it('dead-letters a job that failed every attempt, and keeps it dead-lettered across a restart', async () => {
    const journalFile = join(tempDir('verify-dlq-'), 'verifications.jsonl');
    const letters: string[] = [];
    const queue = new LocalVerificationQueue({
      journalFile,
      retryDelayMs: 1,
      run: async () => {
        throw new Error('the bucket is gone');
      },
      onDeadLetter: (l) => letters.push(l.error),
    });
    await queue.enqueue(job);
    await queue.drain();
    expect(letters).toEqual(['the bucket is gone']);
    expect(queue.deadLetters()).toMatchObject([{ job, error: 'the bucket is gone' }]);

    let ran = 0;
    const restarted = new LocalVerificationQueue({ journalFile, run: async () => void ran++ });
    expect(restarted.resume()).toBe(0);
    await restarted.drain();
    expect(ran).toBe(0);
    expect(restarted.deadLetters()).toMatchObject([{ job }]);
  });

  it('runs, after a restart, each job that was queued but not finished, and only those', async () => {
    const journalFile = join(tempDir('verify-journal-'), 'verifications.jsonl');
    const paused = new LocalVerificationQueue({ journalFile, paused: true, run: async () => undefined });
    await paused.enqueue({ ...job, version: 1 });
    await paused.enqueue({ ...job, version: 2 });
    const done = new LocalVerificationQueue({ journalFile, run: async () => undefined });
    await done.enqueue({ ...job, version: 3 });
    await done.drain();

    const ran: number[] = [];
    const restarted = new LocalVerificationQueue({ journalFile, run: async (j) => void ran.push(j.version) });
    expect(restarted.resume()).toBe(2);
    await restarted.drain();
    expect(ran.sort()).toEqual([1, 2]);
  });
});
