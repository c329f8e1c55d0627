/**
 * How every Lambda function is bundled: one set of esbuild options for the CDK stack (local
 * bundling, no Docker) and the cold-start benchmark, so what is measured is what is deployed.
 *
 * zod's classic API re-exports every message locale as a namespace (`z.locales`), so a bundler
 * keeps ~45 translations (~200 KB) that the functions never use; the plugin below resolves that
 * namespace to English only (zod configures English by default, from its own module).
 */
import { dirname, join } from 'node:path';
import type { BuildOptions, Plugin } from 'esbuild';

export const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      return { path: join(dirname(args.importer), '..', 'locales', 'en.js'), namespace: 'zod-locales' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/** esbuild options of a function bundle (Node 22 on Lambda, CommonJS, minified, source maps). */
export function functionBundleOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    // The ES module builds of the AWS SDK and smithy tree-shake far better than their CJS ones.
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [zodEnglishOnly],
  };
}
