/**
 * The construct's props turned into what the functions read, and checked at synth: a mistake in a
 * prop fails `cdk synth` with the functions' own validation rather than the first cold start.
 */
import { Duration, type aws_events as events } from 'aws-cdk-lib';
import type { EventPattern } from '../functions/deployment/event-rules';
import {
  effectivePolicy,
  POLICY_PROFILES,
  parsePolicyOverride,
  policyToWire,
} from '../functions/domain/governance';
import { parseIdentityTrust } from '../functions/domain/identity';
import type {
  GovernancePolicyProps,
  GovernanceProfile,
  IdentityTrustProps,
  ModelRegistryProps,
} from './model-registry';

/** Longest lifetime of a presigned upload URL (`uploadUrlTtl`). */
export const MAX_UPLOAD_URL_TTL = Duration.hours(1);

/** Most accounts `allowedAccountIds` may list (the API resource policy's 8,192 characters). */
export const MAX_ALLOWED_ACCOUNTS = 100;

/** Most origins `consoleOrigins` may list (S3 allows 64 KB of CORS configuration; this is far below). */
export const MAX_CONSOLE_ORIGINS = 20;

/** Longest lifetime of a presigned download URL: Lambda's temporary credentials do not outlive it. */
export const MAX_DOWNLOAD_URL_TTL = Duration.hours(12);

/** An event pattern of functions/deployment/event-rules.ts as the CDK's `EventPattern`. */
export function toCdkEventPattern(pattern: EventPattern): events.EventPattern {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pattern)) {
    if (key === 'detail-type') out.detailType = [...(value as readonly string[])];
    else if (key === 'source') out.source = [...(value as readonly string[])];
    else if (key === 'detail') out.detail = value;
    else throw new Error(`Event pattern field '${key}' is not mapped to the CDK's EventPattern`);
  }
  return out as events.EventPattern;
}

/** The governance policy as the functions read it (GOVERNANCE_POLICY, snake_case keys). */
export function governancePolicyJson(policy: GovernancePolicyProps): string {
  const json: Record<string, unknown> = {};
  if (policy.guardedStages !== undefined) json.guarded_stages = [...policy.guardedStages];
  if (policy.requiredApprovals !== undefined) json.required_approvals = policy.requiredApprovals;
  if (policy.requesterMayApprove !== undefined) json.requester_may_approve = policy.requesterMayApprove;
  if (policy.requestTtl !== undefined)
    json.request_ttl_hours = policy.requestTtl.toHours({ integral: false });
  if (policy.protectLiveVersions !== undefined) json.protect_live_versions = policy.protectLiveVersions;
  if (policy.qualityGates !== undefined) json.quality_gates = [...policy.qualityGates];
  if (policy.requiredCardSections !== undefined)
    json.required_card_sections = [...policy.requiredCardSections];
  // Fail at synth, with the functions' own validation, rather than at the first cold start.
  try {
    parsePolicyOverride(json);
  } catch (err) {
    throw new Error(`governancePolicy: ${(err as Error).message}`);
  }
  return JSON.stringify(json);
}

/**
 * GOVERNANCE_POLICY from the `governanceProfile` and `governancePolicy` props: the profile's name,
 * the policy's fields as JSON (read over the governed defaults), or, with both, the whole effective
 * policy (the profile with the fields over it) as JSON, every field given, since the functions
 * read JSON over the governed defaults, not over the profile.
 */
export function governancePolicyValue(
  profile: GovernanceProfile | undefined,
  policy: GovernancePolicyProps | undefined,
): string | undefined {
  if (profile !== undefined && !Object.hasOwn(POLICY_PROFILES, profile)) {
    throw new Error(
      `governanceProfile: unknown profile '${profile}' (use ${Object.keys(POLICY_PROFILES).join(' or ')})`,
    );
  }
  if (policy === undefined) return profile;
  const json = governancePolicyJson(policy);
  if (profile === undefined) return json;
  return JSON.stringify(
    policyToWire(effectivePolicy(POLICY_PROFILES[profile]!, parsePolicyOverride(JSON.parse(json)))),
  );
}

/** The identity trust as the functions read it (IDENTITY_TRUST, snake_case keys). */
export function identityTrustJson(trust: IdentityTrustProps): string {
  const json = JSON.stringify({
    ...(trust.identityCenter !== undefined ? { identity_center: trust.identityCenter } : {}),
    ...(trust.trustedSessionRoles !== undefined
      ? { trusted_session_roles: [...trust.trustedSessionRoles] }
      : {}),
    ...(trust.federatedUserNames !== undefined ? { federated_user_names: trust.federatedUserNames } : {}),
  });
  try {
    parseIdentityTrust(json);
  } catch (err) {
    throw new Error(`identityTrust: ${(err as Error).message}`);
  }
  return json;
}

