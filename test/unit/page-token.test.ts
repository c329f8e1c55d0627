import { describe, expect, it } from 'vitest';
import {
  checkStartKey,
  decodePageToken,
  encodePageToken,
  queryFingerprint,
} from '../../functions/adapters/dynamodb/page-token';
import { InvalidParameterError } from '../../functions/domain/errors';

const q = queryFingerprint(['models', [], []]);

describe('page tokens', () => {
  it('round-trip a cursor for the same query', () => {
    const token = encodePageToken({ v: 1, q, p: 'gsi1', k: { pk: 'MODEL#a', sk: 'MODEL' } });
    expect(decodePageToken(token, q)).toEqual({ v: 1, q, p: 'gsi1', k: { pk: 'MODEL#a', sk: 'MODEL' } });
  });

  it('refuse a token issued for another query', () => {
    const token = encodePageToken({ v: 1, q, p: 'gsi1', o: 3 });
    expect(() => decodePageToken(token, queryFingerprint(['models', [], [{ key: 'name' }]]))).toThrow(
      InvalidParameterError,
    );
  });

  it.each([
    ['not base64', '!!!'],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['extra fields', Buffer.from(JSON.stringify({ v: 1, q, p: 'gsi1', evil: 1 })).toString('base64url')],
    ['a negative offset', Buffer.from(JSON.stringify({ v: 1, q, p: 'x', o: -1 })).toString('base64url')],
    ['a huge token', 'A'.repeat(5000)],
  ])('refuse %s', (_label, token) => {
    expect(() => decodePageToken(token, q)).toThrow(InvalidParameterError);
  });

  it('refuse a start key outside the partition being read', () => {
    expect(() =>
      checkStartKey(
        { pk: 'x', sk: 'y', gsi1pk: 'VERSIONS', gsi1sk: 'a' },
        { partitionAttr: 'gsi1pk', partitionValue: 'MODELS', attrs: ['pk', 'sk', 'gsi1pk', 'gsi1sk'] },
      ),
    ).toThrow(InvalidParameterError);
  });
});
