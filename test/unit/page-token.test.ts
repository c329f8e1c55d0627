import { describe, expect, it } from 'vitest';
import { checkStartKey, PageTokens, queryFingerprint } from '../../functions/adapters/dynamodb/page-token';
import { InvalidParameterError } from '../../functions/domain/errors';

const q = queryFingerprint(['models', [], []]);
const tokens = new PageTokens('a-secret-of-this-deployment');

describe('page tokens', () => {
  it('round-trip a cursor for the same query', () => {
    const token = tokens.encode({ v: 1, q, p: 'gsi1', k: { pk: 'MODEL#a', sk: 'MODEL' } });
    expect(tokens.decode(token, q)).toEqual({ v: 1, q, p: 'gsi1', k: { pk: 'MODEL#a', sk: 'MODEL' } });
  });

  it('refuse a token issued for another query', () => {
    const token = tokens.encode({ v: 1, q, p: 'gsi1', o: 3 });
    expect(() => tokens.decode(token, queryFingerprint(['models', [], [{ key: 'name' }]]))).toThrow(
      InvalidParameterError,
    );
  });

  it('refuse a token made with another secret, or changed after it was issued (forged start keys)', () => {
    const other = new PageTokens('the-secret-of-another-deployment');
    const forged = other.encode({ v: 1, q, p: 'gsi1', k: { pk: 'MODEL#zzz', sk: 'MODEL' } });
    expect(() => tokens.decode(forged, q)).toThrow(InvalidParameterError);
    const token = tokens.encode({ v: 1, q, p: 'gsi1', o: 3 });
    const [, mac] = token.split('.');
    const tampered = `${Buffer.from(JSON.stringify({ v: 1, q, p: 'gsi1', o: 4 })).toString('base64url')}.${mac}`;
    expect(() => tokens.decode(tampered, q)).toThrow(InvalidParameterError);
  });

  it.each([
    ['not base64', '!!!'],
    ['no MAC', Buffer.from(JSON.stringify({ v: 1, q, p: 'gsi1' })).toString('base64url')],
    ['not JSON', `${Buffer.from('nope').toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAA`],
    ['a huge token', 'A'.repeat(5000)],
  ])('refuse %s', (_label, token) => {
    expect(() => tokens.decode(token, q)).toThrow(InvalidParameterError);
  });

  it('refuse a start key outside the partition or the range being read', () => {
    expect(() =>
      checkStartKey(
        { pk: 'x', sk: 'y', gsi1pk: 'VERSIONS', gsi1sk: 'a' },
        { partitionAttr: 'gsi1pk', partitionValue: 'MODELS', attrs: ['pk', 'sk', 'gsi1pk', 'gsi1sk'] },
        tokens,
      ),
    ).toThrow(InvalidParameterError);
    expect(() =>
      checkStartKey(
        { pk: 'MID#1', sk: 'A#1' },
        {
          partitionAttr: 'pk',
          partitionValue: 'MID#1',
          attrs: ['pk', 'sk'],
          sortAttr: 'sk',
          sortPrefix: 'R#',
        },
        tokens,
      ),
    ).toThrow(InvalidParameterError);
  });
});
