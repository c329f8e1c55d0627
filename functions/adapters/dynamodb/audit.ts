/** The audit log: the events recorded with each change (functions/adapters/dynamodb/table.ts `auditItem`). */
import type { RegistryEventDetail } from '../../domain/events';
import type { Page } from '../../use-cases/ports';
import { auditKey, modelPartition } from './keys';
import { type PageTokens, queryFingerprint } from './page-token';
import type { RegistryTable } from './table';

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
}
