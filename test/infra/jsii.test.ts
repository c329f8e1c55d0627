/**
 * The construct library's public API (lib/index.ts) stays usable from every language jsii targets:
 * a prop, property or exported type jsii cannot represent fails here, not at publish time.
 */
import { describe, expect, it } from 'vitest';
import { checkJsii } from '../../scripts/check-jsii';

describe('the construct API under jsii', () => {
  it('compiles with no error or warning', () => {
    const result = checkJsii();
    expect(result.output).not.toMatch(/error JSII|warning JSII/);
    expect(result.ok, result.output).toBe(true);
  }, 180_000);
});
