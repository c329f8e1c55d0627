import { CfnOutput, Duration, aws_logs as logs, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct, Node } from 'constructs';
import {
  type GovernancePolicyProps,
  GovernanceProfile,
  ModelRegistry,
  type ModelRegistryProps,
} from './model-registry';
import type { RegistryConsoleProps } from './registry-console';

export interface ModelRegistryStackProps extends StackProps, ModelRegistryProps {}

/** One ModelRegistry and its outputs. */
export class ModelRegistryStack extends Stack {
  public readonly registry: ModelRegistry;

  constructor(scope: Construct, id: string, props: ModelRegistryStackProps = {}) {
    super(scope, id, props);
    // The deployable stack offers the smoke test its queue unless told otherwise.
    this.registry = new ModelRegistry(this, 'Registry', {
      ...props,
      smokeTestEvents: props.smokeTestEvents ?? true,
    });

    new CfnOutput(this, 'ApiUrl', {
      value: this.registry.api.url,
      description: 'Base URL of the registry API (SigV4, service execute-api)',
    });
    new CfnOutput(this, 'TableName', { value: this.registry.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.registry.eventBus.eventBusName });
    new CfnOutput(this, 'ArtifactBucketName', { value: this.registry.artifactBucket.bucketName });
    if (this.registry.smokeTestEventQueue) {
      new CfnOutput(this, 'SmokeTestEventQueueUrl', {
        value: this.registry.smokeTestEventQueue.queueUrl,
        description: 'Events of smoke-test models (npm run smoke -- --events-queue <this>)',
      });
    }
    new CfnOutput(this, 'StateMachineArn', {
      value: this.registry.approvalWorkflow.stateMachineArn,
      description: 'The approval state machine (governed promotion)',
    });
    if (this.registry.console) {
      new CfnOutput(this, 'ConsoleUrl', {
        value: this.registry.console.url,
        description: 'The web console (Cognito sign-in)',
      });
    }
  }
}

/** The context keys of cdk.json (override with `-c key=value`). */
export const CONTEXT = {
  stackName: 'modelRegistry:stackName',
  removalPolicy: 'modelRegistry:removalPolicy',
  allowedAccountIds: 'modelRegistry:allowedAccountIds',
  organizationId: 'modelRegistry:organizationId',
  logRetentionDays: 'modelRegistry:logRetentionDays',
  uploadUrlTtlSeconds: 'modelRegistry:uploadUrlTtlSeconds',
  governancePolicy: 'modelRegistry:governancePolicy',
  /** The deployed console: a JSON object of `RegistryConsoleProps` (domainPrefix, audiences, mfa). */
  console: 'modelRegistry:console',
} as const;

/**
 * Reads the stack name and props from context. Values given with `-c` arrive as strings, so
 * lists may be JSON (`'["111122223333"]'`) or comma-separated and numbers may be strings.
 */
export function propsFromContext(node: Node): { stackName: string; props: ModelRegistryProps } {
  const get = (key: string): unknown => node.tryGetContext(key);
  const stackName = String(get(CONTEXT.stackName) ?? 'ModelRegistry');

  const removal = String(get(CONTEXT.removalPolicy) ?? 'retain').toLowerCase();
  if (removal !== 'retain' && removal !== 'destroy') {
    throw new Error(`${CONTEXT.removalPolicy} must be "retain" or "destroy", got "${removal}"`);
  }

  const logRetentionDays = toNumber(get(CONTEXT.logRetentionDays), CONTEXT.logRetentionDays);
  let logRetention: logs.RetentionDays | undefined;
  if (logRetentionDays !== undefined) {
    const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
    if (!allowed.includes(logRetentionDays)) {
      throw new Error(
        `${CONTEXT.logRetentionDays} must be one of ${allowed.join(', ')}, got ${logRetentionDays}`,
      );
    }
    logRetention = logRetentionDays as logs.RetentionDays;
  }

  const uploadUrlTtlSeconds = toNumber(get(CONTEXT.uploadUrlTtlSeconds), CONTEXT.uploadUrlTtlSeconds);
  const organizationId = get(CONTEXT.organizationId);
  const governance = get(CONTEXT.governancePolicy);
  const governanceProfile = toGovernanceProfile(governance);
  const governancePolicy = governanceProfile === undefined ? toGovernancePolicy(governance) : undefined;
  const consoleValue = get(CONTEXT.console);
  const console =
    consoleValue === undefined || consoleValue === null || consoleValue === ''
      ? undefined
      : ((typeof consoleValue === 'string'
          ? JSON.parse(consoleValue)
          : consoleValue) as RegistryConsoleProps);

  return {
    stackName,
    props: {
      removalPolicy: removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      allowedAccountIds: toStringList(get(CONTEXT.allowedAccountIds)),
      ...(organizationId ? { organizationId: String(organizationId) } : {}),
      ...(logRetention !== undefined ? { logRetention } : {}),
      ...(uploadUrlTtlSeconds !== undefined ? { uploadUrlTtl: Duration.seconds(uploadUrlTtlSeconds) } : {}),
      ...(governanceProfile ? { governanceProfile } : {}),
      ...(governancePolicy ? { governancePolicy } : {}),
      ...(console ? { console } : {}),
    },
  };
}

