/** The audit log: the events recorded with each change (functions/adapters/dynamodb/table.ts `auditItem`). */
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { RegistryEvent, RegistryEventDetail } from '../../domain/events';
import type { Page } from '../../use-cases/ports';
import { auditKey, modelPartition, padTime } from './keys';
import { type PageTokens, queryFingerprint } from './page-token';
import type { Item, RegistryTable } from './table';

/** The key of an audit entry (what a replay page resumes after). */
const auditStartKey = (k: Record<string, string> | undefined): Record<string, string> | undefined => {
  if (!k) return undefined;
  if (Object.keys(k).sort().join(',') !== 'pk,sk' || !k.pk?.startsWith('MID#') || !k.sk) return undefined;
  return k;
};

export class AuditLog {
  constructor(
    private readonly table: RegistryTable,
    private readonly tokens: PageTokens,
  ) {}

  /** The audit log of a model (by id: it outlives the model), newest first. */
  list(
    modelId: string,
    options: { version?: number; maxResults: number; pageToken?: string },
  ): Promise<Page<{ type: string; detail: RegistryEventDetail }>> {
    const fingerprint = queryFingerprint(['audit', modelId, options.version ?? null]);
    return this.table.stream({
      tokens: this.tokens,
      fingerprint,
      cursor: this.tokens.decode(options.pageToken, fingerprint),
      partition: modelPartition(modelId),
      sortKeyPrefix: auditKey.prefix,
      ascending: false,
      maxResults: options.maxResults,
      convert: (item) => {
        if (options.version !== undefined && item.version !== options.version) return undefined;
        return JSON.parse(item.event as string) as { type: string; detail: RegistryEventDetail };
      },
    });
  }

  /**
   * The events recorded in [from, to), oldest first within a model: one model's by a Query of its
   * partition's audit range, every model's by a Scan of the table filtered to audit entries in the
   * range (deleted models' too). A page stops after `maxItems` items were examined.
   */
  async range(options: {
    from: number;
    to: number;
    modelId?: string;
    maxItems: number;
    pageToken?: string;
  }): Promise<Page<RegistryEvent>> {
    const fingerprint = queryFingerprint(['audit-range', options.from, options.to, options.modelId ?? null]);
    const cursor = this.tokens.decode(options.pageToken, fingerprint);
    let start = cursor?.k;
    if (cursor && !auditStartKey(start)) throw this.tokens.invalid();
    if (start && options.modelId && start.pk !== modelPartition(options.modelId)) throw this.tokens.invalid();
    const low = `${auditKey.prefix}${padTime(options.from)}`;
    const high = `${auditKey.prefix}${padTime(options.to)}`;
    const items: RegistryEvent[] = [];
    let examined = 0;
    do {
      const page = options.modelId
        ? await this.table.db.send(
            new QueryCommand({
              TableName: this.table.name,
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
              ExpressionAttributeValues: {
                ':pk': modelPartition(options.modelId),
                ':low': low,
                ':high': high,
              },
              Limit: Math.min(100, options.maxItems - examined),
              ...(start ? { ExclusiveStartKey: start } : {}),
            }),
          )
        : await this.table.db.send(
            new ScanCommand({
              TableName: this.table.name,
              FilterExpression: 'sk BETWEEN :low AND :high',
              ExpressionAttributeValues: { ':low': low, ':high': high },
              Limit: Math.min(1000, options.maxItems - examined),
              ...(start ? { ExclusiveStartKey: start } : {}),
            }),
          );
      examined += page.ScannedCount ?? 0;
      for (const item of (page.Items ?? []) as Item[]) {
        // `high` is the first key of `to` (exclusive): a key of that millisecond sorts after it.
        if ((item.sk as string) >= high) continue;
        items.push(JSON.parse(item.event as string) as RegistryEvent);
      }
      start = page.LastEvaluatedKey as Record<string, string> | undefined;
    } while (start && examined < options.maxItems);
    return {
      items,
      ...(start
        ? { nextPageToken: this.tokens.encode({ v: 1, q: fingerprint, p: 'audit-range', k: start }) }
        : {}),
    };
  }
}
