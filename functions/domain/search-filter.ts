/**
 * MLflow's model registry search grammar: filter clauses joined by AND, and order_by terms.
 * Parsed into clauses the storage layer can plan with, and evaluated in memory on each candidate.
 */
import { InvalidParameterError } from './errors';

export type SearchKind = 'models' | 'versions';
export type Comparator = '=' | '!=' | 'LIKE' | 'ILIKE' | 'IN' | '<' | '<=' | '>' | '>=';
export type FilterKey =
  | { type: 'attribute'; name: 'name' | 'run_id' | 'source_path' | 'version_number' }
  | { type: 'tag'; name: string };
export interface FilterClause {
  key: FilterKey;
  comparator: Comparator;
  value: string | number | readonly string[];
}
export type OrderKey = 'name' | 'version_number' | 'creation_timestamp' | 'last_updated_timestamp';
export interface OrderTerm {
  key: OrderKey;
  direction: 'ASC' | 'DESC';
}
/** What the evaluator needs of an entity. */
export interface Searchable {
  name: string;
  version?: number;
  runId?: string;
  source?: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  tags: Readonly<Record<string, string>>;
}

export const MAX_FILTER_LENGTH = 4096;
export const MAX_CLAUSES = 32;
export const MAX_ORDER_TERMS = 4;

const STRING_OPS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
const NUMERIC_OPS: readonly Comparator[] = ['=', '!=', '<', '<=', '>', '>='];

type AttributeName = Extract<FilterKey, { type: 'attribute' }>['name'];
const ATTRIBUTES: Record<SearchKind, readonly AttributeName[]> = {
  models: ['name'],
  versions: ['name', 'run_id', 'source_path', 'version_number'],
};
const ORDER_KEYS: Record<SearchKind, readonly OrderKey[]> = {
  models: ['name', 'creation_timestamp', 'last_updated_timestamp'],
  versions: ['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'],
};

type Token =
  | { t: 'word'; v: string; pos: number }
  | { t: 'string'; v: string; pos: number }
  | { t: 'backtick'; v: string; pos: number }
  | { t: 'op'; v: string; pos: number }
  | { t: 'punct'; v: '(' | ')' | ',' | '.'; pos: number };

function fail(filter: string, why: string, kind: SearchKind): never {
  const keys =
    kind === 'models'
      ? 'name and tags.<key> with =, !=, LIKE, ILIKE'
      : "name, run_id, source_path and tags.<key> with =, !=, LIKE, ILIKE; run_id IN ('a', 'b'); version_number with =, !=, <, <=, >, >=";
  const shown = filter.length > 200 ? `${filter.slice(0, 197)}...` : filter;
  throw new InvalidParameterError(
    `Invalid filter '${shown}': ${why}. ${kind === 'models' ? 'Registered model' : 'Model version'} filters accept ${keys}, joined with AND; quote strings with ' or ".`,
  );
}

function tokenize(filter: string, kind: SearchKind): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      const quote = c;
      let value = '';
      let j = i + 1;
      let closed = false;
      while (j < filter.length) {
        const d = filter[j]!;
        // As MLflow (sqlparse's literal, then the quotes trimmed): `\'`, `\\` and a doubled quote
        // do not end the literal, and nothing is unescaped. A value with a quote in it is matched
        // by quoting it with the other quote.
        if (d === '\\' && j + 1 < filter.length && quote !== '`') {
          value += d + filter[j + 1];
          j += 2;
          continue;
        }
        if (d === quote) {
          if (filter[j + 1] === quote && quote !== '`') {
            value += quote + quote;
            j += 2;
            continue;
          }
          closed = true;
          j++;
          break;
        }
        value += d;
        j++;
      }
      if (!closed) fail(filter, `unterminated ${quote} quote at position ${i}`, kind);
      tokens.push({ t: quote === '`' ? 'backtick' : 'string', v: value, pos: i });
      i = j;
      continue;
    }
    const two = filter.slice(i, i + 2);
    if (two === '!=' || two === '<=' || two === '>=' || two === '<>') {
      tokens.push({ t: 'op', v: two === '<>' ? '!=' : two, pos: i });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      tokens.push({ t: 'op', v: c, pos: i });
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === '.') {
      tokens.push({ t: 'punct', v: c, pos: i });
      i++;
      continue;
    }
    const m = /^[A-Za-z0-9_\-+:/]+/.exec(filter.slice(i));
    if (!m) fail(filter, `unexpected character '${c}' at position ${i}`, kind);
    tokens.push({ t: 'word', v: m[0], pos: i });
    i += m[0].length;
  }
  return tokens;
}

