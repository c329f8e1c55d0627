/**
 * Artifact transfers: `uploadModel` (hash → register → parallel, resumable, streaming upload →
 * finalize → wait for verification) and `downloadModel` (resolve → parallel streaming download →
 * verify size and SHA-256 → rename into place).
 *
 * Bytes never sit in memory: every file or part is streamed from disk into a node:http(s) request
 * (with its Content-Length) and every download is streamed to disk while it is hashed, so memory
 * stays flat whatever the size of the model.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RegistryClient } from './client';
import {
  ArtifactVerificationError,
  RETRYABLE_STATUSES,
  RegistryApiError,
  RegistryNetworkError,
  TransferError,
} from './errors';
import type {
  Dataset,
  DeclaredFile,
  DownloadResponse,
  ModelVersion,
  UploadInstruction,
  UploadInstructions,
} from './types';

export interface ProgressEvent {
  readonly phase: 'hashing' | 'uploading' | 'verifying' | 'downloading';
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

/** One finished HTTP transfer to or from storage (for logging and tests). */
export interface TransferEvent {
  readonly method: 'PUT' | 'GET';
  readonly path: string;
  /** MULTIPART uploads: the part. */
  readonly partNumber?: number;
  readonly bytes: number;
  readonly status: number;
}

export interface UploadModelOptions {
  readonly runId?: string;
  readonly runLink?: string;
  readonly metrics?: Record<string, number>;
  readonly parameters?: Record<string, string>;
  readonly description?: string;
  readonly tags?: Record<string, string>;
  readonly dataset?: Dataset;
  /** Idempotency token of the create (default: a random UUID, kept in the resume state). */
  readonly clientToken?: string;
  /** Files and parts in flight at once (default 4). */
  readonly concurrency?: number;
  readonly onProgress?: (event: ProgressEvent) => void;
  readonly onTransfer?: (event: TransferEvent) => void;
  /** Keep progress in `stateDir` and pick an interrupted upload up where it stopped (default true). */
  readonly resume?: boolean;
  /** Default: $XDG_CACHE_HOME/mreg/uploads, else ~/.cache/mreg/uploads. */
  readonly stateDir?: string;
  /** First delay between polls of the version while it is verified (default 500 ms, growing to 5 s). */
  readonly pollIntervalMs?: number;
  /** Give up waiting for verification after this long (default 30 min). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface DownloadModelOptions {
  readonly concurrency?: number;
  readonly onProgress?: (event: ProgressEvent) => void;
  readonly onTransfer?: (event: TransferEvent) => void;
  readonly signal?: AbortSignal;
}

/** URLs are refreshed when they would expire within this margin. */
const REFRESH_MARGIN_MS = 60_000;
/** Part URLs asked for per upload-urls request. */
const URL_BATCH = 100;
/** Attempts per file or part transfer. */
const TRANSFER_ATTEMPTS = 5;
const READ_CHUNK = 256 * 1024;

export function defaultStateDir(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'mreg', 'uploads');
}

// ==================================================================== upload

interface LocalFile {
  readonly abs: string;
  readonly rel: string;
  readonly size: number;
}

interface PlannedFile {
  readonly path: string;
  readonly size: number;
  readonly method: 'PUT' | 'MULTIPART';
  readonly part_size?: number;
  readonly part_count?: number;
}

interface UploadState {
  readonly kind: 'mreg-upload';
  readonly endpoint: string;
  readonly name: string;
  readonly version: number;
  readonly clientToken: string;
  readonly plan: PlannedFile[];
  /** PUT files stored. */
  done: string[];
  /** MULTIPART files: part number → ETag. */
  parts: Record<string, Record<string, string>>;
}

interface Task {
  readonly key: string;
  readonly path: string;
  readonly abs: string;
  readonly partNumber?: number;
  readonly start: number;
  readonly length: number;
  started: boolean;
}

interface Target {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly expiresAt: number;
}

