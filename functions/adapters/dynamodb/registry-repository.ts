/**
 * RegistryRepository on one DynamoDB table (functions/deployment/table.ts). Conditional-write
 * failures become domain errors here, so the use cases never see an SDK exception.
 */
import { type AttributeValue, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { INDEXES, TABLE_PARTITION_KEY, TABLE_SORT_KEY, TTL_ATTRIBUTE } from '../../deployment/table';
import type { ArtifactFile } from '../../domain/artifacts';
import {
  ConcurrentModificationError,
  InvalidStateError,
  LimitExceededError,
  ResourceAlreadyExistsError,
  ResourceNotFoundError,
} from '../../domain/errors';
import type { RegistryEvent, RegistryEventDetail } from '../../domain/events';
import {
  type Approval,
  DEFAULT_POLICY,
  effectivePolicy,
  type PolicyChangeRequest,
  type PolicyOverride,
  parsePolicyOverride,
  policyToWire,
  type RequestStatus,
  type RequestTarget,
  type TransitionRequest,
} from '../../domain/governance';
import {
  type ActiveStage,
  type ChangeProvenance,
  isActiveStage,
  type ModelVersion,
  type RegisteredModel,
  type Stage,
  type StageTransition,
} from '../../domain/model';
import { MAX_ALIASES_PER_MODEL, MAX_TAGS_PER_ENTITY } from '../../domain/rules';
import {
  compareBy,
  equalityValue,
  type FilterClause,
  matchesFilter,
  type Searchable,
} from '../../domain/search-filter';
import type {
  NewModelVersion,
  Page,
  RegistryRepository,
  RequestChanges,
  RequestClosure,
  SearchQuery,
  StageChange,
} from '../../use-cases/ports';
import {
  auditKey,
  clientTokenKey,
  MODELS_PARTITION,
  modelAnchorKey,
  modelKey,
  modelPartition,
  openRequestKey,
  policyRequestKey,
  requestKey,
  transitionKey,
  VERSIONS_PARTITION,
  versionKey,
} from './keys';
import {
  checkStartKey,
  decodePageToken,
  encodePageToken,
  invalidPageToken,
  queryFingerprint,
} from './page-token';

type Item = Record<string, unknown>;

/** How many items one search request may examine before it returns a (possibly short) page. */
const SCAN_BUDGET = 2000;
/** DynamoDB's transaction limit, less room for the model item and history records. */
// Per transaction (100 items): two items per moved version, the model, the transition request
// and one event per moved version.
const MAX_ARCHIVED_PER_TRANSITION = 30;
const CREATE_VERSION_ATTEMPTS = 500;

const notFoundModel = (name: string) =>
  new ResourceNotFoundError(`Registered Model with name=${name} not found`);
const notFoundVersion = (name: string, version: number) =>
  new ResourceNotFoundError(`Model Version (name=${name}, version=${version}) not found`);

/** The per-item reasons of a cancelled transaction, with the returned items unmarshalled. */
function cancellationReasons(err: unknown): { Code?: string; Item?: Item }[] | undefined {
  if (err instanceof TransactionCanceledException) {
    return (err.CancellationReasons ?? []).map((r) => ({
      ...(r.Code ? { Code: r.Code } : {}),
      ...(r.Item ? { Item: unmarshall(r.Item as Record<string, AttributeValue>) } : {}),
    }));
  }
  // Same client token, different content (e.g. a concurrent retry): treat like any other conflict.
  if ((err as { name?: string })?.name === 'IdempotentParameterMismatchException') return [];
  return undefined;
}

/** The item a failed conditional write returned (ReturnValuesOnConditionCheckFailure), unmarshalled. */
function conditionItem(err: unknown): Item | undefined {
  const item = (err as { Item?: Record<string, AttributeValue> }).Item;
  return item ? unmarshall(item) : undefined;
}

function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/** The stored form of a version (with its index keys). */
export function versionItem(v: ModelVersion, clientToken?: string): Item {
  return {
    ...versionKey.primary(v.modelId, v.version),
    ...versionKey.indexes({
      modelId: v.modelId,
      name: v.name,
      version: v.version,
      stage: v.stage,
      runId: v.runId,
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Events (or event factories, given the version a write created) to record with the next write. */
type Journal = readonly (RegistryEvent | ((created: ModelVersion) => RegistryEvent))[];

/** The append-only audit entry of an event; its insertion is also the outbox record. */
export function auditItem(event: RegistryEvent): Item {
  const d = event.detail;
  return {
    ...auditKey.primary(d.model.id, d.occurred_at, d.event_id),
    entity: 'AuditEntry',
    type: event.type,
    detail: d,
    version: d.version,
    // The event as published, for the relay (a string survives any stream decoder unchanged).
    event: JSON.stringify({ type: event.type, detail: d }),
  };
}

/** What a failed single-item write reports, rebuilt from a cancelled transaction. */
class ConditionalCheckFailed extends Error {
  override readonly name = 'ConditionalCheckFailedException';
  constructor(readonly Item: Record<string, AttributeValue> | undefined) {
    super('The conditional request failed');
  }
}

export class DynamoDbRegistryRepository implements RegistryRepository {
  /** Own property of the view `recording()` returns; consumed by the next write. */
  private journal: Journal | undefined;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * This repository, recording the given events with its next write: the audit entries are put
   * in the same transaction as the change, so a change is never committed without its event (the
   * stream of audit inserts is the outbox the relay publishes from).
   */
  recording(...events: Journal): this {
    const view = Object.create(this) as this;
    view.journal = events;
    return view;
  }

  /** Sends a write, with the pending journal (if any) in the same transaction. */
  private async write(
    command: PutCommand | UpdateCommand | DeleteCommand | TransactWriteCommand,
    created?: ModelVersion,
  ): Promise<{ Attributes?: Item }> {
    const journal = this.journal;
    if (!journal?.length) return this.db.send(command as UpdateCommand);
    const audits = journal.map((entry) => {
      const event = typeof entry === 'function' ? entry(created!) : entry;
      return {
        Put: {
          TableName: this.tableName,
          Item: auditItem(event),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      };
    });
    if (command instanceof TransactWriteCommand) {
      await this.db.send(
        new TransactWriteCommand({
          ...command.input,
          TransactItems: [...(command.input.TransactItems ?? []), ...audits],
        }),
      );
      this.journal = undefined;
      return {};
    }
    const { ReturnValues, ...input } = command.input as typeof command.input & { ReturnValues?: string };
    const item =
      command instanceof PutCommand
        ? { Put: input as PutCommand['input'] }
        : command instanceof UpdateCommand
          ? { Update: input as NonNullable<TransactWriteCommandInput['TransactItems']>[number]['Update'] }
          : { Delete: input as DeleteCommand['input'] };
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: [item as never, ...audits] }));
    } catch (err) {
      if (
        err instanceof TransactionCanceledException &&
        err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      ) {
        throw new ConditionalCheckFailed(err.CancellationReasons[0].Item);
      }
      throw err;
    }
    this.journal = undefined;
    if (ReturnValues === 'ALL_NEW') {
      const key = (command.input as { Key: Item }).Key;
      const { Item: fresh } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      return { Attributes: fresh! };
    }
    return {};
  }

  // ---------------------------------------------------------------- mapping

  private toModel(item: Item): RegisteredModel {
    const members = (item.stageMembers ?? {}) as Record<string, number[]>;
    return {
      name: item.name as string,
      id: item.modelId as string,
      description: (item.description as string | undefined) ?? '',
      tags: (item.tags as Record<string, string> | undefined) ?? {},
      aliases: (item.aliases as Record<string, number> | undefined) ?? {},
      creationTimestamp: item.createdAt as number,
      lastUpdatedTimestamp: item.updatedAt as number,
      createdBy: item.createdBy as string,
      lastVersion: (item.lastVersion as number | undefined) ?? 0,
      stageMembers: { Staging: members.Staging ?? [], Production: members.Production ?? [] },
      revision: (item.revision as number | undefined) ?? 0,
      ...(item.pendingRename ? { pendingRename: true } : {}),
      ...(item.deleting ? { deleting: true } : {}),
      ...(item.policy ? { policy: parsePolicyOverride(item.policy, 'stored policy') } : {}),
      policyRevision: (item.policyRevision as number | undefined) ?? 0,
    };
  }

  private modelItem(model: RegisteredModel): Item {
    return {
      ...modelKey.primary(model.name),
      ...modelKey.indexes(model.name, model.creationTimestamp, model.lastUpdatedTimestamp),
      entity: 'RegisteredModel',
      name: model.name,
      modelId: model.id,
      description: model.description,
      tags: model.tags,
      aliases: model.aliases,
      createdAt: model.creationTimestamp,
      updatedAt: model.lastUpdatedTimestamp,
      createdBy: model.createdBy,
      lastVersion: model.lastVersion,
      stageMembers: model.stageMembers,
      revision: model.revision,
      policy: model.policy ? policyToWire(model.policy) : undefined,
      policyRevision: model.policyRevision,
    };
  }

  private toVersion(item: Item): ModelVersion {
    return {
      name: item.name as string,
      modelId: item.modelId as string,
      version: item.version as number,
      source: item.source as string,
      ...(item.runId ? { runId: item.runId as string } : {}),
      ...(item.runLink ? { runLink: item.runLink as string } : {}),
      ...(item.dataset ? { dataset: item.dataset as ModelVersion['dataset'] } : {}),
      parameters: (item.parameters as Record<string, string> | undefined) ?? {},
      metrics: (item.metrics as Record<string, number> | undefined) ?? {},
      description: (item.description as string | undefined) ?? '',
      tags: (item.tags as Record<string, string> | undefined) ?? {},
      status: item.status as ModelVersion['status'],
      ...(item.statusMessage ? { statusMessage: item.statusMessage as string } : {}),
      ...(item.files ? { files: item.files as ArtifactFile[] } : {}),
      ...(item.uploads ? { uploads: item.uploads as Record<string, string> } : {}),
      ...(item.expiresAt ? { pendingExpiresAt: (item.expiresAt as number) * 1000 } : {}),
      stage: item.stage as Stage,
      createdBy: item.createdBy as string,
      creationTimestamp: item.createdAt as number,
      lastUpdatedTimestamp: item.updatedAt as number,
    };
  }

  // ---------------------------------------------------------------- models

  async getModel(name: string): Promise<RegisteredModel | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: modelKey.primary(name), ConsistentRead: true }),
    );
    return Item ? this.toModel(Item) : undefined;
  }

  async getModelById(id: string): Promise<RegisteredModel | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: modelAnchorKey.primary(id), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const model = await this.getModel(Item.name as string);
    return model?.id === id ? model : undefined;
  }

  async createModel(model: RegisteredModel): Promise<void> {
    try {
      await this.write(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: this.modelItem(model),
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...modelAnchorKey.primary(model.id), entity: 'ModelAnchor', name: model.name },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (reasons?.[0]?.Code === 'ConditionalCheckFailed') {
        const existing = reasons[0].Item;
        if (existing?.deleting) {
          throw new ResourceAlreadyExistsError(
            `Registered Model (name=${model.name}) is still being deleted. Call delete on it again to finish, then create it.`,
          );
        }
        throw new ResourceAlreadyExistsError(`Registered Model (name=${model.name}) already exists.`);
      }
      if (reasons) {
        throw new ConcurrentModificationError(
          `Registered Model (name=${model.name}) is being created by another request; retry.`,
        );
      }
      throw err;
    }
  }

  private async updateModelItem(
    model: RegisteredModel,
    update: string,
    values: Item,
    names: Record<string, string> = {},
    extraCondition?: string,
  ): Promise<Item> {
    try {
      const { Attributes } = await this.write(
        new UpdateCommand({
          TableName: this.tableName,
          Key: modelKey.primary(model.name),
          UpdateExpression: update,
          ConditionExpression: ['attribute_exists(pk)', 'attribute_not_exists(deleting)', extraCondition]
            .filter(Boolean)
            .join(' AND '),
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
          ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return Attributes!;
    } catch (err) {
      if (isConditionFailure(err)) {
        const old = conditionItem(err);
        if (!old || old.deleting) throw notFoundModel(model.name);
        throw new LimitExceededError(
          `Registered Model (name=${model.name}) has ${MAX_TAGS_PER_ENTITY} tags already; delete one before adding another.`,
        );
      }
      throw err;
    }
  }

  async updateModelDescription(
    model: RegisteredModel,
    description: string,
    now: number,
  ): Promise<RegisteredModel> {
    const item = await this.updateModelItem(model, 'SET description = :d, updatedAt = :now, gsi3sk = :u', {
      ':d': description,
      ':now': now,
      ':u': modelKey.updatedIndex(model.name, now),
    });
    return this.toModel(item);
  }

  async setModelTag(model: RegisteredModel, key: string, value: string, _now: number): Promise<void> {
    await this.updateModelItem(
      model,
      'SET tags.#k = :v',
      { ':v': value, ':max': MAX_TAGS_PER_ENTITY },
      { '#k': key },
      '(attribute_exists(tags.#k) OR size(tags) < :max)',
    );
  }

  async deleteModelTag(model: RegisteredModel, key: string, _now: number): Promise<void> {
    await this.updateModelItem(model, 'REMOVE tags.#k', {}, { '#k': key });
  }

  async renameModel(model: RegisteredModel, newName: string, now: number): Promise<RegisteredModel> {
    const renamed: RegisteredModel = {
      ...model,
      name: newName,
      lastUpdatedTimestamp: now,
      revision: model.revision + 1,
    };
    const hasVersions = model.lastVersion > 0;
    try {
      await this.write(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...this.modelItem(renamed), ...(hasVersions ? { pendingRename: true } : {}) },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Delete: {
                TableName: this.tableName,
                Key: modelKey.primary(model.name),
                ConditionExpression: 'revision = :rev AND attribute_not_exists(deleting)',
                ExpressionAttributeValues: { ':rev': model.revision },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...modelAnchorKey.primary(model.id), entity: 'ModelAnchor', name: newName },
              },
            },
          ],
        }),
      );
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (reasons?.[0]?.Code === 'ConditionalCheckFailed') {
        throw new ResourceAlreadyExistsError(`Registered Model (name=${newName}) already exists.`);
      }
      if (reasons)
        throw new ConcurrentModificationError(
          `Registered Model (name=${model.name}) changed during the rename; retry.`,
        );
      throw err;
    }
    if (hasVersions) await this.completeRename({ ...renamed, pendingRename: true });
    return renamed;
  }

  async completeRename(model: RegisteredModel): Promise<void> {
    for await (const items of this.partitionPages(model.id, versionKey.prefix)) {
      await Promise.all(
        items.map((item) => {
          const v = this.toVersion(item);
          if (v.name === model.name) return undefined;
          const keys = versionKey.indexes({
            modelId: v.modelId,
            name: model.name,
            version: v.version,
            stage: v.stage,
            runId: v.runId,
            created: v.creationTimestamp,
            updated: v.lastUpdatedTimestamp,
          });
          return this.db
            .send(
              new UpdateCommand({
                TableName: this.tableName,
                Key: versionKey.primary(v.modelId, v.version),
                UpdateExpression:
                  'SET #n = :n, gsi1sk = :g1, gsi2sk = :g2, gsi3sk = :g3' +
                  (keys.gsi5sk ? ', gsi5sk = :g5' : ''),
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeNames: { '#n': 'name' },
                ExpressionAttributeValues: {
                  ':n': model.name,
                  ':g1': keys.gsi1sk,
                  ':g2': keys.gsi2sk,
                  ':g3': keys.gsi3sk,
                  ...(keys.gsi5sk ? { ':g5': keys.gsi5sk } : {}),
                },
              }),
            )
            .catch((err) => {
              if (!isConditionFailure(err)) throw err; // deleted meanwhile: nothing to rename
            });
        }),
      );
    }
    // Requests keep the model's name for display; they are found by the model's id.
    for (const prefix of [requestKey.prefix, policyRequestKey.prefix]) {
      for await (const items of this.partitionPages(model.id, prefix)) {
        await Promise.all(
          items
            .filter((item) => item.name !== model.name)
            .map((item) =>
              this.db
                .send(
                  new UpdateCommand({
                    TableName: this.tableName,
                    Key: { pk: item.pk, sk: item.sk },
                    UpdateExpression: 'SET #n = :n',
                    ConditionExpression: 'attribute_exists(pk)',
                    ExpressionAttributeNames: { '#n': 'name' },
                    ExpressionAttributeValues: { ':n': model.name },
                  }),
                )
                .catch((err) => {
                  if (!isConditionFailure(err)) throw err;
                }),
            ),
        );
      }
    }
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: modelKey.primary(model.name),
          UpdateExpression: 'REMOVE pendingRename',
          ConditionExpression: 'modelId = :id',
          ExpressionAttributeValues: { ':id': model.id },
        }),
      )
      .catch((err) => {
        if (!isConditionFailure(err)) throw err;
      });
  }

  async deleteModel(model: RegisteredModel): Promise<void> {
    // Mark first, so that no version can be created while the versions are being deleted, and a
    // crash half-way leaves a model that says it is being deleted (delete again to finish).
    try {
      await this.write(
        new UpdateCommand({
          TableName: this.tableName,
          Key: modelKey.primary(model.name),
          UpdateExpression: 'SET deleting = :t',
          ConditionExpression: 'modelId = :id',
          ExpressionAttributeValues: { ':t': true, ':id': model.id },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw notFoundModel(model.name);
      throw err;
    }
    for (const prefix of [versionKey.prefix, clientTokenKey.prefix]) {
      for await (const items of this.partitionPages(model.id, prefix)) {
        for (let i = 0; i < items.length; i += 25) {
          await this.batchDelete(items.slice(i, i + 25).map((it) => ({ pk: it.pk, sk: it.sk })));
        }
      }
    }
    await this.db
      .send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: modelKey.primary(model.name),
          ConditionExpression: 'modelId = :id',
          ExpressionAttributeValues: { ':id': model.id },
        }),
      )
      .catch((err) => {
        if (!isConditionFailure(err)) throw err; // already gone: a concurrent delete finished first
      });
    await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: modelAnchorKey.primary(model.id) }),
    );
  }

  private async batchDelete(keys: { pk: unknown; sk: unknown }[]): Promise<void> {
    let requests = keys.map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      const { UnprocessedItems } = await this.db.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
      );
      requests = (UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      if (requests.length > 0) await sleep(Math.min(1000, 20 * 2 ** attempt));
    }
  }

  private async *partitionPages(modelId: string, prefix: string): AsyncGenerator<Item[]> {
    let start: Item | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': modelPartition(modelId), ':p': prefix },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      start = page.LastEvaluatedKey;
      if (page.Items?.length) yield page.Items;
    } while (start);
  }

  // ---------------------------------------------------------------- versions

  async createVersion(
    model: RegisteredModel,
    draft: NewModelVersion,
    now: number,
    clientToken?: string,
  ): Promise<{ version: ModelVersion; created: boolean }> {
    let lastVersion = model.lastVersion;
    for (let attempt = 0; attempt < CREATE_VERSION_ATTEMPTS; attempt++) {
      const number = lastVersion + 1;
      const version: ModelVersion = {
        ...draft,
        source: typeof draft.source === 'function' ? draft.source(number) : draft.source,
        name: model.name,
        modelId: model.id,
        version: number,
        stage: 'None',
        creationTimestamp: now,
        lastUpdatedTimestamp: now,
      };
      const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
        {
          // The counter check: only the writer that saw the current counter may take the next number.
          Update: {
            TableName: this.tableName,
            Key: modelKey.primary(model.name),
            UpdateExpression: 'SET lastVersion = :n, updatedAt = :now, gsi3sk = :u',
            ConditionExpression:
              'modelId = :id AND attribute_not_exists(deleting) AND (lastVersion = :prev OR (attribute_not_exists(lastVersion) AND :prev = :zero))',
            ExpressionAttributeValues: {
              ':n': number,
              ':prev': lastVersion,
              ':zero': 0,
              ':id': model.id,
              ':now': now,
              ':u': modelKey.updatedIndex(model.name, now),
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: versionItem(version, clientToken),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ];
      if (clientToken) {
        items.push({
          Put: {
            TableName: this.tableName,
            Item: { ...clientTokenKey.primary(model.id, clientToken), version: number, createdAt: now },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        });
      }
      try {
        await this.write(
          new TransactWriteCommand({
            TransactItems: items,
            ...(clientToken
              ? { ClientRequestToken: queryFingerprint([model.id, clientToken, number, now]) }
              : {}),
          }),
          version,
        );
        return { version, created: true };
      } catch (err) {
        const reasons = cancellationReasons(err);
        if (!reasons) throw err;
        const [counter, , token] = reasons;
        if (token?.Code === 'ConditionalCheckFailed') {
          const existingNumber = token.Item?.version as number;
          const existing = await this.getVersion(model, existingNumber);
          if (!existing) {
            throw new InvalidStateError(
              `The client token was already used to create version ${existingNumber} of ${model.name}, which has since been deleted. Use a new client token.`,
            );
          }
          return { version: existing, created: false };
        }
        if (counter?.Code === 'ConditionalCheckFailed') {
          const current = counter.Item;
          if (!current || current.deleting || current.modelId !== model.id) throw notFoundModel(model.name);
          lastVersion = (current.lastVersion as number | undefined) ?? 0;
        } else {
          // TransactionConflict: another writer holds the model item; read the counter again.
          const fresh = await this.getModel(model.name);
          if (!fresh || fresh.id !== model.id) throw notFoundModel(model.name);
          lastVersion = fresh.lastVersion;
        }
        await sleep(Math.random() * Math.min(50, 2 + attempt));
      }
    }
    throw new ConcurrentModificationError(
      `Too many concurrent writers on Registered Model (name=${model.name}); nothing was created. Retry the request.`,
    );
  }

  async getVersion(model: RegisteredModel, version: number): Promise<ModelVersion | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: versionKey.primary(model.id, version),
        ConsistentRead: true,
      }),
    );
    return Item ? { ...this.toVersion(Item), name: model.name } : undefined;
  }

  private async updateVersionItem(
    model: RegisteredModel,
    version: ModelVersion,
    update: string,
    values: Item,
    names: Record<string, string> = {},
    extraCondition?: string,
  ): Promise<Item> {
    try {
      const { Attributes } = await this.write(
        new UpdateCommand({
          TableName: this.tableName,
          Key: versionKey.primary(model.id, version.version),
          UpdateExpression: update,
          ConditionExpression: ['attribute_exists(pk)', extraCondition].filter(Boolean).join(' AND '),
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
          ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return Attributes!;
    } catch (err) {
      if (isConditionFailure(err)) {
        if (!conditionItem(err)) throw notFoundVersion(model.name, version.version);
        throw new LimitExceededError(
          `Model Version (name=${model.name}, version=${version.version}) has ${MAX_TAGS_PER_ENTITY} tags already; delete one before adding another.`,
        );
      }
      throw err;
    }
  }

  async updateVersionDescription(
    model: RegisteredModel,
    version: ModelVersion,
    description: string,
    now: number,
  ): Promise<ModelVersion> {
    const item = await this.updateVersionItem(
      model,
      version,
      'SET description = :d, updatedAt = :now, gsi3sk = :u' + (version.runId ? ', gsi5sk = :u' : ''),
      { ':d': description, ':now': now, ':u': versionKey.updatedIndex(model.name, version.version, now) },
    );
    return { ...this.toVersion(item), name: model.name };
  }

  async setVersionTag(
    model: RegisteredModel,
    version: ModelVersion,
    key: string,
    value: string,
    _now: number,
  ): Promise<void> {
    await this.updateVersionItem(
      model,
      version,
      'SET tags.#k = :v',
      { ':v': value, ':max': MAX_TAGS_PER_ENTITY },
      { '#k': key },
      '(attribute_exists(tags.#k) OR size(tags) < :max)',
    );
  }

  async deleteVersionTag(
    model: RegisteredModel,
    version: ModelVersion,
    key: string,
    _now: number,
  ): Promise<void> {
    await this.updateVersionItem(model, version, 'REMOVE tags.#k', {}, { '#k': key });
  }

  stageMembers(model: RegisteredModel, stage: ActiveStage): readonly number[] {
    return model.stageMembers[stage];
  }

  async transitionStage(change: StageChange): Promise<ModelVersion> {
    const { model, version, toStage, archive, actor, now } = change;
    if (archive.length > MAX_ARCHIVED_PER_TRANSITION) {
      throw new LimitExceededError(
        `${archive.length} versions would be archived at once; the limit is ${MAX_ARCHIVED_PER_TRANSITION}. Archive some of them first.`,
      );
    }
    const members: Record<ActiveStage, number[]> = {
      Staging: model.stageMembers.Staging.filter((v) => v !== version.version && !archive.includes(v)),
      Production: model.stageMembers.Production.filter((v) => v !== version.version && !archive.includes(v)),
    };
    if (isActiveStage(toStage))
      members[toStage] = [...members[toStage], version.version].sort((a, b) => a - b);

    const moves: { v: number; from: Stage; to: Stage; causedBy?: StageTransition['causedBy'] }[] = [
      { v: version.version, from: version.stage, to: toStage },
      ...archive.map((v) => ({
        v,
        from: toStage,
        to: 'Archived' as Stage,
        causedBy: { version: version.version, toStage },
      })),
    ];
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [];
    for (const move of moves) {
      const stageKeys = versionKey.stageIndex(model.id, move.to, move.v);
      items.push({
        Update: {
          TableName: this.tableName,
          Key: versionKey.primary(model.id, move.v),
          UpdateExpression:
            'SET stage = :to, updatedAt = :now, gsi3sk = :u, gsi4pk = :g4pk, gsi4sk = :g4sk, gsi5sk = :u5',
          ConditionExpression: 'attribute_exists(pk) AND stage = :from AND #st = :ready',
          ExpressionAttributeNames: { '#st': 'status' },
          ExpressionAttributeValues: {
            ':to': move.to,
            ':from': move.from,
            ':ready': 'READY',
            ':now': now,
            ':u': versionKey.updatedIndex(model.name, move.v, now),
            ':u5': versionKey.updatedIndex(model.name, move.v, now),
            ':g4pk': stageKeys.gsi4pk,
            ':g4sk': stageKeys.gsi4sk,
          },
        },
      });
      items.push({
        Put: {
          TableName: this.tableName,
          Item: {
            ...transitionKey.primary(model.id, now, move.v, items.length),
            entity: 'StageTransition',
            modelId: model.id,
            name: model.name,
            version: move.v,
            fromStage: move.from,
            toStage: move.to,
            actor,
            timestamp: now,
            comment: move.v === version.version ? change.comment : undefined,
            causedBy: move.causedBy,
            via: change.via,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    items.push({
      Update: {
        TableName: this.tableName,
        Key: modelKey.primary(model.name),
        UpdateExpression: 'SET stageMembers = :m, revision = :next, updatedAt = :now, gsi3sk = :u',
        ConditionExpression: 'revision = :rev AND modelId = :id AND attribute_not_exists(deleting)',
        ExpressionAttributeValues: {
          ':m': members,
          ':next': model.revision + 1,
          ':rev': model.revision,
          ':id': model.id,
          ':now': now,
          ':u': modelKey.updatedIndex(model.name, now),
        },
      },
    });
    if (change.via?.kind === 'request') items.push(this.markApplied(model.id, change.via.requestId, now));
    items.push(...(change.close ?? []).map((c) => this.closeItem(c, now)));
    try {
      await this.write(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if (cancellationReasons(err)) {
        throw new ConcurrentModificationError(
          `Model Version (name=${model.name}, version=${version.version}) or the versions in ${toStage} changed during the transition; nothing was changed. Retry.`,
        );
      }
      throw err;
    }
    return { ...version, stage: toStage, lastUpdatedTimestamp: now };
  }

  async deleteVersion(
    model: RegisteredModel,
    version: ModelVersion,
    now: number,
    close: readonly RequestClosure[] = [],
  ): Promise<void> {
    const aliases = Object.fromEntries(
      Object.entries(model.aliases).filter(([, v]) => v !== version.version),
    );
    const members: Record<ActiveStage, number[]> = {
      Staging: model.stageMembers.Staging.filter((v) => v !== version.version),
      Production: model.stageMembers.Production.filter((v) => v !== version.version),
    };
    try {
      await this.write(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.tableName,
                Key: versionKey.primary(model.id, version.version),
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: modelKey.primary(model.name),
                UpdateExpression:
                  'SET aliases = :a, stageMembers = :m, revision = :next, updatedAt = :now, gsi3sk = :u',
                ConditionExpression: 'revision = :rev AND modelId = :id AND attribute_not_exists(deleting)',
                ExpressionAttributeValues: {
                  ':a': aliases,
                  ':m': members,
                  ':next': model.revision + 1,
                  ':rev': model.revision,
                  ':id': model.id,
                  ':now': now,
                  ':u': modelKey.updatedIndex(model.name, now),
                },
              },
            },
            ...close.map((c) => this.closeItem(c, now)),
          ],
        }),
      );
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (reasons?.[0]?.Code === 'ConditionalCheckFailed') throw notFoundVersion(model.name, version.version);
      if (reasons) {
        throw new ConcurrentModificationError(
          `Registered Model (name=${model.name}) changed while deleting version ${version.version}; nothing was changed. Retry.`,
        );
      }
      throw err;
    }
  }

  async latestVersions(model: RegisteredModel, stages: readonly Stage[]): Promise<ModelVersion[]> {
    const found = await Promise.all(
      stages.map(async (stage) => {
        if (isActiveStage(stage)) {
          const members = model.stageMembers[stage];
          return members.length ? this.getVersion(model, Math.max(...members)) : undefined;
        }
        const { Items } = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: INDEXES.byStage.indexName,
            KeyConditionExpression: 'gsi4pk = :p',
            ExpressionAttributeValues: { ':p': versionKey.stagePartition(model.id, stage) },
            ScanIndexForward: false,
            Limit: 1,
          }),
        );
        return Items?.[0] ? { ...this.toVersion(Items[0]), name: model.name } : undefined;
      }),
    );
    return found.filter((v): v is ModelVersion => v !== undefined);
  }

  async addUpload(model: RegisteredModel, version: number, path: string, uploadId: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: versionKey.primary(model.id, version),
          UpdateExpression: 'SET uploads.#p = :u',
          ConditionExpression: 'attribute_exists(pk) AND #st = :pending AND attribute_not_exists(uploads.#p)',
          ExpressionAttributeNames: { '#st': 'status', '#p': path },
          ExpressionAttributeValues: { ':u': uploadId, ':pending': 'PENDING_REGISTRATION' },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async setRegistrationStatus(
    model: RegisteredModel,
    version: number,
    status: ModelVersion['status'],
    message: string,
    now: number,
  ): Promise<boolean> {
    const settled = status !== 'PENDING_REGISTRATION';
    try {
      await this.write(
        new UpdateCommand({
          TableName: this.tableName,
          Key: versionKey.primary(model.id, version),
          // The expiry goes in either case: a version whose files are finalized is being verified,
          // and DynamoDB TTL must not delete it however long (or often) verification takes.
          UpdateExpression:
            'SET #st = :s, statusMessage = :m, updatedAt = :now, gsi3sk = :u' +
            ` REMOVE ${settled ? 'uploads, ' : ''}${TTL_ATTRIBUTE}`,
          ConditionExpression: 'attribute_exists(pk) AND #st = :pending',
          ExpressionAttributeNames: { '#st': 'status' },
          ExpressionAttributeValues: {
            ':s': status,
            ':m': message,
            ':now': now,
            ':u': versionKey.updatedIndex(model.name, version, now),
            ':pending': 'PENDING_REGISTRATION',
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  // ---------------------------------------------------------------- aliases

  async setAlias(
    model: RegisteredModel,
    alias: string,
    version: number,
    now: number,
    options: { expected: number | null; requestId?: string },
  ): Promise<void> {
    const expected = options.expected;
    try {
      await this.write(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: versionKey.primary(model.id, version),
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: modelKey.primary(model.name),
                UpdateExpression: 'SET aliases.#a = :v ADD revision :one',
                // The alias is still where the caller read it (the event records that value).
                ConditionExpression: `modelId = :id AND attribute_not_exists(deleting) AND ${
                  expected === null
                    ? 'attribute_not_exists(aliases.#a) AND size(aliases) < :max'
                    : 'aliases.#a = :expected'
                }`,
                ExpressionAttributeNames: { '#a': alias },
                ExpressionAttributeValues: {
                  ':v': version,
                  ':one': 1,
                  ':id': model.id,
                  ...(expected === null ? { ':max': MAX_ALIASES_PER_MODEL } : { ':expected': expected }),
                },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            ...(options.requestId ? [this.markApplied(model.id, options.requestId, now)] : []),
          ],
        }),
      );
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (!reasons) throw err;
      if (reasons[0]?.Code === 'ConditionalCheckFailed') throw notFoundVersion(model.name, version);
      if (reasons[1]?.Code === 'ConditionalCheckFailed') {
        const old = reasons[1].Item;
        if (!old || old.deleting || old.modelId !== model.id) throw notFoundModel(model.name);
        const current = (old.aliases as Record<string, number> | undefined)?.[alias];
        if (expected === null && current === undefined) {
          throw new LimitExceededError(
            `Registered Model (name=${model.name}) has ${MAX_ALIASES_PER_MODEL} aliases already; delete one before adding another.`,
          );
        }
      }
      throw new ConcurrentModificationError(
        `Registered Model (name=${model.name}) changed while setting the alias; retry.`,
      );
    }
  }

  async deleteAlias(model: RegisteredModel, alias: string, _now: number, expected: number): Promise<void> {
    try {
      await this.write(
        new UpdateCommand({
          TableName: this.tableName,
          Key: modelKey.primary(model.name),
          UpdateExpression: 'REMOVE aliases.#a ADD revision :one',
          ConditionExpression: 'modelId = :id AND attribute_not_exists(deleting) AND aliases.#a = :expected',
          ExpressionAttributeNames: { '#a': alias },
          ExpressionAttributeValues: { ':one': 1, ':id': model.id, ':expected': expected },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        const old = conditionItem(err);
        if (!old || old.deleting || old.modelId !== model.id) throw notFoundModel(model.name);
        // The alias moved or went away since it was read: the caller reads it again.
        throw new ConcurrentModificationError(
          `Alias @${alias} of Registered Model (name=${model.name}) changed while it was being deleted; retry.`,
        );
      }
      throw err;
    }
  }

  /** Marks the approved request a change applies APPLIED, in the change's transaction. */
  private markApplied(modelId: string, requestId: string, now: number) {
    return {
      Update: {
        TableName: this.tableName,
        Key: requestKey.primary(modelId, requestId),
        UpdateExpression: 'SET #st = :applied, updatedAt = :now REMOVE taskToken, gsi6pk, gsi6sk',
        ConditionExpression: '#st = :approved',
        ExpressionAttributeNames: { '#st': 'status' },
        ExpressionAttributeValues: { ':applied': 'APPLIED', ':approved': 'APPROVED', ':now': now },
      },
    };
  }

  /** Closes an open request a change makes moot, if it is still as it was read. */
  private closeItem(closure: RequestClosure, now: number) {
    return {
      Update: {
        TableName: this.tableName,
        Key: requestKey.primary(closure.request.modelId, closure.request.id),
        UpdateExpression:
          'SET #st = :status, reason = :reason, updatedAt = :now REMOVE taskToken, gsi6pk, gsi6sk',
        ConditionExpression: '#st = :expected',
        ExpressionAttributeNames: { '#st': 'status' },
        ExpressionAttributeValues: {
          ':status': closure.status,
          ':reason': closure.reason,
          ':now': now,
          ':expected': closure.request.status,
        },
      },
    };
  }

  // ---------------------------------------------------------------- search

  async searchModels(query: SearchQuery): Promise<Page<RegisteredModel>> {
    const fingerprint = queryFingerprint(['models', query.clauses, query.order]);
    const cursor = decodePageToken(query.pageToken, fingerprint);
    const exact = equalityValue(query.clauses, 'name');
    if (exact !== undefined) {
      // One item at most: a point read, no page token.
      if (cursor) return { items: [] };
      const model = await this.getModel(exact);
      const items =
        model && !isHidden(model) && matchesFilter(modelSearchable(model), query.clauses) ? [model] : [];
      return { items };
    }
    const first = query.order[0] ?? { key: 'name', direction: 'ASC' };
    const index =
      first.key === 'creation_timestamp'
        ? INDEXES.byCreated
        : first.key === 'last_updated_timestamp'
          ? INDEXES.byUpdated
          : INDEXES.byName;
    const prefix = literalPrefix(query.clauses, 'name');
    return this.streamIndex({
      fingerprint,
      cursor,
      index,
      partition: MODELS_PARTITION,
      ascending: first.direction === 'ASC',
      sortKeyPrefix: index === INDEXES.byName ? prefix : undefined,
      maxResults: query.maxResults,
      convert: (item) => {
        const model = this.toModel(item);
        return isHidden(model) || !matchesFilter(modelSearchable(model), query.clauses) ? undefined : model;
      },
    });
  }

  async searchVersions(query: SearchQuery): Promise<Page<ModelVersion>> {
    const fingerprint = queryFingerprint(['versions', query.clauses, query.order]);
    const cursor = decodePageToken(query.pageToken, fingerprint);
    const accept = (item: Item) => {
      const v = this.toVersion(item);
      return matchesFilter(versionSearchable(v), query.clauses) ? v : undefined;
    };
    const first = query.order[0] ?? { key: 'last_updated_timestamp', direction: 'DESC' };

    const name = equalityValue(query.clauses, 'name');
    if (name !== undefined) {
      const model = await this.getModel(name);
      if (!model || isHidden(model)) return { items: [] };
      if (first.key === 'version_number' || first.key === 'name') {
        // The model's partition is ordered by version number: stream it.
        return this.streamIndex({
          fingerprint,
          cursor,
          partition: modelPartition(model.id),
          sortKeyPrefix: versionKey.prefix,
          ascending: first.key === 'name' ? false : first.direction === 'ASC',
          maxResults: query.maxResults,
          convert: accept,
        });
      }
      // Other orders within one model: read the model's versions (not the registry) and sort.
      return this.sortedPartition(fingerprint, cursor, query, modelPartition(model.id), accept);
    }
    const runId = equalityValue(query.clauses, 'run_id');
    if (runId !== undefined) {
      return this.sortedPartition(
        fingerprint,
        cursor,
        query,
        versionKey.runPartition(runId),
        accept,
        INDEXES.byRun,
      );
    }
    const index =
      first.key === 'creation_timestamp'
        ? INDEXES.byCreated
        : first.key === 'last_updated_timestamp'
          ? INDEXES.byUpdated
          : INDEXES.byName;
    const prefix = literalPrefix(query.clauses, 'name');
    return this.streamIndex({
      fingerprint,
      cursor,
      index,
      partition: VERSIONS_PARTITION,
      ascending: first.key === 'version_number' ? first.direction === 'ASC' : first.direction === 'ASC',
      sortKeyPrefix: index === INDEXES.byName ? prefix : undefined,
      maxResults: query.maxResults,
      convert: accept,
    });
  }

  /**
   * Reads an index partition in order, page by page, keeping what the filter accepts, until the
   * page is full or the scan budget is spent. The token resumes after the last item examined.
   */
  private async streamIndex<T>(opts: {
    fingerprint: string;
    cursor: ReturnType<typeof decodePageToken>;
    index?: (typeof INDEXES)[keyof typeof INDEXES];
    partition: string;
    ascending: boolean;
    sortKeyPrefix?: string | undefined;
    maxResults: number;
    convert: (item: Item) => T | undefined;
  }): Promise<Page<T>> {
    const pkAttr = opts.index?.partitionKey ?? TABLE_PARTITION_KEY;
    const skAttr = opts.index?.sortKey ?? TABLE_SORT_KEY;
    const path = opts.index?.indexName ?? 'table';
    if (opts.cursor && opts.cursor.p !== path) throw decodeMismatch();
    const keyAttrs = opts.index
      ? [TABLE_PARTITION_KEY, TABLE_SORT_KEY, opts.index.partitionKey, opts.index.sortKey]
      : [TABLE_PARTITION_KEY, TABLE_SORT_KEY];
    let start: Item | undefined = checkStartKey(opts.cursor?.k, {
      partitionAttr: pkAttr,
      partitionValue: opts.partition,
      attrs: keyAttrs,
    });
    const results: T[] = [];
    let examined = 0;
    let lastKey: Record<string, string> | undefined;
    let exhausted = false;
    while (results.length < opts.maxResults && examined < SCAN_BUDGET) {
      const input: QueryCommandInput = {
        TableName: this.tableName,
        ...(opts.index ? { IndexName: opts.index.indexName } : {}),
        KeyConditionExpression: opts.sortKeyPrefix ? '#pk = :pk AND begins_with(#sk, :prefix)' : '#pk = :pk',
        ExpressionAttributeNames: { '#pk': pkAttr, ...(opts.sortKeyPrefix ? { '#sk': skAttr } : {}) },
        ExpressionAttributeValues: {
          ':pk': opts.partition,
          ...(opts.sortKeyPrefix ? { ':prefix': opts.sortKeyPrefix } : {}),
        },
        ScanIndexForward: opts.ascending,
        // Read a little more than the page needs: one extra item tells whether a next page exists.
        Limit: Math.min(1000, Math.max(10, opts.maxResults - results.length + 1)),
        ...(start ? { ExclusiveStartKey: start } : {}),
      };
      const page = await this.db.send(new QueryCommand(input));
      const items = page.Items ?? [];
      let stoppedEarly = false;
      for (const item of items) {
        if (results.length >= opts.maxResults) {
          stoppedEarly = true;
          break;
        }
        examined++;
        lastKey = Object.fromEntries(keyAttrs.map((a) => [a, item[a] as string]));
        const converted = opts.convert(item);
        if (converted !== undefined) results.push(converted);
      }
      if (stoppedEarly) break;
      start = page.LastEvaluatedKey;
      if (!start) {
        exhausted = true;
        break;
      }
    }
    if (exhausted || !lastKey) return { items: results };
    return {
      items: results,
      nextPageToken: encodePageToken({ v: 1, q: opts.fingerprint, p: path, k: lastKey }),
    };
  }

  /** Reads one small partition whole, sorts it in memory and serves it by offset. */
  private async sortedPartition<T extends ModelVersion>(
    fingerprint: string,
    cursor: ReturnType<typeof decodePageToken>,
    query: SearchQuery,
    partition: string,
    convert: (item: Item) => T | undefined,
    index?: (typeof INDEXES)[keyof typeof INDEXES],
  ): Promise<Page<T>> {
    const path = `sorted:${index?.indexName ?? 'table'}`;
    if (cursor && (cursor.p !== path || cursor.o === undefined)) throw decodeMismatch();
    const all: T[] = [];
    let start: Item | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          ...(index ? { IndexName: index.indexName } : {}),
          KeyConditionExpression: index ? `${index.partitionKey} = :pk` : 'pk = :pk AND begins_with(sk, :v)',
          ExpressionAttributeValues: { ':pk': partition, ...(index ? {} : { ':v': versionKey.prefix }) },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const converted = convert(item);
        if (converted !== undefined) all.push(converted);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    const compare = compareBy(query.order);
    all.sort((a, b) => compare(versionSearchable(a), versionSearchable(b)));
    const offset = cursor?.o ?? 0;
    const items = all.slice(offset, offset + query.maxResults);
    const next = offset + items.length;
    return next < all.length
      ? { items, nextPageToken: encodePageToken({ v: 1, q: fingerprint, p: path, o: next }) }
      : { items };
  }

  // ---------------------------------------------------------------- history

  // ---------------------------------------------------------------- governance

  async setPolicy(
    model: RegisteredModel,
    policy: PolicyOverride | undefined,
    now: number,
    apply?: { request: PolicyChangeRequest; approvals: readonly Approval[] },
  ): Promise<RegisteredModel> {
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
      {
        Update: {
          TableName: this.tableName,
          Key: modelKey.primary(model.name),
          UpdateExpression: `${policy ? 'SET policy = :p, ' : 'REMOVE policy SET '}policyRevision = :next, updatedAt = :now, gsi3sk = :u`,
          ConditionExpression:
            'modelId = :id AND attribute_not_exists(deleting) AND (policyRevision = :rev OR (attribute_not_exists(policyRevision) AND :rev = :zero))',
          ExpressionAttributeValues: {
            ...(policy ? { ':p': policyToWire(policy) } : {}),
            ':next': model.policyRevision + 1,
            ':rev': model.policyRevision,
            ':zero': 0,
            ':id': model.id,
            ':now': now,
            ':u': modelKey.updatedIndex(model.name, now),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    ];
    if (apply) {
      items.push({
        Update: {
          TableName: this.tableName,
          Key: policyRequestKey.primary(model.id, apply.request.id),
          UpdateExpression: 'SET #st = :applied, approvals = :approvals, updatedAt = :now',
          ConditionExpression: '#st = :pending AND size(approvals) = :count',
          ExpressionAttributeNames: { '#st': 'status' },
          ExpressionAttributeValues: {
            ':applied': 'APPLIED',
            ':pending': 'PENDING',
            ':approvals': apply.approvals,
            ':count': apply.request.approvals.length,
            ':now': now,
          },
        },
      });
    }
    try {
      await this.write(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (!reasons) throw err;
      const old = reasons[0]?.Item;
      if (
        reasons[0]?.Code === 'ConditionalCheckFailed' &&
        (!old || old.deleting || old.modelId !== model.id)
      ) {
        throw notFoundModel(model.name);
      }
      throw new ConcurrentModificationError(
        `The policy of Registered Model (name=${model.name}) changed while it was being set; read it again and retry.`,
      );
    }
    return {
      ...model,
      ...(policy ? { policy } : {}),
      ...(policy ? {} : { policy: undefined }),
      policyRevision: model.policyRevision + 1,
      lastUpdatedTimestamp: now,
    };
  }

  async createRequest(request: TransitionRequest): Promise<void> {
    await this.write(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...requestKey.primary(request.modelId, request.id),
          ...openRequestKey.index(request.modelId, request.version, request.id),
          ...requestItem(request),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getRequest(model: { id: string }, id: string): Promise<TransitionRequest | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: requestKey.primary(model.id, id),
        ConsistentRead: true,
      }),
    );
    return Item ? toRequest(Item) : undefined;
  }

  async getTaskToken(model: { id: string }, id: string): Promise<string | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: requestKey.primary(model.id, id),
        ConsistentRead: true,
        ProjectionExpression: 'taskToken',
      }),
    );
    return Item?.taskToken as string | undefined;
  }

  async updateRequest(
    model: { id: string },
    current: TransitionRequest,
    changes: RequestChanges,
    now: number,
  ): Promise<TransitionRequest> {
    await this.updateRequestItem(requestKey.primary(model.id, current.id), current, changes, now);
    const fresh = await this.getRequest(model, current.id);
    return fresh!;
  }

  /** Updates a request item if it is still as `current` says (status and approvals). */
  private async updateRequestItem(
    key: Item,
    current: { id: string; status: RequestStatus; approvals: readonly Approval[] },
    changes: RequestChanges,
    now: number,
  ): Promise<void> {
    const sets = ['updatedAt = :now'];
    const removes: string[] = [];
    const values: Item = { ':now': now, ':expected': current.status, ':count': current.approvals.length };
    if (changes.status) {
      sets.push('#st = :status');
      values[':status'] = changes.status;
      // A closed request leaves the index of open requests.
      if (changes.status !== 'PENDING' && changes.status !== 'APPROVED') removes.push('gsi6pk', 'gsi6sk');
    }
    if (changes.reason !== undefined) {
      sets.push('reason = :reason');
      values[':reason'] = changes.reason;
    }
    if (changes.approvals) {
      sets.push('approvals = :approvals');
      values[':approvals'] = changes.approvals;
    }
    if (changes.taskToken === null) removes.push('taskToken');
    else if (changes.taskToken !== undefined) {
      sets.push('taskToken = :token, awaitingApproval = :true');
      values[':token'] = changes.taskToken;
      values[':true'] = true;
    }
    try {
      await this.write(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          // Optimistic: the request is still as the caller read it.
          ConditionExpression: 'attribute_exists(pk) AND #st = :expected AND size(approvals) = :count',
          ExpressionAttributeNames: { '#st': 'status' },
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        throw new ConcurrentModificationError(
          `Request ${current.id} changed while it was being updated; read it again and retry.`,
        );
      }
      throw err;
    }
  }

  async listRequests(
    model: RegisteredModel,
    options: { status?: RequestStatus; version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<TransitionRequest>> {
    const fingerprint = queryFingerprint([
      'requests',
      model.id,
      options.status ?? null,
      options.version ?? null,
    ]);
    const cursor = decodePageToken(options.pageToken, fingerprint);
    return this.streamIndex({
      fingerprint,
      cursor,
      partition: modelPartition(model.id),
      sortKeyPrefix: requestKey.prefix,
      ascending: false,
      maxResults: options.maxResults,
      convert: (item) => {
        const request = toRequest(item);
        if (options.status && request.status !== options.status) return undefined;
        if (options.version !== undefined && request.version !== options.version) return undefined;
        return request;
      },
    });
  }

  async listOpenRequests(options: {
    modelId?: string;
    version?: number;
    maxResults: number;
    pageToken?: string;
  }): Promise<Page<TransitionRequest>> {
    const fingerprint = queryFingerprint(['open-requests', options.modelId ?? null, options.version ?? null]);
    const cursor = decodePageToken(options.pageToken, fingerprint);
    const prefix = openRequestKey.prefix(options.modelId, options.version);
    return this.streamIndex({
      fingerprint,
      cursor,
      index: INDEXES.byOpenRequest,
      partition: openRequestKey.partition,
      ascending: true,
      sortKeyPrefix: prefix || undefined,
      maxResults: options.maxResults,
      convert: toRequest,
    });
  }

  async createPolicyRequest(request: PolicyChangeRequest): Promise<void> {
    await this.write(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...policyRequestKey.primary(request.modelId, request.id), ...policyRequestItem(request) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getPolicyRequest(model: { id: string }, id: string): Promise<PolicyChangeRequest | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: policyRequestKey.primary(model.id, id),
        ConsistentRead: true,
      }),
    );
    return Item ? toPolicyRequest(Item) : undefined;
  }

  async updatePolicyRequest(
    model: { id: string },
    current: PolicyChangeRequest,
    changes: Pick<RequestChanges, 'status' | 'reason' | 'approvals'>,
    now: number,
  ): Promise<PolicyChangeRequest> {
    await this.updateRequestItem(policyRequestKey.primary(model.id, current.id), current, changes, now);
    return (await this.getPolicyRequest(model, current.id))!;
  }

  async listPolicyRequests(
    model: RegisteredModel,
    options: { status?: RequestStatus; maxResults: number; pageToken?: string },
  ): Promise<Page<PolicyChangeRequest>> {
    const fingerprint = queryFingerprint(['policy-requests', model.id, options.status ?? null]);
    const cursor = decodePageToken(options.pageToken, fingerprint);
    return this.streamIndex({
      fingerprint,
      cursor,
      partition: modelPartition(model.id),
      sortKeyPrefix: policyRequestKey.prefix,
      ascending: false,
      maxResults: options.maxResults,
      convert: (item) => {
        const request = toPolicyRequest(item);
        return options.status && request.status !== options.status ? undefined : request;
      },
    });
  }

  async listAudit(
    modelId: string,
    options: { version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<{ type: string; detail: RegistryEventDetail }>> {
    const fingerprint = queryFingerprint(['audit', modelId, options.version ?? null]);
    const cursor = decodePageToken(options.pageToken, fingerprint);
    return this.streamIndex({
      fingerprint,
      cursor,
      partition: modelPartition(modelId),
      sortKeyPrefix: auditKey.prefix,
      ascending: false,
      maxResults: options.maxResults,
      convert: (item) =>
        options.version !== undefined && item.version !== options.version
          ? undefined
          : { type: item.type as string, detail: item.detail as RegistryEventDetail },
    });
  }

  async listTransitions(
    model: RegisteredModel,
    options: { version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<StageTransition>> {
    const fingerprint = queryFingerprint(['transitions', model.id, options.version ?? null]);
    const cursor = decodePageToken(options.pageToken, fingerprint);
    return this.streamIndex({
      fingerprint,
      cursor,
      partition: modelPartition(model.id),
      sortKeyPrefix: transitionKey.prefix,
      ascending: false,
      maxResults: options.maxResults,
      convert: (item) =>
        options.version !== undefined && item.version !== options.version
          ? undefined
          : ({
              name: model.name,
              version: item.version as number,
              fromStage: item.fromStage as Stage,
              toStage: item.toStage as Stage,
              actor: item.actor as string,
              timestamp: item.timestamp as number,
              ...(item.comment ? { comment: item.comment as string } : {}),
              ...(item.causedBy ? { causedBy: item.causedBy as StageTransition['causedBy'] } : {}),
              ...(item.via ? { via: item.via as ChangeProvenance } : {}),
            } satisfies StageTransition),
    });
  }
}

const decodeMismatch = invalidPageToken;

/** The stored form of a transition request (policies as their wire JSON). */
function requestItem(r: TransitionRequest): Item {
  return {
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

function toRequest(item: Item): TransitionRequest {
  return {
    id: item.id as string,
    modelId: item.modelId as string,
    name: item.name as string,
    version: item.version as number,
    target: item.target as RequestTarget,
    requester: item.requester as TransitionRequest['requester'],
    ...(item.comment ? { comment: item.comment as string } : {}),
    status: item.status as RequestStatus,
    ...(item.reason ? { reason: item.reason as string } : {}),
    approvals: (item.approvals as TransitionRequest['approvals'] | undefined) ?? [],
    filedPolicy: effectivePolicy(DEFAULT_POLICY, parsePolicyOverride(item.filedPolicy, 'stored policy')),
    createdAt: item.createdAt as number,
    updatedAt: item.updatedAt as number,
    expiresAt: item.requestExpiresAt as number,
    awaitingApproval: item.awaitingApproval === true,
  };
}

function policyRequestItem(r: PolicyChangeRequest): Item {
  return {
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
    // Not `expiresAt`: that is the TTL attribute, and a decided request stays in the history.
    requestExpiresAt: r.expiresAt,
  };
}

function toPolicyRequest(item: Item): PolicyChangeRequest {
  const override = (v: unknown) => (v ? parsePolicyOverride(v, 'stored policy') : null);
  return {
    id: item.id as string,
    modelId: item.modelId as string,
    name: item.name as string,
    requester: item.requester as PolicyChangeRequest['requester'],
    ...(item.comment ? { comment: item.comment as string } : {}),
    status: item.status as RequestStatus,
    ...(item.reason ? { reason: item.reason as string } : {}),
    approvals: (item.approvals as Approval[] | undefined) ?? [],
    before: override(item.before),
    after: override(item.after),
    weakenings: (item.weakenings as string[] | undefined) ?? [],
    requiredApprovals: item.requiredApprovals as number,
    policyRevision: item.policyRevision as number,
    createdAt: item.createdAt as number,
    updatedAt: item.updatedAt as number,
    expiresAt: item.requestExpiresAt as number,
  };
}

function isHidden(model: RegisteredModel): boolean {
  return model.deleting === true;
}

export function modelSearchable(model: RegisteredModel): Searchable {
  return {
    name: model.name,
    creationTimestamp: model.creationTimestamp,
    lastUpdatedTimestamp: model.lastUpdatedTimestamp,
    tags: model.tags,
  };
}

export function versionSearchable(v: ModelVersion): Searchable {
  return {
    name: v.name,
    version: v.version,
    ...(v.runId ? { runId: v.runId } : {}),
    source: v.source,
    creationTimestamp: v.creationTimestamp,
    lastUpdatedTimestamp: v.lastUpdatedTimestamp,
    tags: v.tags,
  };
}

/** `name LIKE 'abc%'` (no other wildcard) can be served by a sort-key prefix. */
function literalPrefix(clauses: readonly FilterClause[], attr: 'name'): string | undefined {
  for (const c of clauses) {
    if (
      c.key.type === 'attribute' &&
      c.key.name === attr &&
      c.comparator === 'LIKE' &&
      typeof c.value === 'string'
    ) {
      const m = /^([^%_\\]+)%$/.exec(c.value);
      if (m) return m[1];
    }
  }
  return undefined;
}
