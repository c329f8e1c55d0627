/**
 * Bundles one Lambda entry point with the project's esbuild options (lib/bundling.ts). The CDK
 * stack runs it from its local bundling hook (a child process: esbuild plugins need the async
 * API, the hook is synchronous): `tsx scripts/bundle-function.ts <entry> <outDir>`.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { functionBundleOptions } from '../lib/bundling';

const [entry, outDir] = process.argv.slice(2);
if (!entry || !outDir) {
  console.error('usage: bundle-function.ts <entry> <outDir>');
  process.exit(2);
}
build(functionBundleOptions(entry, join(outDir, 'index.js'))).catch((err) => {
  console.error(err);
  process.exit(1);
});