export async function uploadModel(
  client: RegistryClient,
  name: string,
  path: string,
  options: UploadModelOptions = {},
): Promise<ModelVersion> {
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const { signal } = options;
  const resume = options.resume ?? true;
  const files = await listFiles(path);
  if (!files.length) throw new Error(`There are no files to upload in ${path}.`);
  const total = files.reduce((n, f) => n + f.size, 0);
  const emit = (phase: ProgressEvent['phase'], bytesDone: number) =>
    options.onProgress?.({ phase, bytesDone, bytesTotal: total });

  // 1. Hash every file (streaming).
  let hashed = 0;
  emit('hashing', 0);
  const manifest: DeclaredFile[] = new Array(files.length);
  await runPool(
    files.map((f, i) => ({ f, i })),
    concurrency,
    async ({ f, i }) => {
      const { sha256, bytes } = await hashFile(f.abs, (n) => {
        hashed += n;
        emit('hashing', hashed);
      });
      if (bytes !== f.size) throw new Error(`'${f.abs}' changed while it was being read; try again.`);
      manifest[i] = { path: f.rel, size: f.size, sha256 };
    },
    signal,
  );

  // 2. Resume the version of an interrupted upload of the same files, or register a new one.
  const stateDir = options.stateDir ?? defaultStateDir();
  const stateKey = createHash('sha256')
    .update(JSON.stringify({ endpoint: client.endpoint.href, name, files: manifest }))
    .digest('hex');
  const statePath = join(stateDir, `${stateKey}.json`);
  let state = resume ? await loadState(statePath, client.endpoint.href, name) : undefined;
  let seed: UploadInstructions | undefined;
  if (state) {
    const current = await client.getModelVersion(name, state.version).catch((err) => {
      if (err instanceof RegistryApiError && err.isNotFound()) return undefined;
      throw err;
    });
    if (current?.status === 'READY') {
      await rm(statePath, { force: true });
      emit('verifying', total);
      return current;
    }
    if (current?.status !== 'PENDING_REGISTRATION') {
      await rm(statePath, { force: true });
      state = undefined;
    }
  }
  if (!state) {
    const clientToken = options.clientToken ?? randomUUID();
    const created = await client.createModelVersion(name, {
      files: manifest,
      client_token: clientToken,
      ...(options.runId !== undefined ? { run_id: options.runId } : {}),
      ...(options.runLink !== undefined ? { run_link: options.runLink } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.parameters ? { parameters: options.parameters } : {}),
      ...(options.description !== undefined ? { description: options.description } : {}),
      ...(options.tags ? { tags: options.tags } : {}),
      ...(options.dataset ? { dataset: options.dataset } : {}),
    });
    const version = created.model_version;
    if (version.status !== 'PENDING_REGISTRATION' || !created.upload?.files.length) {
      // A retried token of a version that has moved on: nothing left to upload.
      return settle(client, name, version, options, emit, total, undefined);
    }
    state = {
      kind: 'mreg-upload',
      endpoint: client.endpoint.href,
      name,
      version: version.version,
      clientToken,
      plan: created.upload.files.map(planOf),
      done: [],
      parts: {},
    };
    seed = created.upload;
  }
  const st = state;
  const persist = serialized(async () => {
    if (!resume) return;
    await mkdir(stateDir, { recursive: true });
    const tmp = `${statePath}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(st));
    await rename(tmp, statePath);
  });
  await persist();

  // 3. Upload what is missing, in parallel, streaming from disk.
  const byPath = new Map(files.map((f, i) => [manifest[i]!.path, f]));
  const tasks: Task[] = [];
  for (const file of st.plan) {
    const local = byPath.get(file.path);
    if (!local) throw new Error(`The registry planned '${file.path}', which is not among the files.`);
    if (file.method === 'PUT') {
      if (!st.done.includes(file.path)) {
        tasks.push({
          key: file.path,
          path: file.path,
          abs: local.abs,
          start: 0,
          length: file.size,
          started: false,
        });
      }
      continue;
    }
    const partSize = file.part_size!;
    const have = st.parts[file.path] ?? {};
    for (let n = 1; n <= file.part_count!; n++) {
      if (have[n]) continue;
      const start = (n - 1) * partSize;
      tasks.push({
        key: `${file.path}#${n}`,
        path: file.path,
        abs: local.abs,
        partNumber: n,
        start,
        length: Math.min(partSize, file.size - start),
        started: false,
      });
    }
  }
  let uploaded = total - tasks.reduce((n, t) => n + t.length, 0);
  emit('uploading', uploaded);
  const pool = new UploadUrlPool(client, name, st.version, () => tasks.filter((t) => !t.started), signal);
  if (seed) pool.add(seed);
  const agents = new Agents(concurrency);
  try {
    await runPool(
      tasks,
      concurrency,
      async (task) => {
        task.started = true;
        for (let attempt = 1; ; attempt++) {
          const target = await pool.get(task);
          let sent = 0;
          const progress = (n: number) => {
            sent += n;
            uploaded += n;
            emit('uploading', uploaded);
          };
          const undo = () => {
            uploaded -= sent;
            emit('uploading', uploaded);
          };
          let res: { status: number; etag?: string; body: string };
          try {
            res = await putFromFile(target, task, progress, agents, signal);
          } catch (err) {
            undo();
            if (signal?.aborted) throw signal.reason;
            if (attempt >= TRANSFER_ATTEMPTS) {
              throw new RegistryNetworkError(
                `Uploading ${describeTask(task)} failed after ${attempt} attempts: ${(err as Error).message}`,
                err,
              );
            }
            await sleep(backoff(attempt), signal);
            continue;
          }
          const ok = res.status >= 200 && res.status < 300;
          // 412: the write-once key is already there (an earlier, interrupted run stored it).
          if (ok || (res.status === 412 && task.partNumber === undefined)) {
            if (task.partNumber === undefined) st.done.push(task.path);
            else {
              if (!res.etag)
                throw new TransferError(
                  `Storage returned no ETag for ${describeTask(task)}.`,
                  res.status,
                  task.path,
                );
              const parts = st.parts[task.path] ?? {};
              parts[task.partNumber] = res.etag;
              st.parts[task.path] = parts;
            }
            if (!ok) progress(task.length - sent);
            await persist();
            options.onTransfer?.({
              method: 'PUT',
              path: task.path,
              ...(task.partNumber !== undefined ? { partNumber: task.partNumber } : {}),
              bytes: task.length,
              status: res.status,
            });
            return;
          }
          undo();
          if (attempt < TRANSFER_ATTEMPTS && res.status === 403) {
            pool.invalidate(task.key); // expired (or otherwise refused) URL: ask for a fresh one
            continue;
          }
          if (attempt < TRANSFER_ATTEMPTS && RETRYABLE_STATUSES.has(res.status)) {
            await sleep(backoff(attempt), signal);
            continue;
          }
          throw new TransferError(
            `Uploading ${describeTask(task)}: storage answered HTTP ${res.status}${storageMessage(res.body)}.`,
            res.status,
            task.path,
          );
        }
      },
      signal,
    );
  } finally {
    agents.destroy();
    await persist.idle();
  }

  // 4. Finalize with the part ETags and wait for the registry to verify every file.
  const parts: Record<string, { part_number: number; etag: string }[]> = {};
  for (const [path, byNumber] of Object.entries(st.parts)) {
    parts[path] = Object.entries(byNumber)
      .map(([n, etag]) => ({ part_number: Number(n), etag }))
      .sort((a, b) => a.part_number - b.part_number);
  }
  let finalized: ModelVersion;
  try {
    finalized = await client.finalizeModelVersion(
      name,
      st.version,
      Object.keys(parts).length ? { parts } : {},
    );
  } catch (err) {
    // The registry refused what this state recorded: start afresh next time.
    if (err instanceof RegistryApiError && err.status < 500) await rm(statePath, { force: true });
    throw err;
  }
  return settle(client, name, finalized, options, emit, total, statePath);
}

