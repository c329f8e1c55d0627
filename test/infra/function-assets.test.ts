/**
 * The construct deploys prebuilt bundles (dist/functions/<name>/, built by `prepare`): synthesizing
 * a stack runs no bundler and nothing of this repository but the package.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../../functions/deployment/functions';
import { FUNCTION_ASSETS_DIR, functionAssetDir } from '../../lib/function-code';

const empty = mkdtempSync(join(tmpdir(), 'registry-assets-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

describe('function assets', () => {
  it('reads every function from dist/functions/<name>/', () => {
    for (const name of FUNCTION_NAMES) expect(functionAssetDir(name)).toBe(join(FUNCTION_ASSETS_DIR, name));
  });

  it('runs no bundler and no process at synth: lib/ imports neither esbuild, tsx nor child_process', () => {
    const lib = join(__dirname, '..', '..', 'lib');
    for (const file of readdirSync(lib).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(lib, file), 'utf8');
      // lib/bundling.ts holds the esbuild options (types only) for scripts/build-functions.ts.
      expect(source, file).not.toMatch(/^import (?!type )[^;]*from '(esbuild|node:child_process)'|\btsx\b/m);
    }
  });

  it('fails with a message that says how to build them when a bundle is missing', () => {
    expect(() => functionAssetDir('read', empty)).toThrow(
      /The read function's bundle \(.*read\/index\.js\) is missing: build the function assets with 'npm run build:functions'/,
    );
  });
});
