/**
 * Parsers of option and argument values, and the declarations several commands share (the model
 * name and version arguments, the version filter).
 */
import { type Command, InvalidArgumentError } from 'commander';

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function keyValues(
  values: readonly string[] | undefined,
  what: string,
): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`--${what} expects key=value, got '${v}'.`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

export function numericValues(values: readonly string[] | undefined): Record<string, number> | undefined {
  const raw = keyValues(values, 'metric');
  if (!raw) return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw)) {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n))
      throw new UsageError(`--metric ${k} must be a number, got '${v}'.`);
    out[k] = n;
  }
  return out;
}

export function instant(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected epoch milliseconds or an ISO 8601 date');
  return n;
}

/** A parser of a duration option (`flag`) in seconds, > 0, fractions allowed. */
export const positiveSeconds =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} expects seconds > 0, got '${value}'.`);
    return n;
  };

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('expected a whole number ≥ 1');
  return Number(value);
}

export function versionNumber(value: string): string {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a version number');
  return value;
}

/** `path` or `path:1,2,5-8` (part numbers of a multipart file). */
export function fileParts(spec: string): { path: string; part_numbers?: number[] } {
  const m = /^(.*):(\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)$/.exec(spec);
  if (!m) return { path: spec };
  const numbers: number[] = [];
  for (const range of m[2]!.split(',')) {
    const [a, b = a] = range.split('-').map(Number) as [number, number?];
    if (b! < a) throw new UsageError(`Bad part range '${range}' in --file ${spec}.`);
    for (let n = a; n <= b!; n++) numbers.push(n);
  }
  return { path: m[1]!, part_numbers: numbers };
}

/** A subcommand of `parent` whose first argument is the registered model's name. */
export function modelCommand(parent: Command, name: string, description: string): Command {
  return parent.command(name).description(description).argument('<name>', 'registered model name');
}

/** A subcommand of `parent` about one version: `<name> <version>`. */
export function versionCommand(parent: Command, name: string, description: string): Command {
  return modelCommand(parent, name, description).argument('<version>', 'version number', versionNumber);
}

/** `--version <n>`: only the entries of one version (a subcommand option, unlike `mreg --version`). */
export function withVersionFilter(cmd: Command): Command {
  return cmd.option('--version <n>', 'only entries about this version', versionNumber);
}

export const versionQuery = (o: { version?: string }) => (o.version ? { version: o.version } : {});

const REQUEST_STATUSES = [
  'PENDING',
  'APPROVED',
  'REJECTED',
  'EXPIRED',
  'CANCELLED',
  'APPLIED',
  'FAILED',
] as const;
export type RequestStatusOption = (typeof REQUEST_STATUSES)[number];

/** A transition request status, in any case (`--status pending`). */
export function requestStatus(value: string): RequestStatusOption {
  const status = value.toUpperCase();
  if (!(REQUEST_STATUSES as readonly string[]).includes(status)) {
    throw new InvalidArgumentError(`expected one of ${REQUEST_STATUSES.join(', ')}`);
  }
  return status as RequestStatusOption;
}

export interface SearchOptions {
  filter?: string;
  orderBy?: string[];
}

/** `--order-by`, repeatable, for the listings the registry can sort. */
export function withOrderBy(cmd: Command, example: string): Command {
  return cmd.option('--order-by <clause>', `sort order, e.g. "${example}" (repeatable)`, collect);
}

export const searchQuery = (o: SearchOptions) => ({
  ...(o.filter !== undefined ? { filter: o.filter } : {}),
  ...(o.orderBy?.length ? { order_by: o.orderBy } : {}),
});
