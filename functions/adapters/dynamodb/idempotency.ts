/**
 * Idempotency records: the first completed response of a mutating request, kept for a retry of it
 * (same caller, route and `Idempotency-Key`). The protocol is the one of Powertools for AWS
 * Lambda's idempotency utility (a record claimed IN_PROGRESS with a lock that expires with the
 * invocation, then COMPLETED with the response; a payload fingerprint checked on every reuse; a
 * TTL), kept in the registry's own table under its own partition per record.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { TTL_ATTRIBUTE } from '../../wiring/table';
import { idempotencyKey } from './keys';
import { ITEM_BUDGET_BYTES, type Item, itemBytes } from './table';

/** A response as recorded and replayed. */
export interface RecordedResponse {
  readonly statusCode: number;
  readonly body: string;
  readonly headers: Record<string, string>;
}

export type Claim =
  /** The request is the first (or the earlier one's lock expired): run it, then complete or release. */
  | { readonly outcome: 'claimed' }
  /** An earlier request with this key completed: answer with its response. */
  | { readonly outcome: 'completed'; readonly response: RecordedResponse }
  /** An earlier request with this key is still running. */
  | { readonly outcome: 'in-progress' }
  /** The key was used for a request with other parameters. */
  | { readonly outcome: 'mismatch' };

export interface IdempotencyScope {
  /** The caller (the person, stable across their sessions). */
  readonly caller: string;
  /** The route: method and resource template. */
  readonly route: string;
  /** The client's key. */
  readonly key: string;
}

/** How long a completed response is kept for retries. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

const IN_PROGRESS = 'IN_PROGRESS';
const COMPLETED = 'COMPLETED';

export class IdempotencyStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  private key(scope: IdempotencyScope) {
    const hash = createHash('sha256')
      .update(`${scope.caller}\n${scope.route}\n${scope.key}`, 'utf8')
      .digest('base64url');
    return idempotencyKey.primary(hash);
  }

  /**
   * Claims the key for a request whose parameters hash to `fingerprint`, locked until `lockMs`
   * from now (the invocation's remaining time): a concurrent duplicate sees it in progress until
   * then, and may take it over after (the earlier invocation can no longer be running).
   */
  async claim(scope: IdempotencyScope, fingerprint: string, lockMs: number): Promise<Claim> {
    const now = this.now();
    const key = this.key(scope);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key,
            entity: 'IdempotencyRecord',
            status: IN_PROGRESS,
            route: scope.route,
            fingerprint,
            lockedUntil: now + lockMs,
            [TTL_ATTRIBUTE]: Math.floor(now / 1000) + IDEMPOTENCY_TTL_SECONDS,
          },
          // Free, expired (TTL deletes lazily), or a lock whose invocation has ended.
          ConditionExpression:
            'attribute_not_exists(pk) OR #ttl < :nowSeconds OR (#status = :inProgress AND lockedUntil < :now AND fingerprint = :fingerprint)',
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE, '#status': 'status' },
          ExpressionAttributeValues: {
            ':nowSeconds': Math.floor(now / 1000),
            ':inProgress': IN_PROGRESS,
            ':now': now,
            ':fingerprint': fingerprint,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { outcome: 'claimed' };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const existing = err.Item
        ? (unmarshall(err.Item) as Item)
        : (await this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })))
            .Item;
      if (!existing) return this.claim(scope, fingerprint, lockMs); // deleted meanwhile: try again
      if (existing.fingerprint !== fingerprint) return { outcome: 'mismatch' };
      if (existing.status === COMPLETED) {
        return { outcome: 'completed', response: decodeResponse(existing.response as Item) };
      }
      return { outcome: 'in-progress' };
    }
  }

  /**
   * Records the response of the claimed request. Returns false when it is too large to record
   * (the claim is released instead: a retry runs the request again).
   */
  async complete(scope: IdempotencyScope, fingerprint: string, response: RecordedResponse): Promise<boolean> {
    const now = this.now();
    const item: Item = {
      ...this.key(scope),
      entity: 'IdempotencyRecord',
      status: COMPLETED,
      route: scope.route,
      fingerprint,
      completedAt: now,
      response: {
        statusCode: response.statusCode,
        headers: response.headers,
        body: gzipSync(Buffer.from(response.body, 'utf8')).toString('base64'),
      },
      [TTL_ATTRIBUTE]: Math.floor(now / 1000) + IDEMPOTENCY_TTL_SECONDS,
    };
    if (itemBytes(item) > ITEM_BUDGET_BYTES) {
      await this.release(scope, fingerprint);
      return false;
    }
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: item,
        ConditionExpression: 'fingerprint = :fingerprint',
        ExpressionAttributeValues: { ':fingerprint': fingerprint },
      }),
    );
    return true;
  }

  /** Gives the key back (the request failed or was refused: a retry runs it again). */
  async release(scope: IdempotencyScope, fingerprint: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: this.key(scope),
          ConditionExpression: '#status = :inProgress AND fingerprint = :fingerprint',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':inProgress': IN_PROGRESS, ':fingerprint': fingerprint },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
}

function decodeResponse(item: Item): RecordedResponse {
  const body = Buffer.from(item.body as string, 'base64');
  return {
    statusCode: Number(item.statusCode),
    headers: (item.headers as Record<string, string>) ?? {},
    body: gunzipSync(body).toString('utf8'),
  };
}
