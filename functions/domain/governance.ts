/**
 * Governance rules: which stages and aliases are guarded, how many approvals a change needs, who
 * may approve, how long a request may wait, whether live versions may be deleted, the quality
 * gates (metric thresholds, required model card sections) a version must pass, and how a policy
 * compares with another (which is stricter, which change weakens it). Plain data and pure
 * functions.
 *
 * A policy has one shape: `GovernancePolicy`. Every field is declared once in `POLICY_FIELDS`, with
 * its wire name and schema, how two values combine into the stricter one and whether a change
 * weakens it; the wire schema, the parser, the formatter and the comparisons all come from there.
 */
import { z } from 'zod';
import { InvalidParameterError } from './errors';
import type { Actor } from './identity';
import { STAGES, type Stage } from './model';
import { CARD_SECTIONS, type CardSection, type ModelCard, missingSections } from './model-card';
import { ALIAS_PATTERN, describeValue } from './rules';

export type GateOperator = '>=' | '>' | '<=' | '<' | '==';
const OPERATORS: readonly GateOperator[] = ['>=', '<=', '==', '>', '<'];

export interface QualityGate {
  readonly metric: string;
  readonly operator: GateOperator;
  readonly threshold: number;
}

export interface GovernancePolicy {
  /** Target stages whose transitions need approval. Empty: every transition applies at once. */
  readonly guardedStages: readonly Stage[];
  /** Aliases that move only through an approved request (what `models:/name@alias` serves). */
  readonly protectedAliases: readonly string[];
  /** Distinct approvers a request needs. */
  readonly requiredApprovals: number;
  /** Whether the requester may approve their own request. */
  readonly requesterMayApprove: boolean;
  /** How long a request waits for its approvals before it expires. */
  readonly requestTtlHours: number;
  /** Refuse deleting a version in a guarded stage or with an alias (and a model that has one). */
  readonly protectLiveVersions: boolean;
  /** Checked before anyone is asked to approve, and again before the change applies. */
  readonly qualityGates: readonly QualityGate[];
  /**
   * Model card sections a version must have filled in (functions/domain/model-card.ts `isFilled`):
   * a gate checked with the quality gates.
   */
  readonly requiredCardSections: readonly CardSection[];
  /** Whether rollback checks the quality gates of the version it re-promotes. */
  readonly rollbackRequiresGates: boolean;
  /** Whether a change that weakens this policy waits for another person's approval. */
  readonly policyChangesNeedApproval: boolean;
}

/** A model's overrides of the deployment's policy (any non-empty subset of the fields). */
export type PolicyOverride = Partial<GovernancePolicy>;

// ------------------------------------------------------------------ quality gates

const MAX_GATE_LENGTH = 300;
const METRIC_NAME = /^[\w.\-/ ]{1,250}$/;
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * Parses `accuracy >= 0.9`, in time linear in its length: the operator is found by one scan, then
 * each side is checked by an anchored pattern with no nested or overlapping repetition, so no
 * input can make it backtrack.
 */
export function parseGate(text: string): QualityGate {
  const invalid = (why: string) =>
    new InvalidParameterError(
      `Invalid quality gate ${describeValue(String(text))}: ${why}. Write <metric> <op> <number> with op one of >=, >, <=, <, ==, e.g. 'accuracy >= 0.9'.`,
    );
  if (typeof text !== 'string') throw invalid('a gate is a string');
  if (text.length > MAX_GATE_LENGTH) throw invalid(`a gate is at most ${MAX_GATE_LENGTH} characters`);
  let at = -1;
  let operator: GateOperator | undefined;
  for (let i = 0; i < text.length && at < 0; i++) {
    const c = text[i];
    if (c !== '>' && c !== '<' && c !== '=') continue;
    operator = OPERATORS.find((op) => text.startsWith(op, i));
    if (!operator) throw invalid(`'${c}' is not an operator`);
    at = i;
  }
  if (!operator || at < 0) throw invalid('no comparison operator');
  const metric = text.slice(0, at).trim();
  const value = text.slice(at + operator.length).trim();
  if (!METRIC_NAME.test(metric)) throw invalid('the metric name is 1-250 letters, digits, _ . - / or spaces');
  if (!NUMBER.test(value) || !Number.isFinite(Number(value))) throw invalid('the threshold is not a number');
  return { metric, operator, threshold: Number(value) };
}

