/**
 * Builds the publishable packages in packages/ (docs/decisions/002-packages.md):
 *
 * - packages/sdk/dist: the SDK (sdk/index.ts) as ES module (index.mjs) and CommonJS (index.cjs)
 *   for Node.js 20+, its dependencies left to npm; a browser ES module (browser.mjs) with its
 *   dependencies bundled and sdk/platform.ts swapped for sdk/platform.browser.ts (no Node
 *   built-ins); and type declarations emitted by tsc (dist/types), the wire types inferred from the
 *   API's zod schemas at build time. The little server code the SDK uses at run time (the model
 *   name's path placement) is bundled in: nothing imports the server's sources.
 * - packages/cli/dist/mreg.js: the `mreg` CLI, one self-contained file (scripts/build-cli.ts).
 * - packages/construct/dist: the construct library, lib/ and the functions/ modules it imports
 *   compiled by tsc to CommonJS with declarations, laid out as in the repository (dist/lib,
 *   dist/functions), beside freshly built function bundles (dist/dist/functions) and console
 *   (dist/web/dist): where lib/function-code.ts and lib/registry-console.ts look for them
 *   relative to themselves, so a synth needs nothing but the package and its peers.
 *
 * `tsx scripts/build-packages.ts [sdk|cli|construct]…` (all by default); each package's `prepack`
 * runs it (`npm pack ./packages/sdk`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { FUNCTION_ASSETS_DIR } from '../lib/function-code';
import { DEFAULT_CONSOLE_DIRECTORY } from '../lib/registry-console';
import { buildConsole } from '../local/console';
import { buildCli } from './build-cli';
import { buildFunctionAssets } from './build-functions';

const ROOT = join(__dirname, '..');
export const SDK_DIR = join(ROOT, 'packages', 'sdk');
export const CLI_DIR = join(ROOT, 'packages', 'cli');
export const CONSTRUCT_DIR = join(ROOT, 'packages', 'construct');

/** The browser build: `./platform` (Node) becomes `./platform.browser`. */
const browserPlatform: Plugin = {
  name: 'browser-platform',
  setup(b) {
    b.onResolve({ filter: /^\.\/platform$/ }, (args) => ({
      path: join(args.resolveDir, 'platform.browser.ts'),
    }));
  },
};

export async function buildSdk(): Promise<void> {
  const dist = join(SDK_DIR, 'dist');
  rmSync(dist, { recursive: true, force: true });
  const pkg = JSON.parse(readFileSync(join(SDK_DIR, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const entry = join(ROOT, 'sdk', 'index.ts');
  const common: BuildOptions = {
    entryPoints: [entry],
    bundle: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  };
  const external = Object.keys(pkg.dependencies);
  await Promise.all([
    build({
      ...common,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      external,
      outfile: join(dist, 'index.mjs'),
    }),
    build({
      ...common,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external,
      outfile: join(dist, 'index.cjs'),
    }),
    build({
      ...common,
      platform: 'browser',
      target: 'es2022',
      format: 'esm',
      plugins: [browserPlatform],
      outfile: join(dist, 'browser.mjs'),
    }),
  ]);
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', join(SDK_DIR, 'tsconfig.build.json')],
    { stdio: 'inherit' },
  );
}

export async function buildCliPackage(): Promise<void> {
  rmSync(join(CLI_DIR, 'dist'), { recursive: true, force: true });
  await buildCli(join(CLI_DIR, 'dist', 'mreg.js'));
}

/**
 * The construct package: tsc's CommonJS output of lib/ (and the functions/ modules it imports)
 * under dist/ as in the repository, and the assets where lib/ finds them from there.
 */
export async function buildConstruct(): Promise<void> {
  const dist = join(CONSTRUCT_DIR, 'dist');
  rmSync(dist, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', join(CONSTRUCT_DIR, 'tsconfig.build.json')],
    { stdio: 'inherit' },
  );
  const inPackage = (dir: string) => join(dist, relative(ROOT, dir));
  await buildFunctionAssets(inPackage(FUNCTION_ASSETS_DIR));
  await buildConsole(inPackage(DEFAULT_CONSOLE_DIRECTORY));
  if (!existsSync(join(inPackage(DEFAULT_CONSOLE_DIRECTORY), 'index.html'))) {
    throw new Error('construct: the console build wrote no index.html');
  }
}

if (require.main === module) {
  const which = process.argv.slice(2);
  const all = which.length === 0;
  const started = Date.now();
  (async () => {
    if (all || which.includes('sdk')) await buildSdk();
    if (all || which.includes('cli')) await buildCliPackage();
    if (all || which.includes('construct')) await buildConstruct();
    console.error(`Built ${all ? 'sdk, cli, construct' : which.join(', ')} in ${Date.now() - started} ms.`);
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
