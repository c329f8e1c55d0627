/**
 * The stored form of each entity and back: `…Item` builds the item a write puts (with its index
 * keys), `to…` reads one, validated (an item that does not have the entity's shape is a bug or a
 * corruption, reported as such rather than passed on half-read). Policies are stored as their
 * wire JSON, so the stored form does not depend on the domain's field names.
 */
import { z } from 'zod';
import { TTL_ATTRIBUTE } from '../../deployment/table';
import type { ArtifactFile } from '../../domain/artifacts';
import {
  type Approval,
  DEFAULT_POLICY,
  effectivePolicy,
  type PolicyChangeRequest,
  type PolicyOverride,
  parsePolicyOverride,
  policyToWire,
  type RequestTarget,
  type TransitionRequest,
} from '../../domain/governance';
import {
  type ChangeProvenance,
  type ModelActivity,
  type ModelVersion,
  type PendingArchive,
  type RegisteredModel,
  STAGES,
  type Stage,
  type StageTransition,
  type VersionSummary,
} from '../../domain/model';
import { modelCardSchema, type StoredModelCard } from '../../domain/model-card';
import {
  anchorKey,
  cardKey,
  modelKey,
  openRequestKey,
  policyRequestKey,
  requestKey,
  transitionKey,
  versionKey,
  versionTagKey,
} from './keys';
import type { Item } from './table';

const stage = z.enum(STAGES);
const status = z.enum(['PENDING_REGISTRATION', 'READY', 'FAILED_REGISTRATION']);
const stringMap = z.record(z.string(), z.string());
const actor = z.object({ person: z.string(), arn: z.string() });