export function formatGate(g: QualityGate): string {
  return `${g.metric} ${g.operator} ${g.threshold}`;
}

function passes(value: number, gate: QualityGate): boolean {
  switch (gate.operator) {
    case '>=':
      return value >= gate.threshold;
    case '>':
      return value > gate.threshold;
    case '<=':
      return value <= gate.threshold;
    case '<':
      return value < gate.threshold;
    case '==':
      return value === gate.threshold;
  }
}

/** The gates a version's metrics fail, each as a sentence naming the metric and its value. */
export function failedGates(
  metrics: Readonly<Record<string, number>>,
  gates: readonly QualityGate[],
): string[] {
  const failures: string[] = [];
  for (const gate of gates) {
    const value = Object.hasOwn(metrics, gate.metric) ? metrics[gate.metric] : undefined;
    if (value === undefined) failures.push(`${gate.metric} is missing (needs ${formatGate(gate)})`);
    else if (!passes(value, gate)) failures.push(`${gate.metric} = ${value} (needs ${formatGate(gate)})`);
  }
  return failures;
}

/**
 * Every quality gate a version fails, each as a sentence: its metrics against the metric gates,
 * then its model card (absent: none written) against the required sections.
 */
export function gateFailures(
  version: { readonly metrics: Readonly<Record<string, number>> },
  card: ModelCard | undefined,
  policy: Pick<GovernancePolicy, 'qualityGates' | 'requiredCardSections'>,
): string[] {
  const failures = failedGates(version.metrics, policy.qualityGates);
  const missing = missingSections(card, policy.requiredCardSections);
  if (missing.length) {
    failures.push(
      card
        ? `model card lacks ${missing.join(', ')} (needs required_card_sections filled in)`
        : `model card is missing (needs ${missing.join(', ')} filled in)`,
    );
  }
  return failures;
}

/** The values a gate (or a conjunction of gates) lets through, as an interval of the reals. */
interface Interval {
  readonly lo: number;
  readonly loOpen: boolean;
  readonly hi: number;
  readonly hiOpen: boolean;
}
const EVERYTHING: Interval = { lo: -Infinity, loOpen: true, hi: Infinity, hiOpen: true };

function intervalOf(g: QualityGate): Interval {
  switch (g.operator) {
    case '>=':
      return { ...EVERYTHING, lo: g.threshold, loOpen: false };
    case '>':
      return { ...EVERYTHING, lo: g.threshold, loOpen: true };
    case '<=':
      return { ...EVERYTHING, hi: g.threshold, hiOpen: false };
    case '<':
      return { ...EVERYTHING, hi: g.threshold, hiOpen: true };
    case '==':
      return { lo: g.threshold, loOpen: false, hi: g.threshold, hiOpen: false };
  }
}

function intersect(a: Interval, b: Interval): Interval {
  const lo = a.lo > b.lo ? a : b.lo > a.lo ? b : { lo: a.lo, loOpen: a.loOpen || b.loOpen };
  const hi = a.hi < b.hi ? a : b.hi < a.hi ? b : { hi: a.hi, hiOpen: a.hiOpen || b.hiOpen };
  return { lo: lo.lo, loOpen: lo.loOpen, hi: hi.hi, hiOpen: hi.hiOpen };
}

const isEmpty = (i: Interval) => i.lo > i.hi || (i.lo === i.hi && (i.loOpen || i.hiOpen));

/** Whether every value in `a` is in `b`. */
function within(a: Interval, b: Interval): boolean {
  if (isEmpty(a)) return true;
  const loOk = b.lo < a.lo || (b.lo === a.lo && (!b.loOpen || a.loOpen));
  const hiOk = b.hi > a.hi || (b.hi === a.hi && (!b.hiOpen || a.hiOpen));
  return loOk && hiOk;
}

/** Whether passing every gate of `gates` implies passing `gate` (for any metric values). */
export function gatesImply(gates: readonly QualityGate[], gate: QualityGate): boolean {
  const allowed = gates
    .filter((g) => g.metric === gate.metric)
    .map(intervalOf)
    .reduce(intersect, EVERYTHING);
  return within(allowed, intervalOf(gate));
}

