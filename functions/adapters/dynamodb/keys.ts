/**
 * One key builder per single-table entity. docs/architecture.md lists the access patterns these
 * keys serve; every key string in the adapter comes from here.
 */
import type { Stage } from '../../domain/model';

const VERSION_WIDTH = 10;
const TIME_WIDTH = 15;

export const padVersion = (version: number): string => String(version).padStart(VERSION_WIDTH, '0');
export const padTime = (epochMs: number): string => String(epochMs).padStart(TIME_WIDTH, '0');

export const MODELS_PARTITION = 'MODELS';
export const VERSIONS_PARTITION = 'VERSIONS';

export const modelKey = {
  /** The registered model item, addressed by name. */
  primary: (name: string) => ({ pk: `MODEL#${name}`, sk: 'MODEL' }),
  indexes: (name: string, created: number, updated: number) => ({
    gsi1pk: MODELS_PARTITION,
    gsi1sk: name,
    gsi2pk: MODELS_PARTITION,
    gsi2sk: `${padTime(created)}#${name}`,
    gsi3pk: MODELS_PARTITION,
    gsi3sk: `${padTime(updated)}#${name}`,
  }),
  updatedIndex: (name: string, updated: number) => `${padTime(updated)}#${name}`,
};

/** Everything that belongs to one model lives in the partition of its immutable id. */
export const modelPartition = (modelId: string) => `MID#${modelId}`;

/** The model's anchor under its immutable id: its current name (requests and workflows follow renames). */
export const modelAnchorKey = {
  primary: (modelId: string) => ({ pk: modelPartition(modelId), sk: 'MODEL' }),
};

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
    created: number;
    updated: number;
  }) => ({
    gsi1pk: VERSIONS_PARTITION,
    gsi1sk: `${v.name}#${padVersion(v.version)}`,
    gsi2pk: VERSIONS_PARTITION,
    gsi2sk: `${padTime(v.created)}#${v.name}#${padVersion(v.version)}`,
    gsi3pk: VERSIONS_PARTITION,
    gsi3sk: versionKey.updatedIndex(v.name, v.version, v.updated),
    ...versionKey.stageIndex(v.modelId, v.stage, v.version),
    ...(v.runId
      ? {
          gsi5pk: versionKey.runPartition(v.runId),
          gsi5sk: versionKey.updatedIndex(v.name, v.version, v.updated),
        }
      : {}),
  }),
  updatedIndex: (name: string, version: number, updated: number) =>
    `${padTime(updated)}#${name}#${padVersion(version)}`,
  stageIndex: (modelId: string, stage: Stage, version: number) => ({
    gsi4pk: versionKey.stagePartition(modelId, stage),
    gsi4sk: padVersion(version),
  }),
  stagePartition: (modelId: string, stage: Stage) => `${modelPartition(modelId)}#STAGE#${stage}`,
  runPartition: (runId: string) => `RUN#${runId}`,
};

/** Remembers which version a client token created, so a retried create returns it. */
export const clientTokenKey = {
  primary: (modelId: string, token: string) => ({ pk: modelPartition(modelId), sk: `TOKEN#${token}` }),
  prefix: 'TOKEN#',
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
  primary: (modelId: string, timestamp: number, eventId: string) => ({
    pk: modelPartition(modelId),
    sk: `A#${padTime(timestamp)}#${eventId}`,
  }),
  prefix: 'A#',
};

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
