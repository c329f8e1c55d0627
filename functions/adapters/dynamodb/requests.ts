/**
 * Transition requests (governed stage transitions and protected alias moves) and policy change
 * requests. Open transition requests are also in a sparse index (the inbox, the reconciler, and
 * the requests a change makes moot); a request leaves it when it closes.
 */
import { ConcurrentModificationError } from '../../domain/errors';
import type {
  Approval,
  PolicyChangeRequest,
  RequestStatus,
  TransitionRequest,
} from '../../domain/governance';
import type { RegisteredModel } from '../../domain/model';
import type { ModelRef, Page, RequestChanges, RequestClosure } from '../../use-cases/ports';
import { policyRequestItem, requestItem, toPolicyRequest, toRequest } from './codecs';
import { modelPartition, openRequestKey, policyRequestKey, requestKey } from './keys';
import { type PageTokens, queryFingerprint } from './page-token';
import {
  INDEXES,
  type Item,
  type Journal,
  type RegistryTable,
  type TransactItem,
  WriteRefused,
} from './table';

/** Marks the approved request a change applies APPLIED, in the change's transaction. */
export function markApplied(table: string, modelId: string, requestId: string, now: number): TransactItem {
  return {
    Update: {
      TableName: table,
      Key: requestKey.primary(modelId, requestId),
      UpdateExpression: 'SET #st = :applied, updatedAt = :now REMOVE taskToken, gsi6pk, gsi6sk',
      ConditionExpression: '#st = :approved',
      ExpressionAttributeNames: { '#st': 'status' },
      ExpressionAttributeValues: { ':applied': 'APPLIED', ':approved': 'APPROVED', ':now': now },
    },
  };
}

/** Closes an open request a change makes moot, if it is still as it was read. */
export function closeItem(table: string, closure: RequestClosure, now: number): TransactItem {
  return {
    Update: {
      TableName: table,
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

/** A request as an update left it (the write returns nothing worth a second read). */
function applied<
  R extends { status: RequestStatus; reason?: string; approvals: readonly Approval[]; updatedAt: number },
>(current: R, changes: RequestChanges, now: number): R {
  return {
    ...current,
    updatedAt: now,
    ...(changes.status ? { status: changes.status } : {}),
    ...(changes.reason !== undefined ? { reason: changes.reason } : {}),
    ...(changes.approvals ? { approvals: changes.approvals } : {}),
  };
}

export class Requests {
  constructor(
    private readonly table: RegistryTable,
    private readonly tokens: PageTokens,
  ) {}

  private get t() {
    return this.table.name;
  }

  async create(request: TransitionRequest, journal: Journal): Promise<void> {
    await this.table.write(
      [
        {
          Put: {
            TableName: this.t,
            Item: requestItem(request),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
      journal,
    );
  }

  async get(model: ModelRef, id: string): Promise<TransitionRequest | undefined> {
    const item = await this.table.get(requestKey.primary(model.id, id), true);
    return item ? toRequest(item) : undefined;
  }

  async taskToken(model: ModelRef, id: string): Promise<string | undefined> {
    const item = await this.table.get(requestKey.primary(model.id, id), true);
    return item?.taskToken as string | undefined;
  }

  async update(
    model: ModelRef,
    current: TransitionRequest,
    changes: RequestChanges,
    now: number,
    journal: Journal,
  ): Promise<TransitionRequest> {
    await this.updateItem(requestKey.primary(model.id, current.id), current, changes, now, journal);
    return {
      ...applied(current, changes, now),
      ...(typeof changes.taskToken === 'string' ? { awaitingApproval: true } : {}),
    };
  }

  /** Updates a request item if it is still as `current` says (status and approvals). */
  private async updateItem(
    key: Item,
    current: { id: string; status: RequestStatus; approvals: readonly Approval[] },
    changes: RequestChanges,
    now: number,
    journal: Journal,
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
      await this.table.write(
        [
          {
            Update: {
              TableName: this.t,
              Key: key,
              UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
              // Optimistic: the request is still as the caller read it.
              ConditionExpression: 'attribute_exists(pk) AND #st = :expected AND size(approvals) = :count',
              ExpressionAttributeNames: { '#st': 'status' },
              ExpressionAttributeValues: values,
            },
          },
        ],
        journal,
      );
    } catch (err) {
      if (err instanceof WriteRefused) {
        throw new ConcurrentModificationError(
          `Request ${current.id} changed while it was being updated; read it again and retry.`,
        );
      }
      throw err;
    }
  }

  list(
    model: RegisteredModel,
    options: { status?: RequestStatus; version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<TransitionRequest>> {
    const fingerprint = queryFingerprint([
      'requests',
      model.id,
      options.status ?? null,
      options.version ?? null,
    ]);
    return this.table.stream({
      tokens: this.tokens,
      fingerprint,
      cursor: this.tokens.decode(options.pageToken, fingerprint),
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

  listOpen(options: { modelId?: string; version?: number; maxResults: number; pageToken?: string }) {
    const fingerprint = queryFingerprint(['open-requests', options.modelId ?? null, options.version ?? null]);
    const prefix = openRequestKey.prefix(options.modelId, options.version);
    return this.table.stream({
      tokens: this.tokens,
      fingerprint,
      cursor: this.tokens.decode(options.pageToken, fingerprint),
      index: INDEXES.byOpenRequest,
      partition: openRequestKey.partition,
      ascending: true,
      sortKeyPrefix: prefix || undefined,
      maxResults: options.maxResults,
      convert: toRequest,
    });
  }

  async createPolicy(request: PolicyChangeRequest, journal: Journal): Promise<void> {
    await this.table.write(
      [
        {
          Put: {
            TableName: this.t,
            Item: policyRequestItem(request),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
      journal,
    );
  }

  async getPolicy(model: ModelRef, id: string): Promise<PolicyChangeRequest | undefined> {
    const item = await this.table.get(policyRequestKey.primary(model.id, id), true);
    return item ? toPolicyRequest(item) : undefined;
  }

  async updatePolicy(
    model: ModelRef,
    current: PolicyChangeRequest,
    changes: Pick<RequestChanges, 'status' | 'reason' | 'approvals'>,
    now: number,
    journal: Journal,
  ): Promise<PolicyChangeRequest> {
    await this.updateItem(policyRequestKey.primary(model.id, current.id), current, changes, now, journal);
    return applied(current, changes, now);
  }

  listPolicy(
    model: RegisteredModel,
    options: { status?: RequestStatus; maxResults: number; pageToken?: string },
  ): Promise<Page<PolicyChangeRequest>> {
    const fingerprint = queryFingerprint(['policy-requests', model.id, options.status ?? null]);
    return this.table.stream({
      tokens: this.tokens,
      fingerprint,
      cursor: this.tokens.decode(options.pageToken, fingerprint),
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
}
