/**
 * The registry's naming rules and limits, enforced everywhere a value enters the registry.
 * docs/limits.md documents each of them; change both together.
 */
import { InvalidParameterError, LimitExceededError } from './errors';

/**
 * Registered model names are what MLflow accepts: any non-empty string (`my model`, `team/model`,
 * `Modèle`, `churn (v2)`, `a%b`…), except control characters and text that is not valid Unicode,
 * up to MODEL_NAME_MAX_BYTES of UTF-8 (the name is a DynamoDB index sort key, at most 1,024
 * bytes with what precedes it). Names a URL path cannot carry travel in a query parameter
 * (functions/api/model-name-path.ts).
 */
export const MODEL_NAME_MAX_BYTES = 900;
const UTF8 = new TextEncoder();
const utf8Bytes = (text: string) => UTF8.encode(text).length;
// C0 and C1 control characters and DEL: the point of the rule is to match them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the intent
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
// A surrogate without its pair: not Unicode, not encodable as UTF-8.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Aliases follow MLflow: `[\w-]`, at most 255 characters; `latest` and `v<digits>` are reserved. */
export const ALIAS_PATTERN = /^[\w-]{1,255}$/;
const RESERVED_ALIAS = /^(latest|[vV]\d+)$/i;

/** Tag keys follow MLflow: letters, digits, `_`, `-`, `.`, ` `, `/` and `:`; at most 250 characters. */
export const TAG_KEY_PATTERN = /^[\w\-. /:]{1,250}$/;
export const TAG_VALUE_MAX_LENGTH = 5000;
export const MAX_TAGS_PER_ENTITY = 50;
export const MAX_ALIASES_PER_MODEL = 100;
export const DESCRIPTION_MAX_LENGTH = 5000;
export const RUN_ID_PATTERN = /^[\w-]{1,256}$/;
export const RUN_LINK_MAX_LENGTH = 2048;
export const MAX_PARAMETERS = 200;
export const PARAMETER_KEY_PATTERN = /^[\w\-. /:]{1,250}$/;
export const PARAMETER_VALUE_MAX_LENGTH = 6000;
export const MAX_METRICS = 200;
export const DATASET_FIELD_MAX_LENGTH = 1024;
export const CLIENT_TOKEN_PATTERN = /^[\w-]{1,64}$/;
/** A version number is a positive integer below 2^31 (what MLflow's schema stores). */
export const MAX_VERSION_NUMBER = 2_147_483_647;

/** Describes a string for an error message without echoing a hostile or huge value back. */
export function describeValue(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 80
    ? `'${printable.slice(0, 77)}...' (${value.length} characters)`
    : `'${printable}'`;
}

/** Why `name` is not a registered model name, or undefined when it is one. */
export function modelNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'Registered model name cannot be empty.';
  if (CONTROL_CHARACTER.test(name)) {
    return `Invalid registered model name ${describeValue(name)}: names cannot contain control characters (U+0000-U+001F, U+007F-U+009F).`;
  }
  if (LONE_SURROGATE.test(name)) {
    return `Invalid registered model name ${describeValue(name)}: the name is not valid Unicode (it has an unpaired surrogate).`;
  }
  const bytes = utf8Bytes(name);
  if (bytes > MODEL_NAME_MAX_BYTES) {
    return `Registered model name ${describeValue(name)} is ${bytes} bytes of UTF-8, over the limit of ${MODEL_NAME_MAX_BYTES}.`;
  }
  return undefined;
}

/** Whether a name is too long to be any model's (a filter on it can match nothing). */
export const beyondModelNames = (text: string) => utf8Bytes(text) > MODEL_NAME_MAX_BYTES;

export function assertModelName(name: string, field = 'name'): string {
  const problem = modelNameProblem(name);
  if (problem) {
    throw new InvalidParameterError(field === 'name' ? problem : `${problem} (${field})`);
  }
  return name;
}

export function assertAlias(alias: string): string {
  if (!ALIAS_PATTERN.test(alias)) {
    throw new InvalidParameterError(
      `Invalid alias ${describeValue(alias)}: an alias is 1-255 characters of letters, digits, '_' and '-'.`,
    );
  }
  if (RESERVED_ALIAS.test(alias)) {
    throw new InvalidParameterError(
      `Invalid alias ${describeValue(alias)}: 'latest' and 'v<number>' are reserved alias names; choose another name.`,
    );
  }
  return alias;
}

export function assertTagKey(key: string): string {
  if (!TAG_KEY_PATTERN.test(key)) {
    throw new InvalidParameterError(
      `Invalid tag key ${describeValue(key)}: a tag key is 1-250 characters of letters, digits, '_', '-', '.', ' ', '/' and ':'.`,
    );
  }
  return key;
}

export function assertTagValue(key: string, value: string): string {
  if (value.length > TAG_VALUE_MAX_LENGTH) {
    throw new InvalidParameterError(
      `Tag '${key}' has a value of ${value.length} characters; the limit is ${TAG_VALUE_MAX_LENGTH}.`,
    );
  }
  return value;
}