/** Reads an item with a schema; a mismatch is an internal error naming the entity. */
function read<T>(schema: z.ZodType<T>, item: Item, entity: string): T {
  const parsed = schema.safeParse(item);
  if (!parsed.success) {
    throw new Error(
      `Stored ${entity} ${String(item.pk)}/${String(item.sk)} is malformed: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return parsed.data;
}

const storedPolicy = (value: unknown): PolicyOverride => parsePolicyOverride(value, 'stored policy');

// ---------------------------------------------------------------- registered model

const modelSchema = z.object({
  name: z.string(),
  modelId: z.string(),
  description: z.string().optional(),
  tags: stringMap.optional(),
  aliases: z.record(z.string(), z.number()).optional(),
  createdAt: z.number(),
  createdBy: z.string(),
  pendingRename: z.boolean().optional(),
  deleting: z.boolean().optional(),
  policy: z.unknown().optional(),
  policyRevision: z.number().optional(),
  revision: z.number().optional(),
  archiving: z.object({ stage, keep: z.number() }).optional(),
});

export function modelItem(model: RegisteredModel): Item {
  return {
    ...modelKey.primary(model.name),
    ...modelKey.indexes(model.name, model.creationTimestamp),
    entity: 'RegisteredModel',
    name: model.name,
    modelId: model.id,
    description: model.description,
    tags: model.tags,
    aliases: model.aliases,
    createdAt: model.creationTimestamp,
    createdBy: model.createdBy,
    ...(model.pendingRename ? { pendingRename: true } : {}),
    ...(model.deleting ? { deleting: true } : {}),
    ...(model.archiving ? { archiving: model.archiving } : {}),
    policy: model.policy ? policyToWire(model.policy) : undefined,
    policyRevision: model.policyRevision,
    revision: model.revision,
  };
}

export function toModel(item: Item): RegisteredModel {
  const m = read(modelSchema, item, 'model');
  return {
    name: m.name,
    id: m.modelId,
    description: m.description ?? '',
    tags: m.tags ?? {},
    aliases: m.aliases ?? {},
    creationTimestamp: m.createdAt,
    createdBy: m.createdBy,
    ...(m.pendingRename ? { pendingRename: true } : {}),
    ...(m.deleting ? { deleting: true } : {}),
    ...(m.policy ? { policy: storedPolicy(m.policy) } : {}),
    policyRevision: m.policyRevision ?? 0,
    revision: m.revision ?? 0,
    ...(m.archiving ? { archiving: m.archiving } : {}),
  };
}

// ---------------------------------------------------------------- model anchor (activity)

const summarySchema = z.object({
  // Absent on the summary a create writes with the counter it increments: that version's number.
  version: z.number().optional(),
  stage,
  status,
  statusMessage: z.string().optional(),
  source: z.string(),
  runId: z.string().optional(),
  runLink: z.string().optional(),
  createdBy: z.string(),
  creationTimestamp: z.number(),
  lastUpdatedTimestamp: z.number(),
});

const provenanceSchema = z.union([
  z.object({ kind: z.literal('request'), requestId: z.string(), approvedBy: z.array(z.string()) }),
  z.object({ kind: z.literal('break-glass'), reason: z.string() }),
  z.object({ kind: z.literal('rollback'), fromVersion: z.number() }),
]);

const anchorSchema = z.object({
  name: z.string(),
  lastVersion: z.number().optional(),
  updatedAt: z.number(),
  latest: z.record(z.string(), summarySchema).optional(),
  revision: z.number().optional(),
  deleting: z.boolean().optional(),
  /** Versions in None (domain ModelActivity.versionsInNone), trusted only with `countsNone`. */
  inNone: z.number().optional(),
  countsNone: z.literal(true).optional(),
  pendingArchive: z
    .object({
      stage: z.enum(['Staging', 'Production']),
      keep: z.number(),
      actor,
      via: provenanceSchema.optional(),
    })
    .optional(),
});

export function anchorItem(model: RegisteredModel, updated: number): Item {
  return {
    ...anchorKey.primary(model.id),
    ...anchorKey.updatedIndex(model.id, updated),
    entity: 'ModelAnchor',
    name: model.name,
    modelId: model.id,
    lastVersion: 0,
    updatedAt: updated,
    latest: {},
    revision: 0,
    // Counted from the model's creation: an anchor written before the count existed has no
    // `countsNone`, and its `inNone` (if a later write added one) is not trusted.
    inNone: 0,
    countsNone: true,
  };
}

export function toActivity(
  item: Item,
): ModelActivity & { readonly name: string; readonly deleting?: boolean } {
  const a = read(anchorSchema, item, 'model anchor');
  return {
    name: a.name,
    ...(a.deleting ? { deleting: true } : {}),
    lastVersion: a.lastVersion ?? 0,
    lastUpdatedTimestamp: a.updatedAt,
    latest: Object.fromEntries(
      Object.entries(a.latest ?? {}).map(([stage, summary]) => [
        stage,
        { ...summary, version: summary.version ?? a.lastVersion ?? 0 },
      ]),
    ) as Partial<Record<Stage, VersionSummary>>,
    revision: a.revision ?? 0,
    ...(a.countsNone && a.inNone !== undefined ? { versionsInNone: a.inNone } : {}),
    ...(a.pendingArchive ? { pendingArchive: a.pendingArchive as PendingArchive } : {}),
  };
}

/** A summary as stored (no undefined attributes). */
export function summaryItem(s: VersionSummary): Item {
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined));
}

// ---------------------------------------------------------------- model version

const fileSchema = z.object({ path: z.string(), size: z.number(), sha256: z.string() });

const versionSchema = z.object({
  name: z.string(),
  modelId: z.string(),
  version: z.number(),
  source: z.string(),
  runId: z.string().optional(),
  runLink: z.string().optional(),
  loggedModelId: z.string().optional(),
  dataset: z
    .object({ name: z.string().optional(), digest: z.string().optional(), uri: z.string().optional() })
    .optional(),
  parameters: stringMap.optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  description: z.string().optional(),
  tags: stringMap.optional(),
  status,
  statusMessage: z.string().optional(),
  files: z.array(fileSchema).optional(),
  uploads: stringMap.optional(),
  [TTL_ATTRIBUTE]: z.number().optional(),
  stage,
  createdBy: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

export function versionItem(v: ModelVersion, clientToken?: string): Item {
  return {
    ...versionKey.primary(v.modelId, v.version),
    ...versionKey.indexes({
      modelId: v.modelId,
      name: v.name,
      version: v.version,
      stage: v.stage,
      runId: v.runId,
      source: v.source,
      created: v.creationTimestamp,
      updated: v.lastUpdatedTimestamp,
    }),
    entity: 'ModelVersion',
    name: v.name,
    modelId: v.modelId,
    version: v.version,
    source: v.source,
    runId: v.runId,
    runLink: v.runLink,
    loggedModelId: v.loggedModelId,
    dataset: v.dataset,
    parameters: v.parameters,
    metrics: v.metrics,
    description: v.description,
    tags: v.tags,
    status: v.status,
    statusMessage: v.statusMessage,
    files: v.files,
    uploads: v.uploads,
    // DynamoDB TTL (epoch seconds) removes a pending version nobody finalized.
    [TTL_ATTRIBUTE]: v.pendingExpiresAt === undefined ? undefined : Math.ceil(v.pendingExpiresAt / 1000),
    stage: v.stage,
    createdBy: v.createdBy,
    createdAt: v.creationTimestamp,
    updatedAt: v.lastUpdatedTimestamp,
    clientToken,
  };
}

export function toVersion(item: Item): ModelVersion {
  const v = read(versionSchema, item, 'model version');
  const expires = v[TTL_ATTRIBUTE];
  return {
    name: v.name,
    modelId: v.modelId,
    version: v.version,
    source: v.source,
    ...(v.runId ? { runId: v.runId } : {}),
    ...(v.runLink ? { runLink: v.runLink } : {}),
    ...(v.loggedModelId ? { loggedModelId: v.loggedModelId } : {}),
    ...(v.dataset ? { dataset: v.dataset } : {}),
    parameters: v.parameters ?? {},
    metrics: v.metrics ?? {},
    description: v.description ?? '',
    tags: v.tags ?? {},
    status: v.status,
    ...(v.statusMessage ? { statusMessage: v.statusMessage } : {}),
    ...(v.files ? { files: v.files as ArtifactFile[] } : {}),
    ...(v.uploads ? { uploads: v.uploads } : {}),
    ...(expires ? { pendingExpiresAt: expires * 1000 } : {}),
    stage: v.stage,
    createdBy: v.createdBy,
    creationTimestamp: v.createdAt,
    lastUpdatedTimestamp: v.updatedAt,
  };
}

/** The index item of one version tag (`tags.k = 'v'` queries its hash). */
export function versionTagItem(
  v: Pick<ModelVersion, 'modelId' | 'version' | 'lastUpdatedTimestamp'>,
  key: string,
  value: string,
): Item {
  return {
    ...versionTagKey.primary(v.modelId, v.version, key),
    // In gsi9 by the version's last update: writes that change it move the item (`tagMoves`).
    ...versionTagKey.index(key, value, v.lastUpdatedTimestamp, v.modelId, v.version),
    entity: 'VersionTag',
    modelId: v.modelId,
    version: v.version,
  };
}

// ---------------------------------------------------------------- model card

const cardJson = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not JSON' });
      return z.NEVER;
    }
  })
  .pipe(modelCardSchema);

const cardSchema = z.object({
  modelId: z.string(),
  version: z.number(),
  card: cardJson,
  revision: z.number(),
  updatedAt: z.number(),
  updatedBy: z.string(),
});

export function cardItem(modelId: string, version: number, stored: StoredModelCard): Item {
  return {
    ...cardKey.primary(modelId, version),
    entity: 'ModelCard',
    modelId,
    version,
    // Its JSON text, as validated: a DynamoDB number cannot hold every JSON number (1e-200, say),
    // and the text is what the size limit counts.
    card: JSON.stringify(stored.card),
    revision: stored.revision,
    updatedAt: stored.updatedAt,
    updatedBy: stored.updatedBy,
  };
}

export function toStoredCard(item: Item): StoredModelCard {
  const c = read(cardSchema, item, 'model card');
  return { card: c.card, revision: c.revision, updatedAt: c.updatedAt, updatedBy: c.updatedBy };
}

// ---------------------------------------------------------------- stage transition

const transitionSchema = z.object({
  version: z.number(),
  fromStage: stage,
  toStage: stage,
  actor: z.string(),
  timestamp: z.number(),
  comment: z.string().optional(),
  causedBy: z.object({ version: z.number(), toStage: stage }).optional(),
  via: provenanceSchema.optional(),
});

export function transitionItem(
  modelId: string,
  name: string,
  t: Omit<StageTransition, 'name'>,
  seq: number,
): Item {
  return {
    ...transitionKey.primary(modelId, t.timestamp, t.version, seq),
    entity: 'StageTransition',
    modelId,
    name,
    version: t.version,
    fromStage: t.fromStage,
    toStage: t.toStage,
    actor: t.actor,
    timestamp: t.timestamp,
    comment: t.comment,
    causedBy: t.causedBy,
    via: t.via,
  };
}

export function toTransition(item: Item, name: string): StageTransition {
  const t = read(transitionSchema, item, 'stage transition');
  return {
    name,
    version: t.version,
    fromStage: t.fromStage,
    toStage: t.toStage,
    actor: t.actor,
    timestamp: t.timestamp,
    ...(t.comment ? { comment: t.comment } : {}),
    ...(t.causedBy ? { causedBy: t.causedBy } : {}),
    ...(t.via ? { via: t.via as ChangeProvenance } : {}),
  };
}

// ---------------------------------------------------------------- requests

const approvalSchema = z.object({
  person: z.string(),
  arn: z.string(),
  timestamp: z.number(),
  comment: z.string().optional(),
});
const targetSchema = z.union([
  z.object({
    kind: z.literal('stage'),
    fromStage: stage,
    toStage: stage,
    archiveExistingVersions: z.boolean(),
  }),
  z.object({ kind: z.literal('alias'), alias: z.string(), previousVersion: z.number().nullable() }),
]);
const requestSchema = z.object({
  id: z.string(),
  modelId: z.string(),
  name: z.string(),
  version: z.number(),
  target: targetSchema,
  requester: actor,
  comment: z.string().optional(),
  status: z.enum(['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'CANCELLED', 'APPLIED', 'FAILED']),
  reason: z.string().optional(),
  approvals: z.array(approvalSchema).optional(),
  filedPolicy: z.unknown(),
  createdAt: z.number(),
  updatedAt: z.number(),
  requestExpiresAt: z.number(),
  awaitingApproval: z.boolean().optional(),
});

export function requestItem(r: TransitionRequest): Item {
  return {
    ...requestKey.primary(r.modelId, r.id),
    ...openRequestKey.index(r.modelId, r.version, r.id),
    entity: 'TransitionRequest',
    id: r.id,
    modelId: r.modelId,
    name: r.name,
    version: r.version,
    target: r.target,
    requester: r.requester,
    comment: r.comment,
    status: r.status,
    reason: r.reason,
    approvals: r.approvals,
    filedPolicy: policyToWire(r.filedPolicy),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    // Not `expiresAt`: that is the TTL attribute, and a decided request stays in the history.
    requestExpiresAt: r.expiresAt,
    awaitingApproval: r.awaitingApproval,
  };
}

export function toRequest(item: Item): TransitionRequest {
  const r = read(requestSchema, item, 'transition request');
  return {
    id: r.id,
    modelId: r.modelId,
    name: r.name,
    version: r.version,
    target: r.target as RequestTarget,
    requester: r.requester,
    ...(r.comment ? { comment: r.comment } : {}),
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    approvals: (r.approvals ?? []) as Approval[],
    filedPolicy: effectivePolicy(DEFAULT_POLICY, storedPolicy(r.filedPolicy)),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    expiresAt: r.requestExpiresAt,
    awaitingApproval: r.awaitingApproval === true,
  };
}

const policyRequestSchema = z.object({
  id: z.string(),
  modelId: z.string(),
  name: z.string(),
  requester: actor,
  comment: z.string().optional(),
  status: z.enum(['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'CANCELLED', 'APPLIED', 'FAILED']),
  reason: z.string().optional(),
  approvals: z.array(approvalSchema).optional(),
  before: z.unknown().nullable(),
  after: z.unknown().nullable(),
  weakenings: z.array(z.string()).optional(),
  requiredApprovals: z.number(),
  policyRevision: z.number(),
  createdAt: z.number(),
  updatedAt: z.number(),
  requestExpiresAt: z.number(),
});

export function policyRequestItem(r: PolicyChangeRequest): Item {
  return {
    ...policyRequestKey.primary(r.modelId, r.id),
    entity: 'PolicyChangeRequest',
    id: r.id,
    modelId: r.modelId,
    name: r.name,
    requester: r.requester,
    comment: r.comment,
    status: r.status,
    reason: r.reason,
    approvals: r.approvals,
    before: r.before ? policyToWire(r.before) : null,
    after: r.after ? policyToWire(r.after) : null,
    weakenings: r.weakenings,
    requiredApprovals: r.requiredApprovals,
    policyRevision: r.policyRevision,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    requestExpiresAt: r.expiresAt,
  };
}

export function toPolicyRequest(item: Item): PolicyChangeRequest {
  const r = read(policyRequestSchema, item, 'policy change request');
  return {
    id: r.id,
    modelId: r.modelId,
    name: r.name,
    requester: r.requester,
    ...(r.comment ? { comment: r.comment } : {}),
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    approvals: (r.approvals ?? []) as Approval[],
    before: r.before ? storedPolicy(r.before) : null,
    after: r.after ? storedPolicy(r.after) : null,
    weakenings: r.weakenings ?? [],
    requiredApprovals: r.requiredApprovals,
    policyRevision: r.policyRevision,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    expiresAt: r.requestExpiresAt,
  };
}
