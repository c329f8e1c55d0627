/**
 * Registry-managed artifacts: a version that declares files waits in PENDING_REGISTRATION while
 * the caller uploads them through presigned, write-once URLs; finalizing completes the uploads and
 * queues a verification that re-reads every file, checks its size and SHA-256 and moves the
 * version to READY or FAILED_REGISTRATION. Downloads are presigned GETs of READY versions only.
 * No AWS SDK here: storage and the queue are ports.
 */
import {
  type ArtifactFile,
  artifactPrefix,
  assertDeclaredFiles,
  MAX_PARTS,
  objectKey,
  parseModelUri,
  planUpload,
} from '../domain/artifacts';
import {
  ConcurrentModificationError,
  InvalidParameterError,
  InvalidStateError,
  LimitExceededError,
} from '../domain/errors';
import { REGISTRY_ACTOR, registryEvent } from '../domain/events';
import type { Principal } from '../domain/identity';
import type { ModelVersion, RegisteredModel } from '../domain/model';
import type { ArtifactStore, Clock, RegistryRepository, VerificationJob, VerificationQueue } from './ports';
import { systemClock } from './ports';
import type { CreateVersionInput, RegistryService, VersionView } from './registry';

export interface ArtifactSettings {
  /** Lifetime of presigned upload URLs (S3 checks it when a request starts). */
  readonly uploadUrlTtlSeconds: number;
  readonly downloadUrlTtlSeconds: number;
  /** Files above this size are uploaded in parts. */
  readonly multipartThresholdBytes: number;
  /** Preferred part size (grown when a file would need more than 10,000 parts). */
  readonly partSizeBytes: number;
  /** How long a version may wait for its upload before it expires. */
  readonly pendingTtlMs: number;
  /** Part URLs handed out with the version (more come from the upload-urls route). */
  readonly initialPartUrls: number;
}

export const DEFAULT_ARTIFACT_SETTINGS: ArtifactSettings = {
  uploadUrlTtlSeconds: 900,
  downloadUrlTtlSeconds: 900,
  multipartThresholdBytes: 64 * 1024 ** 2,
  partSizeBytes: 64 * 1024 ** 2,
  pendingTtlMs: 24 * 3600_000,
  initialPartUrls: 16,
};

/** At most this many URLs per response, so a response stays far below Lambda's 6 MB. */
export const MAX_URLS_PER_REQUEST = 1000;

export interface UploadInstruction {
  readonly path: string;
  readonly size: number;
  readonly method: 'PUT' | 'MULTIPART';
  readonly url?: string;
  readonly headers: Record<string, string>;
  readonly uploadId?: string;
  readonly partSize?: number;
  readonly partCount?: number;
  readonly parts?: { partNumber: number; url: string }[];
}

export interface UploadInstructions {
  readonly expiresAt: number;
  readonly files: UploadInstruction[];
}

export interface DownloadFile extends ArtifactFile {
  readonly url: string;
}

export interface Download {
  readonly name: string;
  readonly version: number;
  readonly source: string;
  readonly expiresAt: number;
  readonly files: DownloadFile[];
}

export interface UploadUrlRequest {
  readonly path: string;
  /** Multipart files: which parts (default: the first ones, up to the per-request limit). */
  readonly partNumbers?: readonly number[] | undefined;
}

export type CompletedParts = Readonly<Record<string, readonly { partNumber: number; etag: string }[]>>;

const VERIFYING = 'Verifying the uploaded files';

