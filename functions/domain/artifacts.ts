/**
 * Registry-managed artifacts: the files a version declares, where they are stored and how they
 * are uploaded. Object keys are built by the registry, never taken from the caller.
 */
import { InvalidParameterError, LimitExceededError } from './errors';
import { describeValue } from './rules';

export interface ArtifactFile {
  /** Relative POSIX path inside the model, e.g. `weights/part-0.bin`. */
  readonly path: string;
  readonly size: number;
  /** Lowercase hex SHA-256 of the content. */
  readonly sha256: string;
}

export const MAX_FILES_PER_VERSION = 1000;
export const MAX_PATH_LENGTH = 1024;
/** S3's object size limit. */
export const MAX_FILE_SIZE = 5 * 1024 ** 4;
export const MIN_PART_SIZE = 5 * 1024 ** 2;
export const MAX_PART_SIZE = 5 * 1024 ** 3;
export const MAX_PARTS = 10_000;
const MiB = 1024 ** 2;

/**
 * Checks a declared file list: relative paths made of ordinary segments (no `..`, `.`, empty or
 * absolute parts, no backslashes or control characters), unique, with sizes S3 can hold.
 */
export function assertDeclaredFiles(files: readonly ArtifactFile[]): ArtifactFile[] {
  if (files.length === 0) throw new InvalidParameterError('Declare at least one file to upload.');
  if (files.length > MAX_FILES_PER_VERSION) {
    throw new LimitExceededError(
      `${files.length} files declared; a version has at most ${MAX_FILES_PER_VERSION}.`,
    );
  }
  const seen = new Set<string>();
  for (const file of files) {
    const p = file.path;
    const bad =
      p.length === 0 ||
      p.length > MAX_PATH_LENGTH ||
      p.startsWith('/') ||
      p.includes('\\') ||
      // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
      /[\u0000-\u001f\u007f]/.test(p) ||
      p.split('/').some((segment) => segment === '' || segment === '.' || segment === '..');
    if (bad) {
      throw new InvalidParameterError(
        `Invalid file path ${describeValue(p)}: use a relative path such as 'model.pkl' or 'weights/part-0.bin' (no '..', '.', empty or absolute segments, at most ${MAX_PATH_LENGTH} characters).`,
      );
    }
    if (seen.has(p)) throw new InvalidParameterError(`File path '${p}' is declared twice.`);
    seen.add(p);
    if (!Number.isSafeInteger(file.size) || file.size < 0 || file.size > MAX_FILE_SIZE) {
      throw new InvalidParameterError(
        `File '${p}' has an invalid size; a file is 0 to ${MAX_FILE_SIZE} bytes.`,
      );
    }
    if (!/^[0-9a-f]{64}$/.test(file.sha256)) {
      throw new InvalidParameterError(`File '${p}' needs its SHA-256 as 64 lowercase hex characters.`);
    }
  }
  return files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 }));
}

export type UploadPlan =
  | { readonly method: 'PUT' }
  | { readonly method: 'MULTIPART'; readonly partSize: number; readonly partCount: number };

/**
 * Single PUT up to the threshold, multipart above it: parts of at least `preferredPartSize`
 * (and at least 5 MiB), grown in whole MiB so that no file needs more than 10,000 parts.
 */
export function planUpload(
  size: number,
  options: { threshold: number; preferredPartSize: number },
): UploadPlan {
  if (size <= options.threshold) return { method: 'PUT' };
  const needed = Math.ceil(size / MAX_PARTS);
  const partSize = Math.min(
    MAX_PART_SIZE,
    Math.max(MIN_PART_SIZE, options.preferredPartSize, Math.ceil(needed / MiB) * MiB),
  );
  return { method: 'MULTIPART', partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** Where a version's files live in the artifact bucket. */
/** Every object the registry keeps for one model is under this prefix of the bucket. */
export function artifactModelPrefix(modelId: string): string {
  return `models/${modelId}/`;
}

export function artifactPrefix(modelId: string, version: number): string {
  return `${artifactModelPrefix(modelId)}versions/${version}/`;
}

export function objectKey(modelId: string, version: number, path: string): string {
  return `${artifactPrefix(modelId, version)}files/${path}`;
}

/** A parsed `models:/` URI. */
export type ModelUri =
  | { readonly name: string; readonly kind: 'version'; readonly version: number }
  | { readonly name: string; readonly kind: 'stage'; readonly stage: string }
  | { readonly name: string; readonly kind: 'latest' }
  | { readonly name: string; readonly kind: 'alias'; readonly alias: string };

/**
 * Parses models:/name/3, models:/name/Production, models:/name/latest and models:/name@alias as
 * MLflow does (the alias after the last `@`), also for names with `/` in them (the reference is
 * what follows the last `/`).
 */
export function parseModelUri(uri: string): ModelUri {
  const invalid = () =>
    new InvalidParameterError(
      `Invalid model URI ${describeValue(uri)}: use models:/<name>/<version>, models:/<name>/<stage>, models:/<name>/latest or models:/<name>@<alias>.`,
    );
  if (!uri.startsWith('models:/') || uri.length <= 'models:/'.length) throw invalid();
  const path = uri.slice('models:/'.length).replace(/^\/+/, '');
  const slash = path.lastIndexOf('/');
  const suffix = slash >= 0 ? path.slice(slash + 1) : '';
  const head = slash >= 0 ? path.slice(0, slash) : path;
  // A version, a stage or `latest` after the last slash; otherwise an alias after the last `@`.
  if (slash >= 0 && /^[^@]+$/.test(suffix) && head.trim() !== '') {
    if (/^\d+$/.test(suffix)) return { name: head, kind: 'version', version: Number(suffix) };
    if (suffix.toLowerCase() === 'latest') return { name: head, kind: 'latest' };
    if (suffix.trim() !== '') return { name: head, kind: 'stage', stage: suffix };
  }
  const at = path.lastIndexOf('@');
  if (at <= 0 || path.slice(at + 1).trim() === '') throw invalid();
  return { name: path.slice(0, at), kind: 'alias', alias: path.slice(at + 1) };
}