/**
 * The governance policy context value as a profile name (`-c modelRegistry:governancePolicy=mlflow`
 * or `governed`), or undefined when it is not one (a JSON policy, or nothing).
 */
function toGovernanceProfile(value: unknown): GovernanceProfile | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '' || text.startsWith('{')) return undefined;
  const profiles = Object.values(GovernanceProfile) as string[];
  if (!profiles.includes(text)) {
    throw new Error(
      `${CONTEXT.governancePolicy} must be a profile name (${profiles.join(', ')}) or a JSON object, got ${JSON.stringify(value)}`,
    );
  }
  return text as GovernanceProfile;
}

/**
 * The governance policy context value: a JSON object (or its string, from `-c`) with the keys of
 * GOVERNANCE_POLICY and of the per-model policy route: guarded_stages, required_approvals,
 * requester_may_approve, request_ttl_hours, protect_live_versions, quality_gates,
 * required_card_sections. The construct validates the values.
 */
function toGovernancePolicy(value: unknown): GovernancePolicyProps | undefined {
  const key = CONTEXT.governancePolicy;
  if (value === undefined || value === null || value === '') return undefined;
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${key} must be a JSON object, got ${JSON.stringify(value)}`);
  }
  const policy: { -readonly [K in keyof GovernancePolicyProps]: GovernancePolicyProps[K] } = {};
  for (const [field, v] of Object.entries(parsed as Record<string, unknown>)) {
    switch (field) {
      case 'guarded_stages':
        policy.guardedStages = toStringList(v);
        break;
      case 'required_approvals':
        policy.requiredApprovals = toNumber(v, `${key}.${field}`);
        break;
      case 'requester_may_approve':
        policy.requesterMayApprove = toBoolean(v, `${key}.${field}`);
        break;
      case 'request_ttl_hours': {
        const hours = toNumber(v, `${key}.${field}`);
        if (hours !== undefined) policy.requestTtl = Duration.hours(hours);
        break;
      }
      case 'protect_live_versions':
        policy.protectLiveVersions = toBoolean(v, `${key}.${field}`);
        break;
      case 'quality_gates':
        policy.qualityGates = toStringList(v);
        break;
      case 'required_card_sections':
        policy.requiredCardSections = toStringList(v);
        break;
      default:
        throw new Error(
          `${key}: unknown field '${field}' (use guarded_stages, required_approvals, requester_may_approve, request_ttl_hours, protect_live_versions, quality_gates, required_card_sections)`,
        );
    }
  }
  return policy;
}

function toBoolean(value: unknown, key: string): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`${key} must be true or false, got ${JSON.stringify(value)}`);
}

function toNumber(value: unknown, key: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${key} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

function toStringList(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value)) return value.map(String);
  const text = String(value).trim();
  if (text.startsWith('[')) {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) throw new Error(`Expected a JSON list, got ${text}`);
    return parsed.map(String);
  }
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