export function assertTags(tags: Readonly<Record<string, string>>): Record<string, string> {
  const keys = Object.keys(tags);
  if (keys.length > MAX_TAGS_PER_ENTITY) {
    throw new LimitExceededError(
      `${keys.length} tags given; a model or version has at most ${MAX_TAGS_PER_ENTITY}.`,
    );
  }
  for (const key of keys) {
    assertTagKey(key);
    assertTagValue(key, tags[key]!);
  }
  return { ...tags };
}

export function assertDescription(description: string): string {
  if (description.length > DESCRIPTION_MAX_LENGTH) {
    throw new InvalidParameterError(
      `The description has ${description.length} characters; the limit is ${DESCRIPTION_MAX_LENGTH}.`,
    );
  }
  return description;
}

/** Parses a version number given as a number or a decimal string ("3"). */
export function parseVersionNumber(value: string | number, field = 'version'): number {
  const text = String(value).trim();
  if (!/^\d{1,10}$/.test(text) || Number(text) < 1 || Number(text) > MAX_VERSION_NUMBER) {
    throw new InvalidParameterError(
      `Parameter '${field}' must be an integer, got ${describeValue(String(value))}. Versions are numbered from 1.`,
    );
  }
  return Number(text);
}

/** Checks a version's lineage fields: run id, run link, parameters, metrics, data set. */
export function assertLineage(lineage: {
  runId?: string | undefined;
  runLink?: string | undefined;
  loggedModelId?: string | undefined;
  parameters?: Readonly<Record<string, string>> | undefined;
  metrics?: Readonly<Record<string, number>> | undefined;
  dataset?: { name?: string | undefined; digest?: string | undefined; uri?: string | undefined } | undefined;
  clientToken?: string | undefined;
}): void {
  if (lineage.runId !== undefined && !RUN_ID_PATTERN.test(lineage.runId)) {
    throw new InvalidParameterError(
      `Invalid run_id ${describeValue(lineage.runId)}: a run id is 1-256 characters of letters, digits, '_' and '-'.`,
    );
  }
  if (lineage.loggedModelId !== undefined && !RUN_ID_PATTERN.test(lineage.loggedModelId)) {
    throw new InvalidParameterError(
      `Invalid model_id ${describeValue(lineage.loggedModelId)}: a logged model id (MLflow 3's m-<id>) is 1-256 characters of letters, digits, '_' and '-'.`,
    );
  }
  if (lineage.runLink !== undefined && lineage.runLink.length > RUN_LINK_MAX_LENGTH) {
    throw new InvalidParameterError(
      `run_link has ${lineage.runLink.length} characters; the limit is ${RUN_LINK_MAX_LENGTH}.`,
    );
  }
  const parameters = Object.entries(lineage.parameters ?? {});
  if (parameters.length > MAX_PARAMETERS) {
    throw new LimitExceededError(
      `${parameters.length} parameters given; a version has at most ${MAX_PARAMETERS}.`,
    );
  }
  for (const [key, value] of parameters) {
    if (!PARAMETER_KEY_PATTERN.test(key)) {
      throw new InvalidParameterError(
        `Invalid parameter name ${describeValue(key)}: 1-250 characters of letters, digits, '_', '-', '.', ' ', '/' and ':'.`,
      );
    }
    if (value.length > PARAMETER_VALUE_MAX_LENGTH) {
      throw new InvalidParameterError(
        `Parameter '${key}' has a value of ${value.length} characters; the limit is ${PARAMETER_VALUE_MAX_LENGTH}.`,
      );
    }
  }
  const metrics = Object.entries(lineage.metrics ?? {});
  if (metrics.length > MAX_METRICS) {
    throw new LimitExceededError(`${metrics.length} metrics given; a version has at most ${MAX_METRICS}.`);
  }
  for (const [key, value] of metrics) {
    if (!PARAMETER_KEY_PATTERN.test(key)) {
      throw new InvalidParameterError(
        `Invalid metric name ${describeValue(key)}: 1-250 characters of letters, digits, '_', '-', '.', ' ', '/' and ':'.`,
      );
    }
    if (!Number.isFinite(value)) {
      throw new InvalidParameterError(`Metric '${key}' must be a finite number.`);
    }
  }
  for (const [field, value] of Object.entries(lineage.dataset ?? {})) {
    if (value !== undefined && value.length > DATASET_FIELD_MAX_LENGTH) {
      throw new InvalidParameterError(
        `dataset.${field} has ${value.length} characters; the limit is ${DATASET_FIELD_MAX_LENGTH}.`,
      );
    }
  }
  if (lineage.clientToken !== undefined && !CLIENT_TOKEN_PATTERN.test(lineage.clientToken)) {
    throw new InvalidParameterError(
      `Invalid client_token ${describeValue(lineage.clientToken)}: 1-64 characters of letters, digits, '_' and '-'.`,
    );
  }
}