/** `/models/{name}/versions/{version}` → `/models/*\/versions/*` (the execute-api ARN form). */
export function executeApiPath(routePath: string): string {
  return routePath.replace(/\{[^}]+\}/g, '*');
}

export function validateProps(
  props: ModelRegistryProps,
  d: { uploadUrlTtl: Duration; downloadUrlTtl: Duration; pendingVersionTtl: Duration },
): void {
  // API Gateway resource policies hold at most 8,192 characters: 100 accounts take ~4,000
  // (scripts/limits.ts measures the largest policy).
  if ((props.allowedAccountIds?.length ?? 0) > MAX_ALLOWED_ACCOUNTS) {
    throw new Error(
      `allowedAccountIds: at most ${MAX_ALLOWED_ACCOUNTS} accounts fit the API resource policy; use organizationId for more`,
    );
  }
  if ((props.consoleOrigins?.length ?? 0) > MAX_CONSOLE_ORIGINS) {
    throw new Error(`consoleOrigins: at most ${MAX_CONSOLE_ORIGINS} origins`);
  }
  for (const account of props.allowedAccountIds ?? []) {
    if (!/^\d{12}$/.test(account))
      throw new Error(`allowedAccountIds: '${account}' is not a 12-digit account id`);
  }
  if (props.organizationId !== undefined && !/^o-[a-z0-9]{10,32}$/.test(props.organizationId)) {
    throw new Error(`organizationId: '${props.organizationId}' is not an AWS Organizations id (o-...)`);
  }
  const seconds = (x: Duration) => x.toSeconds();
  if (seconds(d.uploadUrlTtl) < 1 || seconds(d.uploadUrlTtl) > seconds(MAX_UPLOAD_URL_TTL)) {
    throw new Error(
      `uploadUrlTtl must be between 1 second and 1 hour, got ${d.uploadUrlTtl.toHumanString()}`,
    );
  }
  if (seconds(d.downloadUrlTtl) < 1 || seconds(d.downloadUrlTtl) > seconds(MAX_DOWNLOAD_URL_TTL)) {
    throw new Error(
      `downloadUrlTtl must be between 1 second and 12 hours, got ${d.downloadUrlTtl.toHumanString()}`,
    );
  }
  const hours = d.pendingVersionTtl.toHours({ integral: false });
  if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 30) {
    throw new Error(
      `pendingVersionTtl must be a whole number of hours from 1 to 720, got ${d.pendingVersionTtl.toHumanString()}`,
    );
  }
  if (props.deletedArtifactRetention !== undefined) {
    const days = props.deletedArtifactRetention.toDays({ integral: false });
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(
        `deletedArtifactRetention must be a whole number of days, at least 1, got ${props.deletedArtifactRetention.toHumanString()}`,
      );
    }
  }
  for (const origin of props.consoleOrigins ?? []) {
    // S3 CORS: a scheme and host (and port), no path; at most one wildcard.
    if (!/^https?:\/\/[^/\s]+$/.test(origin) || origin.split('*').length > 2) {
      throw new Error(`consoleOrigins: '${origin}' is not an origin such as https://console.example.com`);
    }
  }
  const sampling = props.tracingSampling ?? {};
  if (sampling.fixedRate !== undefined && !(sampling.fixedRate >= 0 && sampling.fixedRate <= 1)) {
    throw new Error(`tracingSampling.fixedRate must be between 0 and 1, got ${sampling.fixedRate}`);
  }
  if (
    sampling.reservoirSize !== undefined &&
    !(Number.isInteger(sampling.reservoirSize) && sampling.reservoirSize >= 0)
  ) {
    throw new Error(
      `tracingSampling.reservoirSize must be a whole number, at least 0, got ${sampling.reservoirSize}`,
    );
  }
  const rate = props.alarmThresholds?.api4xxRate;
  if (rate !== undefined && !(rate > 0 && rate < 1)) {
    throw new Error(`alarmThresholds.api4xxRate must be between 0 and 1, got ${rate}`);
  }
  for (const [name, options] of Object.entries(props.functionOptions ?? {})) {
    const memory = options?.memorySize;
    if (memory !== undefined && !(Number.isInteger(memory) && memory >= 128 && memory <= 10_240)) {
      throw new Error(
        `functionOptions.${name}.memorySize must be a whole number of MB from 128 to 10240, got ${memory}`,
      );
    }
    const reserved = options?.reservedConcurrentExecutions;
    if (reserved !== undefined && !(Number.isInteger(reserved) && reserved >= 1)) {
      // 0 would stop the function altogether.
      throw new Error(
        `functionOptions.${name}.reservedConcurrentExecutions must be a whole number, at least 1, got ${reserved}`,
      );
    }
  }
  const throttle = props.throttle ?? {};
  for (const [k, v] of Object.entries(throttle)) {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) throw new Error(`throttle.${k} must be positive`);
  }
}