// ------------------------------------------------------------------ the policy's fields

interface FieldSpec<T, W extends string = string, S extends z.ZodType = z.ZodType> {
  /** Name on the wire (API bodies, GOVERNANCE_POLICY, events). */
  readonly wire: W;
  /** Reads the field from the wire (validation messages name the field). */
  readonly schema: z.ZodType<T>;
  /** The field as the API shows it (responses, the OpenAPI document). */
  readonly shown: S;
  readonly toWire: (value: T) => unknown;
  /** The stricter of two values (a request is judged by the stricter of two policies). */
  readonly stricter: (a: T, b: T) => T;
  /** Why `after` weakens `before`, or undefined if it does not. */
  readonly weakens: (before: T, after: T) => string | undefined;
}

/** A field spec with its value type fixed and its wire name and shown schema kept literal. */
const field =
  <T>() =>
  <const W extends string, S extends z.ZodType>(spec: FieldSpec<T, W, S>) =>
    spec;
const union = <T>(a: readonly T[], b: readonly T[]) => [...new Set([...a, ...b])];
const removed = <T>(before: readonly T[], after: readonly T[]) => before.filter((x) => !after.includes(x));
const flag = <const W extends string>(wire: W, strictValue: boolean) =>
  field<boolean>()({
    wire,
    schema: z.boolean({ error: `${wire} must be true or false` }),
    shown: z.boolean(),
    toWire: (v) => v,
    stricter: (a: boolean, b: boolean) =>
      a === strictValue || b === strictValue ? strictValue : !strictValue,
    weakens: (before: boolean, after: boolean) =>
      before === strictValue && after !== strictValue ? `${wire} ${before} → ${after}` : undefined,
  });

const stageSchema = z.string().transform((value, ctx): Stage => {
  const found = STAGES.find((s) => s.toLowerCase() === value.trim().toLowerCase());
  if (!found || found === 'None') {
    ctx.addIssue({
      code: 'custom',
      message: `${describeValue(value)} is not a stage that can be guarded; choose from Staging, Production, Archived`,
    });
    return z.NEVER;
  }
  return found;
});

