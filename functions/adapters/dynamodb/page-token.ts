/**
 * Opaque page tokens: base64url JSON holding where the next page starts and a fingerprint of the
 * query it belongs to. A token that does not decode, does not match the query, or points outside
 * the partition being read is refused with a 400, never passed to DynamoDB.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InvalidParameterError } from '../../domain/errors';

const MAX_TOKEN_LENGTH = 4096;

const tokenSchema = z
  .object({
    v: z.literal(1),
    /** Fingerprint of the query. */
    q: z.string().length(16),
    /** The access path the token continues (an index name or a partition read). */
    p: z.string().max(64),
    /** ExclusiveStartKey for a streamed read. */
    k: z.record(z.string().max(64), z.string().max(2048)).optional(),
    /** Offset for an in-memory ordered read. */
    o: z.number().int().nonnegative().max(10_000_000).optional(),
  })
  .strict();

export type PageCursor = z.infer<typeof tokenSchema>;

export function queryFingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export const invalidPageToken = (): InvalidParameterError =>
  new InvalidParameterError(
    'Invalid page_token: pass the next_page_token of the previous response unchanged, with the same filter and order_by.',
  );

export function decodePageToken(token: string | undefined, fingerprint: string): PageCursor | undefined {
  if (token === undefined || token === '') return undefined;
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw invalidPageToken();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidPageToken();
  }
  const result = tokenSchema.safeParse(parsed);
  if (!result.success || result.data.q !== fingerprint) throw invalidPageToken();
  return result.data;
}

/** Refuses a start key whose partition is not the one being read, or with unexpected attributes. */
export function checkStartKey(
  key: Record<string, string> | undefined,
  expected: { partitionAttr: string; partitionValue: string; attrs: readonly string[] },
): Record<string, string> | undefined {
  if (!key) return undefined;
  const names = Object.keys(key).sort();
  const want = [...expected.attrs].sort();
  if (
    names.length !== want.length ||
    names.some((n, i) => n !== want[i]) ||
    key[expected.partitionAttr] !== expected.partitionValue
  ) {
    throw invalidPageToken();
  }
  return key;
}