async function settle(
  client: RegistryClient,
  name: string,
  version: ModelVersion,
  options: UploadModelOptions,
  emit: (phase: ProgressEvent['phase'], done: number) => void,
  total: number,
  statePath: string | undefined,
): Promise<ModelVersion> {
  emit('verifying', 0);
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  let delay = options.pollIntervalMs ?? 500;
  let current = version;
  while (current.status === 'PENDING_REGISTRATION') {
    if (Date.now() > deadline) {
      throw new Error(
        `Version ${current.version} of '${name}' is still ${current.status} (${current.status_message ?? ''}); stopped waiting. Check it later with getModelVersion.`,
      );
    }
    await sleep(delay, options.signal);
    delay = Math.min(5_000, delay * 1.5);
    current = await client.getModelVersion(name, current.version);
  }
  if (statePath) await rm(statePath, { force: true });
  if (current.status === 'FAILED_REGISTRATION') {
    const message = current.status_message ?? 'The registry failed the version.';
    throw new ArtifactVerificationError(
      `Version ${current.version} of '${name}' failed registration: ${message}`,
      /File '([^']+)'/.exec(message)?.[1],
      current.version,
    );
  }
  emit('verifying', total);
  return current;
}

function planOf(f: UploadInstruction): PlannedFile {
  return {
    path: f.path,
    size: f.size,
    method: f.method,
    ...(f.part_size !== undefined ? { part_size: f.part_size } : {}),
    ...(f.part_count !== undefined ? { part_count: f.part_count } : {}),
  };
}