/** Parses a filter string into clauses (an empty filter has none). */
export function parseFilter(kind: SearchKind, filter: string | undefined): FilterClause[] {
  if (filter === undefined || filter.trim() === '') return [];
  if (filter.length > MAX_FILTER_LENGTH) {
    throw new InvalidParameterError(
      `Invalid filter: it has ${filter.length} characters; the limit is ${MAX_FILTER_LENGTH}.`,
    );
  }
  const tokens = tokenize(filter, kind);
  const clauses: FilterClause[] = [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];

  while (i < tokens.length) {
    // ---- key
    const first = next()!;
    let key: FilterKey;
    if (first.t === 'word' && /^tags?$/i.test(first.v) && peek()?.t === 'punct' && peek()!.v === '.') {
      next();
      const keyTok = next();
      if (!keyTok) fail(filter, 'a tag key is missing after tags.', kind);
      if (keyTok.t === 'backtick' || keyTok.t === 'string') key = { type: 'tag', name: keyTok.v };
      else if (keyTok.t === 'word') {
        // Unquoted tag keys may contain dots: tags.a.b is the tag 'a.b'.
        let name = keyTok.v;
        while (peek()?.t === 'punct' && peek()!.v === '.' && tokens[i + 1]?.t === 'word') {
          next();
          name += `.${next()!.v}`;
        }
        key = { type: 'tag', name };
      } else fail(filter, `a tag key is missing at position ${keyTok.pos}`, kind);
    } else if (first.t === 'word' || first.t === 'backtick') {
      const raw = first.t === 'word' ? first.v.toLowerCase() : first.v;
      if (first.t === 'word' && /^(or|not)$/i.test(first.v))
        fail(filter, `${first.v.toUpperCase()} is not supported`, kind);
      const attr = ATTRIBUTES[kind].find((a) => a === raw);
      if (!attr) fail(filter, `unknown key '${first.v}'`, kind);
      key = { type: 'attribute', name: attr };
    } else if (first.t === 'punct' && (first.v === '(' || first.v === ')')) {
      fail(filter, 'parentheses are not supported', kind);
    } else {
      fail(filter, `expected a key at position ${first.pos}`, kind);
    }

    // ---- comparator
    const opTok = next();
    if (!opTok) fail(filter, `a comparison is missing after '${key.name}'`, kind);
    let comparator: Comparator;
    if (opTok.t === 'op') comparator = opTok.v as Comparator;
    else if (opTok.t === 'word' && /^(like|ilike|in)$/i.test(opTok.v))
      comparator = opTok.v.toUpperCase() as Comparator;
    else if (opTok.t === 'word' && /^not$/i.test(opTok.v)) fail(filter, 'NOT is not supported', kind);
    else fail(filter, `unknown comparison '${opTok.v}' after '${key.name}'`, kind);

    const isNumeric = key.type === 'attribute' && key.name === 'version_number';
    if (comparator === 'IN') {
      if (!(key.type === 'attribute' && key.name === 'run_id'))
        fail(filter, `IN is only supported for run_id`, kind);
      const open = next();
      if (!open || open.t !== 'punct' || open.v !== '(')
        fail(filter, "IN takes a list such as ('a', 'b')", kind);
      const values: string[] = [];
      for (;;) {
        const v = next();
        if (!v || v.t !== 'string') fail(filter, 'IN takes a list of quoted strings', kind);
        values.push(v.v);
        const sep = next();
        if (sep?.t === 'punct' && sep.v === ')') break;
        if (!(sep?.t === 'punct' && sep.v === ',')) fail(filter, "IN takes a list such as ('a', 'b')", kind);
      }
      clauses.push({ key, comparator, value: values });
    } else {
      if (isNumeric ? !NUMERIC_OPS.includes(comparator) : !STRING_OPS.includes(comparator)) {
        fail(
          filter,
          `'${comparator}' cannot be used with ${key.type === 'tag' ? `tags.${key.name}` : key.name}`,
          kind,
        );
      }
      const valueTok = next();
      if (!valueTok) fail(filter, `a value is missing after '${key.name} ${comparator}'`, kind);
      if (isNumeric) {
        const text = valueTok.t === 'string' || valueTok.t === 'word' ? valueTok.v : '';
        if (!/^\d{1,10}$/.test(text))
          fail(filter, `version_number must be compared with an integer, got '${valueTok.v}'`, kind);
        clauses.push({ key, comparator, value: Number(text) });
      } else {
        if (valueTok.t !== 'string')
          fail(filter, `the value for ${key.name} must be a quoted string, got '${valueTok.v}'`, kind);
        clauses.push({ key, comparator, value: valueTok.v });
      }
    }

    // ---- AND or end
    const joiner = next();
    if (!joiner) break;
    if (joiner.t === 'word' && /^and$/i.test(joiner.v)) {
      if (i >= tokens.length) fail(filter, 'a clause is missing after AND', kind);
      continue;
    }
    if (joiner.t === 'word' && /^or$/i.test(joiner.v)) fail(filter, 'OR is not supported (only AND)', kind);
    if (joiner.t === 'punct' && (joiner.v === '(' || joiner.v === ')'))
      fail(filter, 'parentheses are not supported', kind);
    fail(filter, `expected AND at position ${joiner.pos}, got '${joiner.v}'`, kind);
  }
  if (clauses.length > MAX_CLAUSES) {
    throw new InvalidParameterError(
      `Invalid filter: it has ${clauses.length} clauses; the limit is ${MAX_CLAUSES}.`,
    );
  }
  return clauses;
}