const gateSchema = z.string().transform((value, ctx): QualityGate => {
  try {
    return parseGate(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const cardSectionSchema = z.string().transform((value, ctx): CardSection => {
  const found = CARD_SECTIONS.find((s) => s === value.trim());
  if (!found) {
    ctx.addIssue({
      code: 'custom',
      message: `${describeValue(value)} is not a model card section; choose from ${CARD_SECTIONS.join(', ')}`,
    });
    return z.NEVER;
  }
  return found;
});

const aliasSchema = z
  .string()
  .refine((a) => ALIAS_PATTERN.test(a), 'an alias is 1-255 characters of letters, digits, _ and -');

export const POLICY_FIELDS = {
  guardedStages: field<readonly Stage[]>()({
    wire: 'guarded_stages',
    schema: z
      .array(stageSchema)
      .max(STAGES.length)
      .transform((s) => [...new Set(s)]),
    shown: z.array(z.enum(STAGES)).describe('Target stages whose transitions need approval.'),
    toWire: (v) => [...v],
    stricter: union,
    weakens: (b, a) => {
      const gone = removed(b, a);
      return gone.length
        ? `stage${gone.length > 1 ? 's' : ''} ${gone.join(', ')} no longer guarded`
        : undefined;
    },
  }),
  protectedAliases: field<readonly string[]>()({
    wire: 'protected_aliases',
    schema: z
      .array(aliasSchema)
      .max(100)
      .transform((s) => [...new Set(s)]),
    shown: z.array(z.string()).describe('Aliases that move only through an approved request.'),
    toWire: (v) => [...v],
    stricter: union,
    weakens: (b, a) => {
      const gone = removed(b, a);
      return gone.length
        ? `alias${gone.length > 1 ? 'es' : ''} ${gone.map((x) => `@${x}`).join(', ')} no longer protected`
        : undefined;
    },
  }),
  requiredApprovals: field<number>()({
    wire: 'required_approvals',
    schema: z.number().int().min(1).max(10, 'required_approvals is an integer from 1 to 10'),
    shown: z
      .number()
      .int()
      .describe('Distinct people who must approve (never the requester, unless allowed).'),
    toWire: (v) => v,
    stricter: Math.max,
    weakens: (b, a) => (a < b ? `required_approvals ${b} → ${a}` : undefined),
  }),
  requesterMayApprove: flag('requester_may_approve', false),
  requestTtlHours: field<number>()({
    wire: 'request_ttl_hours',
    schema: z
      .number()
      .positive()
      .max(365 * 24, 'request_ttl_hours is at most 8760 (one year)'),
    shown: z.number().describe('How long a request waits for its approvals.'),
    toWire: (v) => v,
    stricter: Math.min,
    // A longer wait gives reviewers more time; it lets nothing through that was refused.
    weakens: () => undefined,
  }),
  protectLiveVersions: flag('protect_live_versions', true),
  qualityGates: field<readonly QualityGate[]>()({
    wire: 'quality_gates',
    schema: z.array(gateSchema).max(50, 'at most 50 quality gates'),
    shown: z.array(z.string()).describe("Metric thresholds such as 'accuracy >= 0.9'."),
    toWire: (v) => v.map(formatGate),
    stricter: (a, b) => {
      const seen = new Set(a.map(formatGate));
      return [...a, ...b.filter((g) => !seen.has(formatGate(g)))];
    },
    weakens: (b, a) => {
      const loosened = b.filter((g) => !gatesImply(a, g));
      return loosened.length
        ? `quality gate${loosened.length > 1 ? 's' : ''} ${loosened.map((g) => `'${formatGate(g)}'`).join(', ')} removed or loosened`
        : undefined;
    },
  }),
  requiredCardSections: field<readonly CardSection[]>()({
    wire: 'required_card_sections',
    schema: z
      .array(cardSectionSchema)
      .max(CARD_SECTIONS.length)
      .transform((s) => CARD_SECTIONS.filter((x) => s.includes(x))),
    shown: z
      .array(z.enum(CARD_SECTIONS))
      .describe(
        'Model card sections a version must have filled in before it enters a guarded stage or a protected alias (a quality gate).',
      ),
    toWire: (v) => [...v],
    stricter: (a, b) => CARD_SECTIONS.filter((x) => a.includes(x) || b.includes(x)),
    weakens: (b, a) => {
      const gone = removed(b, a);
      return gone.length
        ? `model card section${gone.length > 1 ? 's' : ''} ${gone.join(', ')} no longer required`
        : undefined;
    },
  }),
  rollbackRequiresGates: flag('rollback_requires_gates', true),
  policyChangesNeedApproval: flag('policy_changes_need_approval', true),
} as const satisfies { [K in keyof GovernancePolicy]: FieldSpec<GovernancePolicy[K]> };

type FieldName = keyof GovernancePolicy;
const FIELD_NAMES = Object.keys(POLICY_FIELDS) as FieldName[];

export const DEFAULT_POLICY: GovernancePolicy = {
  guardedStages: ['Production'],
  protectedAliases: ['champion'],
  requiredApprovals: 1,
  requesterMayApprove: false,
  requestTtlHours: 7 * 24,
  protectLiveVersions: true,
  qualityGates: [],
  requiredCardSections: [],
  rollbackRequiresGates: true,
  policyChangesNeedApproval: true,
};

/** Every guard off: the registry behaves as MLflow's does (the `mlflow` profile). */
export const MLFLOW_POLICY: GovernancePolicy = {
  guardedStages: [],
  protectedAliases: [],
  requiredApprovals: 1,
  requesterMayApprove: true,
  requestTtlHours: 7 * 24,
  protectLiveVersions: false,
  qualityGates: [],
  requiredCardSections: [],
  rollbackRequiresGates: false,
  policyChangesNeedApproval: false,
};

/** Named deployment policies (`GOVERNANCE_POLICY=mlflow`). */
export const POLICY_PROFILES: Readonly<Record<string, GovernancePolicy>> = {
  governed: DEFAULT_POLICY,
  mlflow: MLFLOW_POLICY,
};

/** The wire schema of a (partial) policy: snake_case, every field optional, nothing else. */
export const policyOverrideSchema = z
  .object(
    Object.fromEntries(FIELD_NAMES.map((k) => [POLICY_FIELDS[k].wire, POLICY_FIELDS[k].schema.optional()])),
  )
  .strict();

type ShownShape = {
  [K in FieldName as (typeof POLICY_FIELDS)[K]['wire']]: (typeof POLICY_FIELDS)[K]['shown'];
};

/** A whole policy as the API shows it (responses, the OpenAPI document). */
export const policyWireSchema = z.object(
  Object.fromEntries(FIELD_NAMES.map((k) => [POLICY_FIELDS[k].wire, POLICY_FIELDS[k].shown])) as ShownShape,
);

/**
 * Validates a policy given as JSON (a model's override, or the deployment's configuration).
 * Unknown fields, `__proto__`, `null`, an empty object and wrong types are refused with the name
 * of the offending field.
 */
export function parsePolicyOverride(input: unknown, where = 'policy'): PolicyOverride {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidParameterError(
      `${where} must be an object with at least one of ${FIELD_NAMES.map((k) => POLICY_FIELDS[k].wire).join(', ')}.`,
    );
  }
  const result = policyOverrideSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new InvalidParameterError(
        `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => describeValue(k)).join(', ')}; the fields are ${FIELD_NAMES.map((k) => POLICY_FIELDS[k].wire).join(', ')}.`,
      );
    }
    const path = [where, ...issue.path.map(String)].join('.');
    throw new InvalidParameterError(`${path}: ${issue.message}.`);
  }
  const out: Record<string, unknown> = {};
  for (const k of FIELD_NAMES) {
    const value = (result.data as Record<string, unknown>)[POLICY_FIELDS[k].wire];
    if (value !== undefined) out[k] = value;
  }
  if (Object.keys(out).length === 0) {
    throw new InvalidParameterError(
      `${where} is empty: give at least one field to override, or remove the model's overrides with DELETE /models/{name}/policy.`,
    );
  }
  return out as PolicyOverride;
}

/**
 * Reads a deployment policy: a profile name (`governed`, `mlflow`) or JSON of a policy over the
 * governed defaults (GOVERNANCE_POLICY, `npm start -- --policy`, the construct's prop).
 */
export function parseDeploymentPolicy(text: string | undefined): GovernancePolicy {
  if (!text || !text.trim()) return DEFAULT_POLICY;
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    const profile = Object.hasOwn(POLICY_PROFILES, trimmed) ? POLICY_PROFILES[trimmed] : undefined;
    if (!profile) {
      throw new InvalidParameterError(
        `Unknown governance policy profile '${trimmed.slice(0, 40)}': use ${Object.keys(POLICY_PROFILES).join(' or ')}, or a JSON policy.`,
      );
    }
    return profile;
  }
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    throw new InvalidParameterError('The governance policy is neither a profile name nor valid JSON.');
  }
  return effectivePolicy(DEFAULT_POLICY, parsePolicyOverride(json, 'governance policy'));
}

