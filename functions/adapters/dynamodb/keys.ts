/**
 * One key builder per single-table entity. docs/architecture.md lists the access patterns these
 * keys serve; every key string in the adapter comes from here.
 */
import { createHash } from 'node:crypto';
import { isActiveStage, type Stage } from '../../domain/model';

const VERSION_WIDTH = 10;
const TIME_WIDTH = 15;

export const padVersion = (version: number): string => String(version).padStart(VERSION_WIDTH, '0');
export const padTime = (epochMs: number): string => String(epochMs).padStart(TIME_WIDTH, '0');

export const MODELS_PARTITION = 'MODELS';
export const VERSIONS_PARTITION = 'VERSIONS';
export const SOURCES_PARTITION = 'SOURCES';

/** Everything that belongs to one model lives in the partition of its immutable id. */
export const modelPartition = (modelId: string) => `MID#${modelId}`;

/** The registered model, addressed by name: what changes rarely (description, tags, aliases, policy). */
export const modelKey = {
  primary: (name: string) => ({ pk: `MODEL#${name}`, sk: 'MODEL' }),
  indexes: (name: string, created: number) => ({
    gsi1pk: MODELS_PARTITION,
    gsi1sk: name,
    gsi2pk: MODELS_PARTITION,
    gsi2sk: `${padTime(created)}#${name}`,
  }),
};

/**
 * The model's anchor under its immutable id: its current name, the version counter (a single-item
 * ADD, so concurrent creates never conflict; a rename never copies it), its last-updated time
 * (indexed: models by last update) and the summaries of its latest version per stage.
 */
export const anchorKey = {
  primary: (modelId: string) => ({ pk: modelPartition(modelId), sk: 'MODEL' }),
  updatedIndex: (modelId: string, updated: number) => ({
    gsi3pk: MODELS_PARTITION,
    gsi3sk: `${padTime(updated)}#${modelId}`,
  }),
};

/** A source as an index sort key: DynamoDB sort keys are at most 1,024 bytes. */
export const SOURCE_KEY_BYTES = 900;
const SOURCE_END = '\u0001';

/** The longest prefix of `text` that fits in `bytes` UTF-8 bytes, cut at a character boundary. */
export function utf8Prefix(text: string, bytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= bytes) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (used + n > bytes) break;
    out += ch;
    used += n;
  }
  return out;
}