const describeTask = (t: Task) =>
  t.partNumber === undefined ? `'${t.path}'` : `part ${t.partNumber} of '${t.path}'`;

async function loadState(path: string, endpoint: string, name: string): Promise<UploadState | undefined> {
  try {
    const state = JSON.parse(await readFile(path, 'utf8')) as UploadState;
    if (state.kind !== 'mreg-upload' || state.endpoint !== endpoint || state.name !== name) return undefined;
    if (!Number.isInteger(state.version) || !Array.isArray(state.plan)) return undefined;
    state.done ??= [];
    state.parts ??= {};
    return state;
  } catch {
    return undefined;
  }
}

/** Hands out upload URLs, asking the registry for batches of missing or nearly expired ones. */
class UploadUrlPool {
  private readonly urls = new Map<string, Target>();
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly client: RegistryClient,
    private readonly name: string,
    private readonly version: number,
    private readonly pending: () => Task[],
    private readonly signal?: AbortSignal,
  ) {}

  add(upload: UploadInstructions): void {
    const expiresAt = upload.expires_at;
    for (const f of upload.files) {
      if (f.method === 'PUT' && f.url) this.urls.set(f.path, { url: f.url, headers: f.headers, expiresAt });
      for (const p of f.parts ?? []) {
        this.urls.set(`${f.path}#${p.part_number}`, { url: p.url, headers: {}, expiresAt });
      }
    }
  }

  invalidate(key: string): void {
    this.urls.delete(key);
  }

  async get(task: Task): Promise<Target> {
    let own = 0;
    for (;;) {
      const target = this.fresh(task.key);
      if (target) return target;
      if (this.inflight) {
        await this.inflight.catch(() => undefined);
        continue;
      }
      if (own++ >= 2) throw new Error(`The registry handed out no upload URL for ${describeTask(task)}.`);
      this.inflight = this.fetch(task).finally(() => {
        this.inflight = undefined;
      });
      await this.inflight;
    }
  }

  private fresh(key: string): Target | undefined {
    const target = this.urls.get(key);
    return target && target.expiresAt - REFRESH_MARGIN_MS > Date.now() ? target : undefined;
  }

  private async fetch(first: Task): Promise<void> {
    const wanted = [first];
    for (const t of this.pending()) {
      if (wanted.length >= URL_BATCH) break;
      if (t !== first && !this.fresh(t.key)) wanted.push(t);
    }
    const files = new Map<string, { path: string; part_numbers?: number[] }>();
    for (const t of wanted) {
      const entry = files.get(t.path) ?? { path: t.path };
      if (t.partNumber !== undefined) entry.part_numbers = [...(entry.part_numbers ?? []), t.partNumber];
      files.set(t.path, entry);
    }
    const res = await this.client.getUploadUrls(
      this.name,
      this.version,
      { files: [...files.values()] },
      this.signal,
    );
    this.add(res.upload);
  }
}

// ==================================================================== download

