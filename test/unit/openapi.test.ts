import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../functions/api/contract';
import { buildOpenApiDocument } from '../../functions/api/openapi';
import pkg from '../../package.json';

describe('OpenAPI document', () => {
  it('committed docs/openapi.json is the one the schemas generate (run npm run openapi)', () => {
    const committed = JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument(pkg.version))));
  });

  it('describes every operation of the contract, each secured with SigV4', () => {
    const doc = buildOpenApiDocument(pkg.version) as any;
    for (const op of OPERATIONS) {
      const entry = doc.paths[op.path]?.[op.method.toLowerCase()];
      expect(entry?.operationId, `${op.method} ${op.path}`).toBe(op.operationId);
      expect(entry.security).toEqual([{ sigv4: [] }]);
    }
  });
});
