/**
 * Where a model version's files live (`source`), accepted and refused as MLflow's tracking server
 * does (mlflow/server/handlers.py: `_validate_source_run`, `_validate_non_local_source_contains_
 * relative_paths`), plus one rule of the registry's own: a source cannot point into the storage the
 * registry manages for another model.
 *
 * - A prompt version (a version tagged `mlflow.prompt.is_prompt`) has no files: its source is not
 *   checked (MLflow 3's prompt registry sends `source="dummy-source"`).
 * - A local path (no scheme, or `file:`) is refused: MLflow accepts one only inside the artifact
 *   directory of a run on the server's own disk, which a serverless registry does not have.
 * - Any other URI is refused when, percent-decoded, its path is relative, has `.` or `..`
 *   segments, or has a NUL (the path must be what it resolves to).
 */
import { InvalidParameterError } from './errors';
import { describeValue } from './rules';

export const SOURCE_MAX_LENGTH = 2048;
/** The version tag MLflow's prompt registry puts on every prompt version. */
export const PROMPT_TAG_KEY = 'mlflow.prompt.is_prompt';
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the intent
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** Python's `urllib.parse.urlparse`, the parts these rules need: scheme, host, path. */
export function parseUri(uri: string): { scheme: string; netloc: string; path: string } {
  const scheme = SCHEME.exec(uri);
  let rest = scheme ? uri.slice(scheme[0].length) : uri;
  let netloc = '';
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/?#]/);
    netloc = end < 0 ? rest.slice(2) : rest.slice(2, 2 + end);
    rest = end < 0 ? '' : rest.slice(2 + end);
  }
  const cut = rest.search(/[?#]/);
  return {
    scheme: scheme ? scheme[1]!.toLowerCase() : '',
    netloc,
    path: cut < 0 ? rest : rest.slice(0, cut),
  };
}

/** Python's `urllib.parse.unquote_plus`: `+` is a space, bad UTF-8 becomes U+FFFD. */
function unquotePlus(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  if (!spaced.includes('%')) return spaced;
  return spaced.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  });
}

/**
 * Decoded until it no longer changes, as MLflow does (`..%252f` is `../`), however deep the
 * encoding: every pass that changes the text shortens it (a `+` becomes a space once), so this
 * ends within the text's length.
 */
export function fullyUnquoted(source: string): string {
  let current = source;
  for (let next = unquotePlus(current); next !== current; next = unquotePlus(current)) current = next;
  return current;
}

const invalid = (source: string, why: string) =>
  new InvalidParameterError(`Invalid model version source: ${describeValue(source)}. ${why}`);

/** Whether a version with these tags is a prompt version (MLflow checks the key alone). */
export const isPromptVersion = (tags: Readonly<Record<string, string>> | undefined) =>
  tags !== undefined && Object.hasOwn(tags, PROMPT_TAG_KEY);

export function assertSource(source: string | undefined, options: { prompt?: boolean } = {}): string {
  if (source === undefined) {
    throw new InvalidParameterError(
      "A model version needs a 'source' (where the model lives, e.g. s3://bucket/path or runs:/<run_id>/model) or 'files' to upload into the registry.",
    );
  }
  if (source.length === 0 || source.length > SOURCE_MAX_LENGTH) {
    throw invalid(source, `A source is 1 to ${SOURCE_MAX_LENGTH} characters.`);
  }
  if (CONTROL_CHARACTER.test(source)) {
    throw invalid(source, 'A source cannot contain control characters.');
  }
  if (options.prompt) return source;
  const { scheme } = parseUri(source);
  if (scheme === '' || scheme === 'file') {
    throw invalid(
      source,
      "A local path cannot be a model version source: give a URI such as s3://bucket/path, runs:/<run_id>/model or models:/<name>/<version>, or upload the files with 'files'.",
    );
  }
  const decoded = fullyUnquoted(source);
  const path = parseUri(decoded).path.replace(/\/+$/, '').replace(/\/+/g, '/');
  const segments = path.split('/');
  if (
    path.includes('\u0000') ||
    decoded.split('/').some((s) => s === '..') ||
    !path.startsWith('/') ||
    segments.some((s) => s === '.' || s === '..')
  ) {
    throw invalid(
      source,
      'If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.',
    );
  }
  return source;
}

/**
 * The object key a source names in `bucket`, when it names one: `s3://bucket/key` (and `s3a:`,
 * `s3n:`), and S3's virtual-hosted and path-style https URLs. Decoded, with repeated slashes
 * collapsed, so that no spelling of a key escapes the check.
 */
export function keyInBucket(source: string, bucket: string): string | undefined {
  const { scheme, netloc, path } = parseUri(fullyUnquoted(source));
  const host = netloc
    .replace(/^[^@]*@/, '')
    .replace(/:\d*$/, '')
    .toLowerCase();
  const clean = path.replace(/\/+/g, '/').replace(/^\//, '');
  const b = bucket.toLowerCase();
  if (scheme === 's3' || scheme === 's3a' || scheme === 's3n') return host === b ? clean : undefined;
  if (scheme !== 'https' && scheme !== 'http') return undefined;
  // Virtual-hosted: bucket.s3.amazonaws.com, bucket.s3.region.amazonaws.com, bucket.s3-region…
  if (host.startsWith(`${b}.s3`) && host.endsWith('.amazonaws.com')) return clean;
  // Path-style: s3.amazonaws.com/bucket/key, s3.region.amazonaws.com/bucket/key, s3-region…
  if (/^s3[.-]/.test(host) && host.endsWith('.amazonaws.com')) {
    const [first, ...rest] = clean.split('/');
    return first?.toLowerCase() === b ? rest.join('/') : undefined;
  }
  return undefined;
}

/**
 * Refuses a source in the registry's bucket outside the model's own managed prefix: versions of
 * one model cannot claim the verified files of another (they would look identical to its
 * versions), nor anything else the registry keeps there.
 */
export function assertNotOtherModelsFiles(source: string, bucket: string, ownPrefix: string): void {
  const key = keyInBucket(source, bucket);
  if (key === undefined || `${key}/`.startsWith(ownPrefix)) return;
  throw invalid(
    source,
    "It points into the files the registry manages for another model. To register another model's version here, use its URI (models:/<name>/<version>), or upload the files with 'files'.",
  );
}
