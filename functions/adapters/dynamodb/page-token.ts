/**
 * Opaque page tokens: base64url JSON holding where the next page starts and a fingerprint of the
 * query it belongs to, authenticated with an HMAC under the deployment's secret. A token that does
 * not decode, is not authentic, does not match the query, or points outside the range being read
 * is refused with a 400, never passed to DynamoDB.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { InvalidParameterError } from '../../domain/errors';

const MAX_TOKEN_LENGTH = 4096;
const MAC_LENGTH = 22;

const startKey = z.record(z.string().max(64), z.string().max(2048));

const tokenSchema = z
  .object({
    v: z.literal(1),
    /** Fingerprint of the query. */
    q: z.string().length(16),
    /** The access path the token continues (an index name or a partition read). */
    p: z.string().max(64),
    /** ExclusiveStartKey for a streamed read. */
    k: startKey.optional(),
    /** Where each source of a merged read resumes: after a key, or from its start (null). */
    ks: z.array(startKey.nullable()).max(4).optional(),
    /** Where a merged read's previous page ended in its order (see `RegistryTable.stream`). */
    f: z.string().max(2048).optional(),
    /** Offset for an in-memory ordered read. */
    o: z.number().int().nonnegative().max(10_000_000).optional(),
  })
  .strict();

export type PageCursor = z.infer<typeof tokenSchema>;

export function queryFingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

export const invalidPageToken = (): InvalidParameterError =>
  new InvalidParameterError(
    'Invalid page_token: pass the next_page_token of the previous response unchanged, with the same filter and order_by.',
  );

/** Encodes and checks page tokens under one secret (per deployment: PAGE_TOKEN_SECRET). */
export class PageTokens {
  constructor(private readonly secret: string) {
    if (secret.length < 16) throw new Error('The page token secret must have at least 16 characters');
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url').slice(0, MAC_LENGTH);
  }

  encode(cursor: PageCursor): string {
    const body = Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  invalid(): InvalidParameterError {
    return invalidPageToken();
  }

  decode(token: string | undefined, fingerprint: string): PageCursor | undefined {
    if (token === undefined || token === '') return undefined;
    if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token))
      throw invalidPageToken();
    const [body, mac] = token.split('.') as [string, string];
    const expected = Buffer.from(this.mac(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidPageToken();
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw invalidPageToken();
    }
    const result = tokenSchema.safeParse(parsed);
    if (!result.success || result.data.q !== fingerprint) throw invalidPageToken();
    return result.data;
  }
}

/**
 * Refuses a start key whose partition is not the one being read, whose sort key is outside the
 * prefix read, or with unexpected attributes (authentic tokens only carry such keys if the code
 * that made them had a bug; this keeps any of them away from DynamoDB).
 */
export function checkStartKey(
  key: Record<string, string> | undefined,
  expected: {
    partitionAttr: string;
    partitionValue: string;
    attrs: readonly string[];
    sortAttr?: string;
    sortPrefix?: string | undefined;
  },
  tokens: Pick<PageTokens, 'invalid'>,
): Record<string, string> | undefined {
  if (!key) return undefined;
  const names = Object.keys(key).sort();
  const want = [...expected.attrs].sort();
  if (
    names.length !== want.length ||
    names.some((n, i) => n !== want[i]) ||
    key[expected.partitionAttr] !== expected.partitionValue ||
    (expected.sortAttr && expected.sortPrefix && !key[expected.sortAttr]?.startsWith(expected.sortPrefix))
  ) {
    throw tokens.invalid();
  }
  return key;
}