export function effectivePolicy(deployment: GovernancePolicy, override?: PolicyOverride): GovernancePolicy {
  return { ...deployment, ...(override ?? {}) };
}

/** The policy (or override) as JSON, snake_case, as the API shows it. */
/** A policy as the API shows it. */
export type PolicyWire = z.input<typeof policyWireSchema>;

/** A whole policy has every wire field; an override only those it sets. */
export function policyToWire(p: GovernancePolicy): PolicyWire;
export function policyToWire(p: PolicyOverride): Partial<PolicyWire>;
export function policyToWire(p: PolicyOverride): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of FIELD_NAMES) {
    const value = p[k];
    if (value !== undefined)
      out[POLICY_FIELDS[k].wire] = (POLICY_FIELDS[k].toWire as (v: unknown) => unknown)(value);
  }
  return out;
}

/** The stricter of two policies, field by field (open requests are judged by it). */
export function stricterPolicy(a: GovernancePolicy, b: GovernancePolicy): GovernancePolicy {
  const out: Record<string, unknown> = {};
  for (const k of FIELD_NAMES) {
    out[k] = (POLICY_FIELDS[k].stricter as (x: unknown, y: unknown) => unknown)(a[k], b[k]);
  }
  return out as unknown as GovernancePolicy;
}

/** How `after` weakens `before`: one sentence per weakened field (empty: not weaker). */
export function weakenings(before: GovernancePolicy, after: GovernancePolicy): string[] {
  const out: string[] = [];
  for (const k of FIELD_NAMES) {
    const why = (POLICY_FIELDS[k].weakens as (x: unknown, y: unknown) => string | undefined)(
      before[k],
      after[k],
    );
    if (why) out.push(why);
  }
  return out;
}

