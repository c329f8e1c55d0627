/**
 * Output formats that work on any JSON value, so they also apply to a `--query` result: the aws
 * CLI's tab-separated `text` format, and a generic table for `--output table --query …`.
 */
import { compile, type JSONValue, search } from '@jmespath-community/jmespath';
import { listing, table } from './format';

export const OUTPUT_FORMATS = ['json', 'table', 'text'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A JMESPath expression as a function; a malformed one throws here, before any request. */
export function compileQuery(expression: string): (data: unknown) => unknown {
  compile(expression);
  return (data) => search(data as JSONValue, expression);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown) => typeof v !== 'object' || v === null;

/** A scalar as the aws CLI's text output prints it (Python's str(): None, True, False). */
function scalarText(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  return String(v);
}

/**
 * The aws CLI's `text` output: tab-separated values. An object prints its scalar values (sorted by
 * key) on one line, after the upper-cased key it sits under, then each nested object or list under
 * its own key; the objects of a list share the list's scalar keys (missing values are empty); a
 * list of scalars under a key prints one `KEY<TAB>value` line each, a bare one a single line.
 */
export function textOutput(value: unknown): string {
  const lines: string[] = [];
  const item = (v: unknown, identifier?: string, scalarKeys?: string[]): void => {
    if (isObject(v)) dict(v, identifier, scalarKeys);
    else if (Array.isArray(v)) list(v, identifier);
    else lines.push(scalarText(v));
  };
  const scalarList = (elements: unknown[], identifier?: string) => {
    if (identifier === undefined) lines.push(elements.map(scalarText).join('\t'));
    else for (const e of elements) lines.push(`${identifier.toUpperCase()}\t${scalarText(e)}`);
  };
  const list = (v: unknown[], identifier?: string) => {
    if (!v.length) return;
    if (v.some(isObject)) {
      const keys = new Set<string>();
      for (const e of v.filter(isObject)) {
        for (const [k, x] of Object.entries(e)) if (isScalar(x)) keys.add(k);
      }
      const scalarKeys = [...keys].sort();
      for (const e of v) item(e, identifier, scalarKeys);
    } else if (v.some(Array.isArray)) {
      const scalars = v.filter(isScalar);
      if (scalars.length) scalarList(scalars, identifier);
      for (const e of v.filter((x) => !isScalar(x))) item(e, identifier);
    } else scalarList(v, identifier);
  };
  const dict = (v: Record<string, unknown>, identifier?: string, scalarKeys?: string[]) => {
    const keys = Object.keys(v).sort();
    const scalars = scalarKeys
      ? scalarKeys.map((k) => (k in v ? scalarText(v[k]) : ''))
      : keys.filter((k) => isScalar(v[k])).map((k) => scalarText(v[k]));
    const nested = scalarKeys
      ? keys.filter((k) => !scalarKeys.includes(k))
      : keys.filter((k) => !isScalar(v[k]));
    if (scalars.length)
      lines.push([...(identifier !== undefined ? [identifier.toUpperCase()] : []), ...scalars].join('\t'));
    for (const k of nested) item(v[k], k);
  };
  item(value);
  return lines.join('\n');
}

const cell = (v: unknown) =>
  v === null || v === undefined ? '' : isScalar(v) ? String(v) : JSON.stringify(v);

/**
 * Any JSON value as a table (a `--query` result has no command-specific layout): a list of objects
 * as rows under their keys, a list of scalars one per line, an object as `key: value` lines.
 */
export function genericTable(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) {
    if (value.length && value.every(isObject)) {
      const keys = [...new Set(value.flatMap((o) => Object.keys(o)))];
      return table(
        keys.map((k) => k.toUpperCase()),
        value.map((o) => keys.map((k) => cell(o[k]))),
      );
    }
    if (value.some(Array.isArray)) {
      const width = Math.max(...value.map((r) => (Array.isArray(r) ? r.length : 1)));
      const rows = value.map((r) => (Array.isArray(r) ? r.map(cell) : [cell(r)]));
      return table(
        Array.from({ length: width }, () => ''),
        rows,
      ).replace(/^\s*\n/, '');
    }
    return value.map(cell).join('\n');
  }
  if (isObject(value)) return listing(Object.entries(value).map(([k, v]) => [k, cell(v)]));
  return cell(value);
}
