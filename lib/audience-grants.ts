/**
 * What each audience of the API (the `audience` of each route in functions/api/contract.ts) is
 * granted, as IAM reads it. A route's execute-api resource ARN ends in `<METHOD>/<path>` with `*`
 * for each path parameter, and in IAM `*` matches any characters, `/` included: `DELETE/models/*`
 * (a registrant deleting a model) also matches `DELETE/models/fraud/policy` (a policy admin
 * removing the model's policy). So an audience's grant is the ARNs of its routes (Allow) and the
 * ARNs of the other audiences' routes those reach (Deny).
 *
 * Plain data: the construct's `grant(audience, grantee)` and docs/iam.md
 * (scripts/generate-iam-docs.ts) both come from here.
 */
import { AUDIENCES, type Audience, audienceOf, type OperationSpec } from '../functions/api/contract';
import { ALL_OPERATIONS } from '../functions/api/routes';

/** `<METHOD>/<path>` with `*` for each path parameter: the route's part of its execute-api ARN. */
export function routePattern(op: Pick<OperationSpec, 'method' | 'path'>): string {
  return `${op.method}${op.path.replace(/\{[^}]+\}/g, '*')}`;
}

/** Whether an IAM resource pattern (`*`: any characters, `/` included; `?`: one) matches `value`. */
export function iamPatternMatches(pattern: string, value: string): boolean {
  // Iterative glob matching with one backtrack point: linear in practice, never exponential.
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === value[v])) {
      p++;
      v++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Every literal path segment of the API (`models`, `policy`, `aliases`, …). */
const LITERALS = [
  ...new Set(ALL_OPERATIONS.flatMap((o) => o.path.split('/').filter((s) => s && !s.startsWith('{')))),
];

/** An ordinary value of a path parameter (versions are numbers, the rest are names). */
const ordinary = (parameter: string) => (parameter === 'version' ? '1' : 'x');

/** A route's request (`<METHOD>/<path>`) with these parameter values (ordinary ones for the rest). */
function request(op: Pick<OperationSpec, 'method' | 'path'>, values: Readonly<Record<string, string>> = {}) {
  return `${op.method}${op.path.replace(/\{([^}]+)\}/g, (_, name: string) => values[name] ?? ordinary(name))}`;
}

const parametersOf = (op: Pick<OperationSpec, 'path'>) =>
  [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!).filter((name) => name !== 'version');

/**
 * Concrete requests (`<METHOD>/<path>`) a route serves: its parameters as ordinary values, and as
 * every combination of literal segments of the API (a model named `policy`, an alias named
 * `rollback`, …) — the values with which one route's path can look like another's.
 */
export function sampleRequests(op: Pick<OperationSpec, 'method' | 'path'>): string[] {
  let combos: Record<string, string>[] = [{}];
  for (const name of parametersOf(op)) {
    combos = combos.flatMap((c) => [ordinary(name), ...LITERALS].map((value) => ({ ...c, [name]: value })));
  }
  return combos.map((c) => request(op, c));
}

/** A request to one of an audience's own routes that a denied ARN also matches. */
export interface Collateral {
  readonly operationId: string;
  readonly parameter: string;
  /** The parameter's value (a literal segment of the API) that makes the request match. */
  readonly value: string;
}

export interface AudienceGrant {
  readonly audience: Audience;
  /** The audience's routes: `execute-api:Invoke` is allowed on their ARNs. */
  readonly allow: readonly OperationSpec[];
  /** Routes of other audiences that the allowed ARNs also match: denied. */
  readonly deny: readonly OperationSpec[];
  /**
   * Requests to the audience's own routes that a denied ARN also matches, and so are refused:
   * only with a path parameter named like a segment of the API (e.g. an alias named `policy`).
   */
  readonly collateral: readonly Collateral[];
}

const reaches = (patterns: readonly string[], op: OperationSpec) =>
  sampleRequests(op).some((r) => patterns.some((p) => iamPatternMatches(p, r)));

function computeGrant(audience: Audience): AudienceGrant {
  const allow = ALL_OPERATIONS.filter((o) => audienceOf(o) === audience);
  const allowed = allow.map(routePattern);
  const deny = ALL_OPERATIONS.filter((o) => audienceOf(o) !== audience && reaches(allowed, o));
  const denied = deny.map(routePattern);
  const isDenied = (r: string) => denied.some((p) => iamPatternMatches(p, r));
  for (const op of allow) {
    if (isDenied(request(op)))
      throw new Error(`The grant of '${audience}' would deny its own route ${request(op)}`);
  }
  const collateral = allow.flatMap((op) =>
    parametersOf(op).flatMap((parameter) =>
      LITERALS.filter((value) => isDenied(request(op, { [parameter]: value }))).map((value) => ({
        operationId: op.operationId,
        parameter,
        value,
      })),
    ),
  );
  return { audience, allow, deny, collateral };
}

const GRANTS = new Map<Audience, AudienceGrant>();

/** What `audience` is granted: Allow on its routes, Deny on the other routes those ARNs reach. */
export function audienceGrant(audience: Audience): AudienceGrant {
  if (!AUDIENCES.includes(audience)) throw new Error(`Unknown audience '${audience}'`);
  let grant = GRANTS.get(audience);
  if (!grant) {
    grant = computeGrant(audience);
    GRANTS.set(audience, grant);
  }
  return grant;
}
