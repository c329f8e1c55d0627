/**
 * The local stand-in for the verify function's asynchronous invocation. Deployed, Lambda keeps the
 * queued event, retries a failed run twice and then sends it to the verify dead-letter queue; here
 * the same happens in this process, and every job is written to a journal (in the data directory
 * when there is one) before it runs and marked done (or dead-lettered) after, so a crash or a stop
 * in the middle of a verification loses nothing: the next start runs every job left open.
 *
 * Verification is safe to repeat (ArtifactService.verify skips a settled version), so running a job
 * again after a crash, as Lambda may deliver an event twice, is harmless.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { VerificationJob, VerificationQueue } from '../functions/use-cases/ports';

type JournalEntry =
  | { readonly op: 'queued'; readonly id: string; readonly job: VerificationJob; readonly at: number }
  | { readonly op: 'done'; readonly id: string }
  | { readonly op: 'dead'; readonly id: string; readonly error: string; readonly at: number };

/** A job that failed every attempt (deployed: a message in the verify dead-letter queue). */
export interface DeadLetter {
  readonly id: string;
  readonly job: VerificationJob;
  readonly error: string;
  readonly at: number;
}

export interface LocalVerificationQueueOptions {
  /** Runs one job (the verify handler); a rejection is a failed attempt. */
  readonly run: (job: VerificationJob) => Promise<unknown>;
  /** Where jobs are journaled; in memory only without it (nothing survives anyway then). */
  readonly journalFile?: string;
  /** Attempts per job, the first included (Lambda's asynchronous invocation: 1 + 2 retries). */
  readonly maxAttempts?: number;
  /** Delay before retry n is `retryDelayMs · 2^(n-1)` (Lambda waits minutes; locally it is short). */
  readonly retryDelayMs?: number;
  /** Journal jobs without running them (tests of a crash before verification ran). */
  readonly paused?: boolean;
  readonly onDeadLetter?: (letter: DeadLetter) => void;
}

export class LocalVerificationQueue implements VerificationQueue {
  private readonly open = new Map<string, VerificationJob>();
  private readonly dead: DeadLetter[] = [];
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: LocalVerificationQueueOptions) {
    const file = options.journalFile;
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        let entry: JournalEntry;
        try {
          entry = JSON.parse(line) as JournalEntry;
        } catch {
          continue; // a line cut short by a crash: its job was never acknowledged as queued
        }
        if (entry.op === 'queued') this.open.set(entry.id, entry.job);
        else if (entry.op === 'done') this.open.delete(entry.id);
        else {
          const job = this.open.get(entry.id);
          this.open.delete(entry.id);
          if (job) this.dead.push({ id: entry.id, job, error: entry.error, at: entry.at });
        }
      }
    }
    // Start a compact journal: what is still open and what was dead-lettered.
    const entries: JournalEntry[] = [];
    for (const letter of this.dead) {
      entries.push({ op: 'queued', id: letter.id, job: letter.job, at: letter.at });
      entries.push({ op: 'dead', id: letter.id, error: letter.error, at: letter.at });
    }
    for (const [id, job] of this.open) entries.push({ op: 'queued', id, job, at: Date.now() });
    writeFileSync(file, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
  }

  /** Runs every job a previous run of the registry left open (call once, at start). */
  resume(): number {
    for (const [id, job] of this.open) this.schedule(id, job);
    return this.open.size;
  }

  async enqueue(job: VerificationJob): Promise<void> {
    const id = randomUUID();
    // Journaled before the request that queued it returns, as Lambda accepts an event (202).
    this.write({ op: 'queued', id, job, at: Date.now() });
    this.open.set(id, job);
    this.schedule(id, job);
  }

  /** Jobs queued and not yet done or dead-lettered. */
  pending(): readonly VerificationJob[] {
    return [...this.open.values()];
  }

  deadLetters(): readonly DeadLetter[] {
    return this.dead;
  }

  /** True when no job is running or waiting for a retry. */
  idle(): boolean {
    return this.running.size === 0;
  }

  /** Resolves once every job scheduled so far has finished (or been dead-lettered). */
  async drain(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  /** Stops running jobs; those still open stay in the journal for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.drain();
  }

  private schedule(id: string, job: VerificationJob): void {
    if (this.options.paused || this.stopped) return;
    const run: Promise<void> = this.attempt(id, job).finally(() => this.running.delete(run));
    this.running.add(run);
  }

  private async attempt(id: string, job: VerificationJob): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 3;
    const delay = this.options.retryDelayMs ?? 200;
    // After the request that queued it has returned, as an asynchronous invocation runs.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) return;
      try {
        await this.options.run(job);
        this.open.delete(id);
        this.write({ op: 'done', id });
        return;
      } catch (err) {
        if (attempt >= maxAttempts) {
          const letter: DeadLetter = {
            id,
            job,
            error: err instanceof Error ? err.message : String(err),
            at: Date.now(),
          };
          this.open.delete(id);
          this.dead.push(letter);
          this.write({ op: 'dead', id, error: letter.error, at: letter.at });
          this.options.onDeadLetter?.(letter);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay * 2 ** (attempt - 1)));
      }
    }
  }

  private write(entry: JournalEntry): void {
    if (this.options.journalFile) appendFileSync(this.options.journalFile, `${JSON.stringify(entry)}\n`);
  }
}