export const versionKey = {
  primary: (modelId: string, version: number) => ({
    pk: modelPartition(modelId),
    sk: `V#${padVersion(version)}`,
  }),
  prefix: 'V#',
  indexes: (v: {
    modelId: string;
    name: string;
    version: number;
    stage: Stage;
    runId?: string | undefined;
    source: string;
    created: number;
    updated: number;
  }) => {
    const { gsi7pk, gsi7sk, ...updated } = versionKey.updatedIndexes(v);
    return {
      gsi2pk: VERSIONS_PARTITION,
      gsi2sk: `${padTime(v.created)}#${v.name}#${padVersion(v.version)}`,
      ...updated,
      // gsi7 is sparse: a version enters it when it is first updated.
      ...(v.updated === v.created ? {} : { gsi7pk, gsi7sk }),
      ...versionKey.stageIndex(v.modelId, v.stage, v.version),
      gsi8pk: SOURCES_PARTITION,
      gsi8sk: versionKey.sourceKey(v.source, v.modelId, v.version),
    };
  },
  /**
   * A version's place among its model's versions by a time (then number): its key in gsi7 by its
   * last update. Only versions updated since their creation are in gsi7 (the first update puts
   * them there); one never updated takes the place of its creation time, which rises with its
   * number (versions.ts), so the model's partition gives those in this order.
   */
  inModel: (time: number, version: number) => `${padTime(time)}#${padVersion(version)}`,
  /** The keys that change with the last-updated time (and the run index, ordered by it). */
  updatedIndexes: (v: {
    modelId: string;
    name: string;
    version: number;
    runId?: string | undefined;
    updated: number;
  }) => ({
    gsi3pk: VERSIONS_PARTITION,
    gsi3sk: `${padTime(v.updated)}#${v.name}#${padVersion(v.version)}`,
    gsi7pk: modelPartition(v.modelId),
    gsi7sk: versionKey.inModel(v.updated, v.version),
    ...(v.runId
      ? {
          gsi5pk: versionKey.runPartition(v.runId),
          gsi5sk: `${padTime(v.updated)}#${v.name}#${padVersion(v.version)}`,
        }
      : {}),
  }),
  /** Only versions in an active stage are in the stage index (whole: it answers `models:/name/Production`). */
  stageIndex: (modelId: string, stage: Stage, version: number): { gsi4pk?: string; gsi4sk?: string } =>
    isActiveStage(stage)
      ? { gsi4pk: versionKey.stagePartition(modelId, stage), gsi4sk: padVersion(version) }
      : {},
  stagePartition: (modelId: string, stage: Stage) => `${modelPartition(modelId)}#STAGE#${stage}`,
  runPartition: (runId: string) => `RUN#${runId}`,
  sourceKey: (source: string, modelId: string, version: number) =>
    `${utf8Prefix(source, SOURCE_KEY_BYTES)}${SOURCE_END}${modelId}#${padVersion(version)}`,
  /** The sort-key prefix of every version whose source starts with `prefix` (or equals it, `exact`). */
  sourcePrefix: (prefix: string, exact: boolean) => {
    const cut = utf8Prefix(prefix, SOURCE_KEY_BYTES);
    return exact && cut === prefix ? `${cut}${SOURCE_END}` : cut;
  },
};

/** The hash of a tag as an index partition key (tag keys and values are too long for a key). */
export const tagHash = (key: string, value: string) =>
  createHash('sha256').update(key).update('\u0000').update(value).digest('base64url').slice(0, 32);

/**
 * One small item per version tag, so `tags.k = 'v'` is an index query. gsi9 orders a tag's
 * versions by their last update (MLflow's default search order): versions updated in the same
 * millisecond follow by model id and number, which a search sorts by MLflow's tiebreaks (name,
 * then version) as it reads them. The key holds no name, so a rename leaves the tag items alone;
 * every write that changes a version's last-updated time moves its tag items with it (`tagMoves`
 * in versions.ts).
 */
export const versionTagKey = {
  primary: (modelId: string, version: number, key: string) => ({
    pk: modelPartition(modelId),
    sk: `VT#${padVersion(version)}#${tagHash(key, '')}`,
  }),
  prefix: (version?: number) => (version === undefined ? 'VT#' : `VT#${padVersion(version)}#`),
  index: (key: string, value: string, updated: number, modelId: string, version: number) => ({
    gsi9pk: versionTagKey.partition(key, value),
    gsi9sk: versionTagKey.sortKey(updated, modelId, version),
  }),
  sortKey: (updated: number, modelId: string, version: number) =>
    `${padTime(updated)}#${modelId}#${padVersion(version)}`,
  partition: (key: string, value: string) => `VTAG#${tagHash(key, value)}`,
};

/**
 * A version's model card: its own item beside the version (the version item stays small, and a
 * page of versions never carries cards). `VC#` does not begin with `V#`, so the versions' range
 * reads never meet cards.
 */
export const cardKey = {
  primary: (modelId: string, version: number) => ({
    pk: modelPartition(modelId),
    sk: `${CARD_PREFIX}${padVersion(version)}`,
  }),
  prefix: 'VC#',
};
const CARD_PREFIX = 'VC#';

/** Remembers which version a client token created, so a retried create returns it. */
export const clientTokenKey = {
  primary: (modelId: string, token: string) => ({ pk: modelPartition(modelId), sk: `TOKEN#${token}` }),
  prefix: 'TOKEN#',
};

/**
 * An idempotency record (functions/adapters/dynamodb/idempotency.ts): one partition per record,
 * keyed by a hash of the caller, the route and the client's key.
 */