export async function downloadModel(
  client: RegistryClient,
  uri: string,
  dir: string,
  options: DownloadModelOptions = {},
): Promise<DownloadResponse> {
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const { signal } = options;
  const resolved = await client.resolveModelUri(uri);
  const { download } = resolved;
  const root = resolve(dir);
  const targets = download.files.map((file) => ({ file, dest: safeJoin(root, dir, file.path) }));
  const total = download.files.reduce((n, f) => n + f.size, 0);
  let done = 0;
  const emit = () => options.onProgress?.({ phase: 'downloading', bytesDone: done, bytesTotal: total });
  await mkdir(root, { recursive: true });
  emit();

  // Fresh URLs when the ones at hand are about to expire (one refresh at a time).
  let urls = download;
  let refreshing: Promise<void> | undefined;
  const urlFor = async (path: string, force: boolean) => {
    if (force || urls.expires_at - REFRESH_MARGIN_MS <= Date.now()) {
      refreshing ??= client
        .getModelVersionDownload(download.name, download.version)
        .then((res) => {
          urls = res.download;
        })
        .finally(() => {
          refreshing = undefined;
        });
      await refreshing;
    }
    const found = urls.files.find((f) => f.path === path);
    if (!found)
      throw new ArtifactVerificationError(`'${path}' is no longer among the version's files.`, path);
    return found.url;
  };

  const agents = new Agents(concurrency);
  try {
    await runPool(
      targets,
      concurrency,
      async ({ file, dest }) => {
        const partial = `${dest}.partial`;
        await mkdir(dirname(dest), { recursive: true });
        let force = false;
        for (let attempt = 1; ; attempt++) {
          const url = await urlFor(file.path, force);
          force = false;
          let got = 0;
          const progress = (n: number) => {
            got += n;
            done += n;
            emit();
          };
          let res: Awaited<ReturnType<typeof getToFile>>;
          try {
            res = await getToFile(url, partial, progress, agents, signal);
          } catch (err) {
            done -= got;
            await rm(partial, { force: true });
            if (signal?.aborted) throw signal.reason;
            if (attempt >= TRANSFER_ATTEMPTS) {
              throw new RegistryNetworkError(
                `Downloading '${file.path}' failed after ${attempt} attempts: ${(err as Error).message}`,
                err,
              );
            }
            await sleep(backoff(attempt), signal);
            continue;
          }
          if (res.status !== 200) {
            done -= got;
            await rm(partial, { force: true });
            if (attempt < TRANSFER_ATTEMPTS && res.status === 403) {
              force = true;
              continue;
            }
            if (attempt < TRANSFER_ATTEMPTS && RETRYABLE_STATUSES.has(res.status)) {
              await sleep(backoff(attempt), signal);
              continue;
            }
            throw new TransferError(
              `Downloading '${file.path}': storage answered HTTP ${res.status}${storageMessage(res.body)}.`,
              res.status,
              file.path,
            );
          }
          if (res.bytes !== file.size || res.sha256 !== file.sha256) {
            await rm(partial, { force: true });
            throw new ArtifactVerificationError(
              res.bytes !== file.size
                ? `File '${file.path}' is ${res.bytes} bytes; the manifest says ${file.size}.`
                : `File '${file.path}' has SHA-256 ${res.sha256}; the manifest says ${file.sha256}.`,
              file.path,
              download.version,
            );
          }
          await rename(partial, dest);
          options.onTransfer?.({ method: 'GET', path: file.path, bytes: res.bytes, status: res.status });
          return;
        }
      },
      signal,
    );
  } finally {
    agents.destroy();
  }
  return resolved;
}

/** dir/path, refusing any path that would land outside dir. */
function safeJoin(root: string, dir: string, path: string): string {
  const segments = path.split('/');
  const bad =
    !path ||
    isAbsolute(path) ||
    path.includes('\\') ||
    path.includes('\0') ||
    segments.some((s) => s === '' || s === '.' || s === '..');
  const dest = resolve(root, ...segments);
  if (bad || !dest.startsWith(root + sep)) {
    throw new ArtifactVerificationError(`Refusing to write '${path}': it would land outside ${dir}.`, path);
  }
  return dest;
}

// ==================================================================== plumbing

async function listFiles(path: string): Promise<LocalFile[]> {
  const info = await stat(path);
  if (info.isFile()) return [{ abs: resolve(path), rel: basename(resolve(path)), size: info.size }];
  if (!info.isDirectory()) throw new Error(`'${path}' is neither a file nor a directory.`);
  const out: LocalFile[] = [];
  const walk = async (abs: string, rel: string) => {
    const entries = await readdir(abs, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const childAbs = join(abs, entry.name);
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(childAbs, childRel);
      else if (entry.isFile()) out.push({ abs: childAbs, rel: childRel, size: (await stat(childAbs)).size });
    }
  };
  await walk(resolve(path), '');
  return out;
}