// ------------------------------------------------------------------ requests

export type RequestStatus =
  | 'PENDING'
  | 'APPROVED'
  | 'REJECTED'
  | 'EXPIRED'
  | 'CANCELLED'
  | 'APPLIED'
  | 'FAILED';

export const OPEN_STATUSES: readonly RequestStatus[] = ['PENDING', 'APPROVED'];
export const isOpen = (status: RequestStatus) => OPEN_STATUSES.includes(status);

/** Who did something: the person (compared) and the ARN (recorded). */
export type PrincipalRef = Actor;

export interface Approval extends PrincipalRef {
  readonly timestamp: number;
  readonly comment?: string;
}

/** What a governed request changes once approved. */
export type RequestTarget =
  | {
      readonly kind: 'stage';
      readonly fromStage: Stage;
      readonly toStage: Stage;
      readonly archiveExistingVersions: boolean;
    }
  | {
      readonly kind: 'alias';
      readonly alias: string;
      /** The version the alias pointed at when the request was filed (null: it did not exist). */
      readonly previousVersion: number | null;
    };

/** A requested change of what a model serves: a version into a guarded stage or onto a protected alias. */
export interface TransitionRequest {
  readonly id: string;
  readonly modelId: string;
  readonly name: string;
  readonly version: number;
  readonly target: RequestTarget;
  readonly requester: PrincipalRef;
  readonly comment?: string;
  readonly status: RequestStatus;
  /** Why it ended as it did (rejection reason, gate failures, apply error). */
  readonly reason?: string;
  readonly approvals: readonly Approval[];
  /** The effective policy when the request was filed; it is judged by the stricter of this and the current one. */
  readonly filedPolicy: GovernancePolicy;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number;
  /** The quality gates passed and the approval task waits (its token is stored). */
  readonly awaitingApproval: boolean;
}

/** A change of a model's policy that weakens it: it waits for another person's approval. */
export interface PolicyChangeRequest {
  readonly id: string;
  readonly modelId: string;
  readonly name: string;
  readonly requester: PrincipalRef;
  readonly comment?: string;
  readonly status: RequestStatus;
  readonly reason?: string;
  readonly approvals: readonly Approval[];
  /** The model's override when the request was filed, and the one it proposes (null: none). */
  readonly before: PolicyOverride | null;
  readonly after: PolicyOverride | null;
  /** How the proposal weakens the policy, one sentence per field. */
  readonly weakenings: readonly string[];
  readonly requiredApprovals: number;
  /** The model's policy revision the proposal was made against (it applies only to that one). */
  readonly policyRevision: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number;
}

/** The approvals that count under `policy`: distinct people, the requester only if allowed. */
export function countingApprovals(
  request: { readonly requester: PrincipalRef; readonly approvals: readonly Approval[] },
  requesterMayApprove: boolean,
): number {
  const people = new Set(
    request.approvals
      .filter((a) => requesterMayApprove || a.person !== request.requester.person)
      .map((a) => a.person),
  );
  return people.size;
}

/** Why `approver` may not approve a request judged by these rules, or undefined if they may. */
export function approvalRefusal(
  request: { readonly id: string; readonly requester: PrincipalRef; readonly approvals: readonly Approval[] },
  rules: { readonly requesterMayApprove: boolean; readonly requiredApprovals: number },
  approver: PrincipalRef,
): { readonly kind: 'separation-of-duties' | 'already-approved'; readonly message: string } | undefined {
  if (approver.person === request.requester.person && !rules.requesterMayApprove) {
    return {
      kind: 'separation-of-duties',
      message: `${approver.person} requested this change and cannot approve it: the policy requires an approver other than the requester (separation of duties). A second session of the same IAM role is the same person.`,
    };
  }
  if (request.approvals.some((a) => a.person === approver.person)) {
    return {
      kind: 'already-approved',
      message: `${approver.person} has already approved request ${request.id}; it needs ${rules.requiredApprovals} distinct approvers.`,
    };
  }
  return undefined;
}
