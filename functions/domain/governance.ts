/**
 * Governance rules: which stages are guarded, how many approvals they need, who may approve, how
 * long a request may wait, whether deletes of live versions are refused, and the quality gates
 * (metric thresholds) a version must pass before anyone is asked. Plain data and pure functions.
 */
import { InvalidParameterError } from './errors';
import { parseStage, type Stage } from './model';

export type GateOperator = '>=' | '>' | '<=' | '<' | '==';

export interface QualityGate {
  readonly metric: string;
  readonly operator: GateOperator;
  readonly threshold: number;
}

export interface GovernancePolicy {
  /** Target stages whose transitions need approval. Empty: every transition applies at once. */
  readonly guardedStages: readonly Stage[];
  /** Distinct approvers a request needs. */
  readonly requiredApprovals: number;
  /** Whether the requester may approve their own request. */
  readonly requesterMayApprove: boolean;
  /** How long a request waits for its approvals before it expires. */
  readonly requestTtlHours: number;
  /** Refuse deleting a version in Production or with an alias (and a model that has one). */
  readonly protectLiveVersions: boolean;
  /** Checked before anyone is asked to approve. */
  readonly qualityGates: readonly QualityGate[];
}

export const DEFAULT_POLICY: GovernancePolicy = {
  guardedStages: ['Production'],
  requiredApprovals: 1,
  requesterMayApprove: false,
  requestTtlHours: 7 * 24,
  protectLiveVersions: true,
  qualityGates: [],
};

/** Every guard off: the registry behaves as MLflow's does. */
export const UNGUARDED_POLICY: GovernancePolicy = {
  guardedStages: [],
  requiredApprovals: 1,
  requesterMayApprove: true,
  requestTtlHours: 7 * 24,
  protectLiveVersions: false,
  qualityGates: [],
};

/** A model's overrides of the deployment's policy (any subset of the fields). */
export type PolicyOverride = Partial<GovernancePolicy>;

export function effectivePolicy(deployment: GovernancePolicy, override?: PolicyOverride): GovernancePolicy {
  return { ...deployment, ...(override ?? {}) };
}

const GATE = /^\s*([\w.\-/ ]{1,250}?)\s*(>=|<=|==|>|<)\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;

/** Parses `accuracy >= 0.9`. */
export function parseGate(text: string): QualityGate {
  const m = GATE.exec(text);
  if (!m) {
    throw new InvalidParameterError(
      `Invalid quality gate '${text}': write <metric> <op> <number> with op one of >=, >, <=, <, ==, e.g. 'accuracy >= 0.9'.`,
    );
  }
  return { metric: m[1]!, operator: m[2] as GateOperator, threshold: Number(m[3]) };
}

export function formatGate(g: QualityGate): string {
  return `${g.metric} ${g.operator} ${g.threshold}`;
}

/** The gates a version's metrics fail, each as a sentence naming the metric and its value. */
export function failedGates(
  metrics: Readonly<Record<string, number>>,
  gates: readonly QualityGate[],
): string[] {
  const failures: string[] = [];
  for (const gate of gates) {
    const value = metrics[gate.metric];
    if (value === undefined) {
      failures.push(`${gate.metric} is missing (needs ${formatGate(gate)})`);
      continue;
    }
    const ok =
      gate.operator === '>='
        ? value >= gate.threshold
        : gate.operator === '>'
          ? value > gate.threshold
          : gate.operator === '<='
            ? value <= gate.threshold
            : gate.operator === '<'
              ? value < gate.threshold
              : value === gate.threshold;
    if (!ok) failures.push(`${gate.metric} = ${value} (needs ${formatGate(gate)})`);
  }
  return failures;
}

/** Validates a policy given as JSON (deployment configuration or a model's override). */
export function parsePolicyOverride(input: Record<string, unknown>): PolicyOverride {
  const out: { -readonly [K in keyof GovernancePolicy]?: GovernancePolicy[K] } = {};
  for (const [key, value] of Object.entries(input)) {
    switch (key) {
      case 'guardedStages':
      case 'guarded_stages':
        if (!Array.isArray(value))
          throw new InvalidParameterError('guarded_stages must be a list of stages.');
        out.guardedStages = [...new Set(value.map((v) => parseStage(String(v))))];
        if (out.guardedStages.includes('None'))
          throw new InvalidParameterError("Stage 'None' cannot be guarded.");
        break;
      case 'requiredApprovals':
      case 'required_approvals':
        if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 10) {
          throw new InvalidParameterError('required_approvals must be an integer from 1 to 10.');
        }
        out.requiredApprovals = value as number;
        break;
      case 'requesterMayApprove':
      case 'requester_may_approve':
        if (typeof value !== 'boolean')
          throw new InvalidParameterError('requester_may_approve must be true or false.');
        out.requesterMayApprove = value;
        break;
      case 'requestTtlHours':
      case 'request_ttl_hours':
        if (typeof value !== 'number' || !(value > 0) || value > 365 * 24) {
          throw new InvalidParameterError(
            'request_ttl_hours must be a number of hours, at most 8760 (one year).',
          );
        }
        out.requestTtlHours = value;
        break;
      case 'protectLiveVersions':
      case 'protect_live_versions':
        if (typeof value !== 'boolean')
          throw new InvalidParameterError('protect_live_versions must be true or false.');
        out.protectLiveVersions = value;
        break;
      case 'qualityGates':
      case 'quality_gates':
        if (!Array.isArray(value) || value.length > 50) {
          throw new InvalidParameterError(
            "quality_gates must be a list of at most 50 gates such as 'accuracy >= 0.9'.",
          );
        }
        out.qualityGates = value.map((g) => parseGate(String(g)));
        break;
      default:
        throw new InvalidParameterError(
          `Unknown policy field '${key}': use guarded_stages, required_approvals, requester_may_approve, request_ttl_hours, protect_live_versions or quality_gates.`,
        );
    }
  }
  return out;
}

export type RequestStatus =
  | 'PENDING'
  | 'APPROVED'
  | 'REJECTED'
  | 'EXPIRED'
  | 'CANCELLED'
  | 'APPLIED'
  | 'FAILED';

export interface Approval {
  readonly principal: string;
  readonly timestamp: number;
  readonly comment?: string;
}

/** A requested transition into a guarded stage. */
export interface TransitionRequest {
  readonly id: string;
  readonly modelId: string;
  readonly name: string;
  readonly version: number;
  readonly fromStage: Stage;
  readonly toStage: Stage;
  readonly archiveExistingVersions: boolean;
  readonly requester: string;
  readonly comment?: string;
  readonly status: RequestStatus;
  /** Why it ended as it did (rejection reason, gate failures, apply error). */
  readonly reason?: string;
  readonly approvals: readonly Approval[];
  readonly requiredApprovals: number;
  readonly requesterMayApprove: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number;
  /** Set once the approval task is waiting (the workflow's task token). */
  readonly awaitingApproval: boolean;
}

export const OPEN_STATUSES: readonly RequestStatus[] = ['PENDING', 'APPROVED'];