export const idempotencyKey = {
  primary: (hash: string) => ({ pk: `IDEM#${hash}`, sk: 'IDEMPOTENCY' }),
};

/** Stage transitions of a model, in time order. */
export const transitionKey = {
  primary: (modelId: string, timestamp: number, version: number, seq: number) => ({
    pk: modelPartition(modelId),
    sk: `H#${padTime(timestamp)}#${padVersion(version)}#${seq}`,
  }),
  prefix: 'H#',
};

/** The append-only audit log of a model (kept after the model is deleted), in time order. */
export const auditKey = {
  primary: (modelId: string, timestamp: number, eventId: string) =>
    auditKey.inPartition(modelPartition(modelId), timestamp, eventId),
  /** An audit entry in any partition that keeps one (a model's, a webhook's). */
  inPartition: (partition: string, timestamp: number, eventId: string) => ({
    pk: partition,
    sk: `${AUDIT_PREFIX}${padTime(timestamp)}#${eventId}`,
  }),
  prefix: 'A#',
};
const AUDIT_PREFIX = 'A#';

/** Transition requests of a model (governed stage transitions and protected alias moves). */
export const requestKey = {
  primary: (modelId: string, requestId: string) => ({ pk: modelPartition(modelId), sk: `R#${requestId}` }),
  prefix: 'R#',
};

/** Policy change requests of a model. */
export const policyRequestKey = {
  primary: (modelId: string, requestId: string) => ({ pk: modelPartition(modelId), sk: `P#${requestId}` }),
  prefix: 'P#',
};

/**
 * The sparse index of open (PENDING or APPROVED) transition requests, across every model: the
 * approval inbox, the reconciler, and the requests of a model or version that a change makes moot.
 * A request leaves it when it closes.
 */
export const openRequestKey = {
  partition: 'OPEN_REQUESTS',
  index: (modelId: string, version: number, requestId: string) => ({
    gsi6pk: 'OPEN_REQUESTS',
    gsi6sk: `${modelId}#${padVersion(version)}#${requestId}`,
  }),
  prefix: (modelId?: string, version?: number) =>
    modelId === undefined ? '' : version === undefined ? `${modelId}#` : `${modelId}#${padVersion(version)}#`,
};

/**
 * Webhooks are registry-wide (as in MLflow). Everything of one webhook lives in the partition of
 * its id: the webhook (`WEBHOOK`), its delivery log (`D#<delivery id>`, newest last: delivery ids
 * start with the event's time) and its audit log (`A#…`, the outbox like every audit entry; it
 * outlives the webhook, as a model's does).
 */
export const webhookPartition = (webhookId: string) => `WEBHOOK#${webhookId}`;

/** The sparse index partitions (gsi6) of all webhooks and of the deliveries waiting for an attempt. */
export const WEBHOOKS_PARTITION = 'WEBHOOKS';
export const DUE_DELIVERIES_PARTITION = 'WEBHOOK_DUE';

export const webhookKey = {
  primary: (webhookId: string) => ({ pk: webhookPartition(webhookId), sk: 'WEBHOOK' }),
  /** Every webhook, oldest first, in the sparse index. */
  index: (webhookId: string, created: number) => ({
    gsi6pk: WEBHOOKS_PARTITION,
    gsi6sk: `${padTime(created)}#${webhookId}`,
  }),
};

export const deliveryKey = {
  primary: (webhookId: string, deliveryId: string) => ({
    pk: webhookPartition(webhookId),
    sk: `D#${deliveryId}`,
  }),
  prefix: 'D#',
  /** A delivery waits for an attempt: in the due index by the time of its next attempt. */
  due: (nextAttemptAt: number, webhookId: string, deliveryId: string) => ({
    gsi6pk: DUE_DELIVERIES_PARTITION,
    gsi6sk: `${padTime(nextAttemptAt)}#${webhookId}#${deliveryId}`,
  }),
};
