/**
 * Bundles every function of the function table (functions/deployment/functions.ts) with the
 * project's esbuild options (lib/bundling.ts) into dist/functions/<name>/index.js (+ source map):
 * the prebuilt assets the construct deploys, so synthesizing a stack runs no bundler. Run by
 * `prepare` (hence `npm ci` / `npm install`), by `npm run build:functions`, and by bin/app.ts
 * before every synth from this repository, so a deployment never ships stale code.
 */
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { FUNCTION_NAMES, FUNCTIONS, type FunctionName } from '../functions/deployment/functions';
import { functionBundleOptions } from '../lib/bundling';
import { FUNCTION_ASSETS_DIR } from '../lib/function-code';

const ROOT = join(__dirname, '..');

/** Builds every function's bundle; returns each bundle's size in bytes. */
export async function buildFunctionAssets(
  outDir: string = FUNCTION_ASSETS_DIR,
): Promise<Record<FunctionName, number>> {
  const sizes = {} as Record<FunctionName, number>;
  await Promise.all(
    FUNCTION_NAMES.map(async (name) => {
      const dir = join(outDir, name);
      // Nothing but this build's output may end up in the asset.
      rmSync(dir, { recursive: true, force: true });
      const outfile = join(dir, 'index.js');
      await build(functionBundleOptions(join(ROOT, FUNCTIONS[name].entry), outfile));
      sizes[name] = statSync(outfile).size;
    }),
  );
  return sizes;
}

if (require.main === module) {
  const started = Date.now();
  buildFunctionAssets().then(
    (sizes) => {
      if (process.argv.includes('--quiet')) return;
      const list = FUNCTION_NAMES.map((n) => `${n} ${(sizes[n] / 1024).toFixed(0)} KiB`).join(', ');
      console.log(
        `Built ${FUNCTION_NAMES.length} functions into ${FUNCTION_ASSETS_DIR} in ${Date.now() - started} ms: ${list}.`,
      );
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