async function hashFile(
  path: string,
  onBytes: (n: number) => void,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    onBytes((chunk as Buffer).length);
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Keep-alive agents for storage transfers, one socket per concurrent transfer. */
class Agents {
  readonly http: http.Agent;
  readonly https: https.Agent;
  constructor(concurrency: number) {
    this.http = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    this.https = new https.Agent({ keepAlive: true, maxSockets: concurrency });
  }
  for(url: URL): { request: typeof http.request; agent: http.Agent } {
    return url.protocol === 'https:'
      ? { request: https.request, agent: this.https }
      : { request: http.request, agent: this.http };
  }
  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/** Collects at most 4 KiB of an error body. */
function readSmall(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolveBody) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      if (text.length < 4096) text += c;
    });
    res.on('end', () => resolveBody(text));
    res.on('error', () => resolveBody(text));
    res.on('aborted', () => resolveBody(text));
  });
}

/** PUTs a byte range of a file, streamed from disk with its Content-Length. */
function putFromFile(
  target: Target,
  task: Task,
  onBytes: (n: number) => void,
  agents: Agents,
  signal: AbortSignal | undefined,
): Promise<{ status: number; etag?: string; body: string }> {
  return new Promise((resolvePut, reject) => {
    const url = new URL(target.url);
    const { request, agent } = agents.for(url);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(target.headers)) headers[k.toLowerCase()] = v;
    headers['content-length'] = String(task.length);
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    const req = request(url, { method: 'PUT', headers, agent, ...(signal ? { signal } : {}) });
    const source =
      task.length > 0
        ? createReadStream(task.abs, {
            start: task.start,
            end: task.start + task.length - 1,
            highWaterMark: READ_CHUNK,
          })
        : undefined;
    req.on('error', (err) => {
      source?.destroy();
      fail(err);
    });
    req.on('response', (res) => {
      const ok = res.statusCode! >= 200 && res.statusCode! < 300;
      if (!ok) {
        source?.unpipe(req);
        source?.destroy();
      }
      readSmall(res).then((body) => {
        if (settled) return;
        settled = true;
        const etag = res.headers.etag;
        resolvePut({ status: res.statusCode!, ...(etag ? { etag } : {}), body });
      });
    });
    if (!source) {
      req.end();
      return;
    }
    source.on('data', (chunk) => onBytes((chunk as Buffer).length));
    source.on('error', (err) => {
      req.destroy(err);
      fail(err);
    });
    source.pipe(req);
  });
}

/** GETs a URL into a file, hashing as it streams. */
function getToFile(
  urlText: string,
  dest: string,
  onBytes: (n: number) => void,
  agents: Agents,
  signal: AbortSignal | undefined,
): Promise<{ status: number; bytes: number; sha256: string; body: string }> {
  return new Promise((resolveGet, reject) => {
    const url = new URL(urlText);
    const { request, agent } = agents.for(url);
    const req = request(url, { method: 'GET', agent, ...(signal ? { signal } : {}) });
    req.on('error', reject);
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        readSmall(res).then((body) => resolveGet({ status: res.statusCode!, bytes: 0, sha256: '', body }));
        return;
      }
      const hash = createHash('sha256');
      let bytes = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, callback) {
          hash.update(chunk);
          bytes += chunk.length;
          onBytes(chunk.length);
          callback(null, chunk);
        },
      });
      pipeline(res, tap, createWriteStream(dest)).then(
        () => resolveGet({ status: 200, bytes, sha256: hash.digest('hex'), body: '' }),
        reject,
      );
    });
    req.end();
  });
}

function storageMessage(body: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  return code || message ? ` (${[code, message].filter(Boolean).join(': ')})` : '';
}

/**
 * Runs `fn` over the items with at most `limit` at once. After the first failure no new item
 * starts; the ones in flight finish, then the failure is thrown.
 */
async function runPool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      if (signal?.aborted) {
        failure ??= { err: signal.reason };
        break;
      }
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.err;
}

/** Runs `fn` one call at a time; a call made while one runs queues behind it. */
function serialized(fn: () => Promise<void>): (() => Promise<void>) & { idle(): Promise<void> } {
  let chain: Promise<void> = Promise.resolve();
  const run = () => {
    const next = chain.then(fn);
    chain = next.catch(() => undefined);
    return next;
  };
  return Object.assign(run, { idle: () => chain });
}

function backoff(attempt: number): number {
  return Math.random() * Math.min(10_000, 250 * 2 ** (attempt - 1));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolveSleep, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolveSleep();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