/** Parses order_by terms such as `name`, `version_number DESC`. */
export function parseOrderBy(kind: SearchKind, orderBy: readonly string[] | undefined): OrderTerm[] {
  const terms: OrderTerm[] = [];
  for (const raw of orderBy ?? []) {
    const m = /^\s*`?([A-Za-z_]+)`?\s*(ASC|DESC)?\s*$/i.exec(raw);
    const key = m?.[1]?.toLowerCase() as OrderKey | undefined;
    if (!m || !key || !ORDER_KEYS[kind].includes(key)) {
      throw new InvalidParameterError(
        `Invalid order_by '${raw.slice(0, 100)}': use one of ${ORDER_KEYS[kind].join(', ')}, optionally followed by ASC or DESC.`,
      );
    }
    if (terms.some((t) => t.key === key)) {
      throw new InvalidParameterError(`Invalid order_by: '${key}' is given more than once.`);
    }
    terms.push({ key, direction: (m[2]?.toUpperCase() as 'ASC' | 'DESC' | undefined) ?? 'ASC' });
  }
  if (terms.length > MAX_ORDER_TERMS) {
    throw new InvalidParameterError(`Invalid order_by: at most ${MAX_ORDER_TERMS} terms.`);
  }
  return terms;
}

/** The user's terms followed by MLflow's tiebreaks (and, with no terms, MLflow's default order). */
export function effectiveOrder(kind: SearchKind, terms: readonly OrderTerm[]): OrderTerm[] {
  const defaults: OrderTerm[] =
    kind === 'models'
      ? [{ key: 'name', direction: 'ASC' }]
      : [
          ...(terms.length === 0 ? [{ key: 'last_updated_timestamp', direction: 'DESC' } as OrderTerm] : []),
          { key: 'name', direction: 'ASC' },
          { key: 'version_number', direction: 'DESC' },
        ];
  const out = [...terms];
  for (const d of defaults) if (!out.some((t) => t.key === d.key)) out.push(d);
  return out;
}