export class ArtifactService {
  constructor(
    private readonly registry: RegistryService,
    private readonly repo: RegistryRepository,
    private readonly store: ArtifactStore,
    private readonly queue: VerificationQueue,
    private readonly settings: ArtifactSettings = DEFAULT_ARTIFACT_SETTINGS,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Where a version's files live, as its (immutable) source. */
  sourceOf(modelId: string, version: number): string {
    return `s3://${this.store.bucket}/${artifactPrefix(modelId, version)}files`;
  }

  /**
   * Registers a version that will receive files: PENDING_REGISTRATION, with presigned upload
   * instructions. A retry with the same client token returns the same version and fresh URLs.
   */
  async createVersion(
    name: string,
    input: CreateVersionInput,
    files: readonly ArtifactFile[],
    caller: Principal,
  ): Promise<{ version: VersionView; upload: UploadInstructions; created: boolean }> {
    const declared = assertDeclaredFiles(files);
    for (const file of declared) this.plan(file); // refuses a file S3 cannot hold before anything is written
    const { version, created } = await this.registry.createModelVersion(
      name,
      {
        ...input,
        pending: {
          files: declared,
          expiresAt: this.clock.now() + this.settings.pendingTtlMs,
          source: (modelId, n) => this.sourceOf(modelId, n),
        },
      },
      caller,
    );
    const model = await this.registry.requireModel(name);
    const current = await this.registry.requireVersion(model, version.version.version);
    // A retried create of a version that has moved on gets no URLs: there is nothing left to upload.
    const accepting = current.status === 'PENDING_REGISTRATION' && current.statusMessage !== VERIFYING;
    const upload = accepting
      ? await this.instructions(
          model,
          current,
          (current.files ?? []).map((f) => ({ path: f.path })),
          this.settings.initialPartUrls,
        )
      : { expiresAt: this.clock.now(), files: [] };
    return { version: this.registry.view(model, current), upload, created };
  }

  /** Fresh presigned URLs for files (and parts) of a version that is still waiting for them. */
  async uploadUrls(
    name: string,
    version: number,
    requests: readonly UploadUrlRequest[] | undefined,
  ): Promise<{ version: VersionView; upload: UploadInstructions }> {
    const model = await this.registry.requireModel(name);
    const current = await this.pendingVersion(model, version);
    const wanted = requests?.length ? requests : (current.files ?? []).map((f) => ({ path: f.path }));
    const upload = await this.instructions(model, current, wanted, MAX_URLS_PER_REQUEST);
    const fresh = await this.registry.requireVersion(model, version);
    return { version: this.registry.view(model, fresh), upload };
  }

  /**
   * Completes the multipart uploads (write-once) and queues verification. Idempotent: finalizing
   * a version that is already being verified queues it again; a settled version is returned as is.
   */
  async finalize(name: string, version: number, parts: CompletedParts): Promise<VersionView> {
    const model = await this.registry.requireModel(name);
    const current = await this.registry.requireVersion(model, version);
    if (!current.files) {
      throw new InvalidStateError(
        `Model Version (name=${name}, version=${version}) has an external source; there is nothing to finalize.`,
      );
    }
    if (current.status !== 'PENDING_REGISTRATION') return this.registry.view(model, current);
    this.assertNotExpired(current);
    for (const path of Object.keys(parts)) {
      if (!current.files.some((f) => f.path === path)) {
        throw new InvalidParameterError(
          `Parts were given for '${path}', which this version does not declare.`,
        );
      }
    }
    for (const file of current.files) {
      const key = objectKey(model.id, version, file.path);
      const plan = this.plan(file);
      if (plan.method === 'PUT') {
        if (!(await this.store.head(key))) {
          throw new InvalidStateError(
            `File '${file.path}' has not been uploaded yet: PUT it to its presigned URL, then finalize again.`,
          );
        }
        continue;
      }
      const uploadId = current.uploads?.[file.path];
      if (await this.store.head(key)) continue; // completed by an earlier finalize
      const given = parts[file.path];
      if (!uploadId || !given) {
        throw new InvalidParameterError(
          `File '${file.path}' is uploaded in ${plan.partCount} parts: give the ETag S3 returned for each part in parts['${file.path}'].`,
        );
      }
      const sorted = [...given].sort((a, b) => a.partNumber - b.partNumber);
      const missing: number[] = [];
      for (let n = 1, i = 0; n <= plan.partCount; n++) {
        if (sorted[i]?.partNumber === n) i++;
        else missing.push(n);
      }
      if (missing.length || sorted.length !== plan.partCount) {
        throw new InvalidParameterError(
          `File '${file.path}' needs parts 1..${plan.partCount} exactly once; ${missing.length ? `missing ${summarize(missing)}` : 'got duplicates or extra parts'}.`,
        );
      }
      const outcome = await this.store.completeMultipartUpload(key, uploadId, sorted);
      if (outcome === 'no-such-upload') {
        throw new InvalidStateError(
          `The upload of '${file.path}' no longer exists: upload the file's parts again with fresh URLs, then finalize.`,
        );
      }
      if (outcome === 'invalid-parts') {
        throw new InvalidParameterError(
          `S3 refused the parts of '${file.path}': each part must be uploaded, given with the ETag S3 returned for it, and be ${plan.partSize} bytes (the last one the rest). Upload the wrong parts again, then finalize.`,
        );
      }
      if (outcome === 'conflict') {
        throw new ConcurrentModificationError(
          `Another write to '${file.path}' was in progress and the upload could not be completed; finalize again.`,
        );
      }
    }
    await this.repo.setRegistrationStatus(
      model,
      version,
      'PENDING_REGISTRATION',
      VERIFYING,
      this.clock.now(),
    );
    await this.queue.enqueue({ name: model.name, modelId: model.id, version });
    return this.registry.view(model, await this.registry.requireVersion(model, version));
  }

  /**
   * Re-reads every declared file and settles the version: READY when each one has the declared
   * size and SHA-256, FAILED_REGISTRATION naming the first file that does not. Safe to repeat.
   */
  async verify(job: VerificationJob): Promise<ModelVersion['status'] | 'skipped'> {
    const model = await this.repo.getModel(job.name);
    if (!model || model.id !== job.modelId) return 'skipped';
    const current = await this.repo.getVersion(model, job.version);
    if (!current?.files || current.status !== 'PENDING_REGISTRATION') return 'skipped';
    const problem = await this.firstProblem(model, current);
    const status = problem ? 'FAILED_REGISTRATION' : 'READY';
    const event = registryEvent('ModelVersionRegistrationSettled', {
      now: this.clock.now(),
      actor: REGISTRY_ACTOR,
      model,
      version: job.version,
      data: {
        status,
        message: problem ?? '',
        source: current.source,
        ...(current.runId ? { run_id: current.runId } : {}),
        tags: current.tags,
        description: current.description,
      },
    });
    await this.repo
      .recording(event)
      .setRegistrationStatus(model, job.version, status, problem ?? '', this.clock.now());
    return status;
  }

  /** Presigned GETs for every file of a READY version, with the manifest. */
  async download(name: string, version: number): Promise<{ version: VersionView; download: Download }> {
    const model = await this.registry.requireModel(name);
    return this.downloadOf(model, await this.registry.requireVersion(model, version));
  }

  /** Resolves models:/name/<version|Stage|latest> and models:/name@alias to a version and its download. */
  /** Resolves `models:/name/3`, `models:/name/Production`, `models:/name@alias` or `…/latest`: two reads. */
  async resolve(uri: string): Promise<{ version: VersionView; download: Download }> {
    const ref = parseModelUri(uri);
    const model = await this.registry.requireModel(ref.name);
    return this.downloadOf(model, await this.registry.resolveVersion(model, ref));
  }

  // ---------------------------------------------------------------- internals

  private plan(file: ArtifactFile) {
    return planUpload(file.size, {
      threshold: this.settings.multipartThresholdBytes,
      preferredPartSize: this.settings.partSizeBytes,
    });
  }

  private assertNotExpired(version: ModelVersion): void {
    if (version.pendingExpiresAt !== undefined && version.pendingExpiresAt <= this.clock.now()) {
      throw new InvalidStateError(
        `Model Version (name=${version.name}, version=${version.version}) expired before its upload was finalized; register a new version.`,
      );
    }
  }

  private async pendingVersion(model: RegisteredModel, version: number): Promise<ModelVersion> {
    const current = await this.registry.requireVersion(model, version);
    if (!current.files) {
      throw new InvalidStateError(
        `Model Version (name=${model.name}, version=${version}) has an external source; it takes no uploads.`,
      );
    }
    if (current.status !== 'PENDING_REGISTRATION' || current.statusMessage === VERIFYING) {
      throw new InvalidStateError(
        `Model Version (name=${model.name}, version=${version}) is ${current.status === 'PENDING_REGISTRATION' ? 'being verified' : current.status}; it takes no more uploads. Register a new version to upload other files.`,
      );
    }
    this.assertNotExpired(current);
    return current;
  }

  private async instructions(
    model: RegisteredModel,
    version: ModelVersion,
    requests: readonly UploadUrlRequest[],
    urlBudget: number,
  ): Promise<UploadInstructions> {
    const ttl = this.settings.uploadUrlTtlSeconds;
    const files = new Map((version.files ?? []).map((f) => [f.path, f]));
    let budget = urlBudget;
    const out: UploadInstruction[] = [];
    const explicitParts = requests.reduce((n, r) => n + (r.partNumbers?.length ?? 0), 0);
    if (explicitParts > MAX_URLS_PER_REQUEST) {
      throw new LimitExceededError(`Ask for at most ${MAX_URLS_PER_REQUEST} part URLs per request.`);
    }
    for (const request of requests) {
      const file = files.get(request.path);
      if (!file) {
        throw new InvalidParameterError(`'${request.path}' is not a file of this version.`);
      }
      const key = objectKey(model.id, version.version, file.path);
      const plan = this.plan(file);
      if (plan.method === 'PUT') {
        const { url, headers } = await this.store.presignPut(key, file.size, file.sha256, ttl);
        out.push({ path: file.path, size: file.size, method: 'PUT', url, headers });
        budget--;
        continue;
      }
      const uploadId = await this.ensureUpload(model, version, file.path, key);
      const numbers = request.partNumbers?.length
        ? [...new Set(request.partNumbers)]
        : Array.from({ length: Math.max(0, Math.min(plan.partCount, budget)) }, (_, i) => i + 1);
      for (const n of numbers) {
        if (!Number.isInteger(n) || n < 1 || n > plan.partCount || n > MAX_PARTS) {
          throw new InvalidParameterError(
            `'${file.path}' has parts 1..${plan.partCount}; there is no part ${n}.`,
          );
        }
      }
      const parts = await Promise.all(
        numbers.map(async (n) => ({
          partNumber: n,
          url: await this.store.presignPart(key, uploadId, n, ttl),
        })),
      );
      budget -= parts.length;
      out.push({
        path: file.path,
        size: file.size,
        method: 'MULTIPART',
        headers: {},
        uploadId,
        partSize: plan.partSize,
        partCount: plan.partCount,
        parts,
      });
    }
    return { expiresAt: this.clock.now() + ttl * 1000, files: out };
  }

  /** The file's multipart upload, created on first use (two racing requests agree on one). */
  private async ensureUpload(model: RegisteredModel, version: ModelVersion, path: string, key: string) {
    const known = version.uploads?.[path];
    if (known) return known;
    const uploadId = await this.store.createMultipartUpload(key);
    if (await this.repo.addUpload(model, version.version, path, uploadId)) return uploadId;
    await this.store.abortMultipartUpload(key, uploadId);
    const fresh = await this.pendingVersion(model, version.version);
    const winner = fresh.uploads?.[path];
    if (!winner) throw new InvalidStateError(`The upload of '${path}' could not be started; try again.`);
    return winner;
  }

  private async firstProblem(model: RegisteredModel, version: ModelVersion): Promise<string | undefined> {
    for (const file of version.files ?? []) {
      const key = objectKey(model.id, version.version, file.path);
      const head = await this.store.head(key);
      if (!head) return `File '${file.path}' is missing from storage.`;
      if (head.size !== file.size) {
        return `File '${file.path}' is ${head.size} bytes; ${file.size} were declared.`;
      }
      const sha256 = await this.store.sha256(key);
      if (sha256 !== file.sha256) {
        return `File '${file.path}' has SHA-256 ${sha256}; ${file.sha256} was declared.`;
      }
    }
    return undefined;
  }

  private async downloadOf(
    model: RegisteredModel,
    version: ModelVersion,
  ): Promise<{ version: VersionView; download: Download }> {
    const view = this.registry.view(model, version);
    const shown = view.version;
    if (shown.status !== 'READY') {
      throw new InvalidStateError(
        `Model Version (name=${model.name}, version=${version.version}) is ${shown.status}${shown.statusMessage ? ` (${shown.statusMessage})` : ''}; only READY versions can be downloaded.`,
      );
    }
    const ttl = this.settings.downloadUrlTtlSeconds;
    const files = await Promise.all(
      (version.files ?? []).map(async (f) => ({
        ...f,
        url: await this.store.presignGet(
          objectKey(model.id, version.version, f.path),
          ttl,
          f.path.split('/').pop()!,
        ),
      })),
    );
    return {
      version: view,
      download: {
        name: model.name,
        version: version.version,
        source: version.source,
        expiresAt: this.clock.now() + ttl * 1000,
        files,
      },
    };
  }
}

function summarize(numbers: readonly number[]): string {
  const shown = numbers.slice(0, 10).join(', ');
  return numbers.length > 10
    ? `parts ${shown}… (${numbers.length} in all)`
    : `part${numbers.length > 1 ? 's' : ''} ${shown}`;
}
