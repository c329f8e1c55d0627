/**
 * What each audience is granted (lib/audience-grants.ts), checked as IAM evaluates it: a route is
 * callable when an Allow pattern matches its request and no Deny pattern does. Each audience can
 * call exactly its own routes, whatever the path parameters; and docs/iam.md is the one the
 * contract generates.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIENCES, audienceOf } from '../../functions/api/contract';
import { ALL_OPERATIONS } from '../../functions/api/routes';
import { audienceGrant, iamPatternMatches, routePattern, sampleRequests } from '../../lib/audience-grants';
import { iamDocs } from '../../lib/iam-docs';

/** Whether IAM lets a principal holding this audience's policy make `request`. */
function permits(audience: (typeof AUDIENCES)[number], request: string): boolean {
  const { allow, deny } = audienceGrant(audience);
  const matches = (ops: typeof allow) => ops.some((o) => iamPatternMatches(routePattern(o), request));
  return matches(allow) && !matches(deny);
}

const ordinary = (path: string) => path.replace(/\{version\}/g, '1').replace(/\{[^}]+\}/g, 'x');

describe('IAM resource patterns', () => {
  it('match as IAM does: * spans any characters, slashes included; ? is one character; anchored', () => {
    expect(iamPatternMatches('DELETE/models/*', 'DELETE/models/fraud')).toBe(true);
    expect(iamPatternMatches('DELETE/models/*', 'DELETE/models/fraud/policy')).toBe(true);
    expect(iamPatternMatches('GET/models/*/versions/*', 'GET/models/m/versions/1/download')).toBe(true);
    expect(iamPatternMatches('GET/models/?', 'GET/models/ab')).toBe(false);
    expect(iamPatternMatches('GET/models', 'GET/models/x')).toBe(false);
    expect(
      iamPatternMatches('POST/models/*/versions/*/stage', 'POST/break-glass/models/m/versions/1/stage'),
    ).toBe(false);
    expect(iamPatternMatches(`A${'*a'.repeat(30)}`, `A${'a'.repeat(29)}b`)).toBe(false); // no blow-up
  });
});

describe('what each audience is granted', () => {
  it.each(AUDIENCES)('lets %s call exactly its own routes', (audience) => {
    for (const op of ALL_OPERATIONS) {
      const request = `${op.method}${ordinary(op.path)}`;
      expect(permits(audience, request), `${audience} → ${op.operationId}`).toBe(audienceOf(op) === audience);
    }
  });

  it.each(
    AUDIENCES,
  )('never lets %s reach a route of another audience, whatever its path parameters', (audience) => {
    for (const op of ALL_OPERATIONS.filter((o) => audienceOf(o) !== audience)) {
      const reached = sampleRequests(op).filter((r) => permits(audience, r));
      expect(reached, `${audience} → ${op.operationId}`).toEqual([]);
    }
  });

  it.each(AUDIENCES)('names every request to its own routes that %s is refused by its Deny', (audience) => {
    const { allow, collateral } = audienceGrant(audience);
    for (const op of allow) {
      for (const request of sampleRequests(op).filter((r) => !permits(audience, r))) {
        const explained = collateral.some(
          (c) => c.operationId === op.operationId && request.split('/').includes(c.value),
        );
        expect(explained, `${audience} is refused ${request} without saying so`).toBe(true);
      }
    }
  });

  it('denies registrants the policy route their DELETE/models/* reaches, and nothing of their own but an alias named policy', () => {
    expect(audienceGrant('registrant').deny.map((o) => o.operationId)).toEqual(['deleteGovernancePolicy']);
    expect(audienceGrant('registrant').collateral).toEqual([
      { operationId: 'deleteRegisteredModelAlias', parameter: 'alias', value: 'policy' },
    ]);
    expect(audienceGrant('reader').deny).toEqual([]);
  });
});

describe('docs/iam.md', () => {
  it('is the one the contract generates (run npm run docs:iam)', () => {
    expect(readFileSync(join(__dirname, '..', '..', 'docs', 'iam.md'), 'utf8')).toBe(iamDocs());
  });

  it('lists every route under exactly one role', () => {
    const docs = iamDocs();
    for (const op of ALL_OPERATIONS) {
      expect(docs.split(`| \`${op.operationId}\` |`).length - 1, op.operationId).toBe(1);
    }
  });
});