/** SQL LIKE: `%` is any sequence, `_` any one character; everything else is literal. */
export function likeMatch(value: string, pattern: string, caseInsensitive: boolean): boolean {
  const v = caseInsensitive ? value.toLowerCase() : value;
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  // Iterative wildcard matching (no regular expression built from user input).
  let vi = 0;
  let pi = 0;
  let starP = -1;
  let starV = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === '_' || p[pi] === v[vi])) {
      vi++;
      pi++;
    } else if (pi < p.length && p[pi] === '%') {
      starP = pi++;
      starV = vi;
    } else if (starP >= 0) {
      pi = starP + 1;
      vi = ++starV;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '%') pi++;
  return pi === p.length;
}

function attributeValue(entity: Searchable, key: FilterKey): string | number | undefined {
  if (key.type === 'tag') return entity.tags[key.name];
  switch (key.name) {
    case 'name':
      return entity.name;
    case 'run_id':
      return entity.runId;
    case 'source_path':
      return entity.source;
    case 'version_number':
      return entity.version;
  }
}

function clauseMatches(entity: Searchable, clause: FilterClause): boolean {
  const actual = attributeValue(entity, clause.key);
  if (actual === undefined) {
    // A missing value matches only `!=`: MLflow's client appends
    // tag.`mlflow.prompt.is_prompt` != 'true' to every model search, and models without the
    // tag must still be found.
    return clause.comparator === '!=' && clause.key.type === 'tag';
  }
  const expected = clause.value;
  switch (clause.comparator) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case 'LIKE':
      return likeMatch(String(actual), String(expected), false);
    case 'ILIKE':
      return likeMatch(String(actual), String(expected), true);
    case 'IN':
      return (expected as readonly string[]).includes(String(actual));
    case '<':
      return Number(actual) < Number(expected);
    case '<=':
      return Number(actual) <= Number(expected);
    case '>':
      return Number(actual) > Number(expected);
    case '>=':
      return Number(actual) >= Number(expected);
  }
}

export function matchesFilter(entity: Searchable, clauses: readonly FilterClause[]): boolean {
  return clauses.every((c) => clauseMatches(entity, c));
}

/**
 * Text in code point order: the order of UTF-8 bytes, which is how DynamoDB sorts keys and how
 * MLflow's SQL store (binary collation) sorts names. JavaScript's `<` compares UTF-16 code units,
 * which puts U+E000–U+FFFF after the characters beyond U+FFFF.
 */
export function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (>= 0xD800, < 0xE000) stands for a code point above 0xFFFF.
    const rank = (c: number) => (c >= 0xd800 && c < 0xe000 ? c + 0x10000 : c);
    return rank(x) - rank(y);
  }
  return a.length - b.length;
}

export function compareBy(order: readonly OrderTerm[]): (a: Searchable, b: Searchable) => number {
  const value = (e: Searchable, key: OrderKey): string | number =>
    key === 'name'
      ? e.name
      : key === 'version_number'
        ? (e.version ?? 0)
        : key === 'creation_timestamp'
          ? e.creationTimestamp
          : e.lastUpdatedTimestamp;
  return (a, b) => {
    for (const term of order) {
      const x = value(a, term.key);
      const y = value(b, term.key);
      const cmp = typeof x === 'number' && typeof y === 'number' ? x - y : compareText(String(x), String(y));
      if (cmp !== 0) return term.direction === 'ASC' ? cmp : -cmp;
    }
    return 0;
  };
}

/** The value of `<attr> = 'x'` if the filter has such a clause (the storage layer plans with it). */
export function equalityValue(clauses: readonly FilterClause[], attr: 'name' | 'run_id'): string | undefined {
  const c = clauses.find((x) => x.key.type === 'attribute' && x.key.name === attr && x.comparator === '=');
  return c && typeof c.value === 'string' ? c.value : undefined;
}
