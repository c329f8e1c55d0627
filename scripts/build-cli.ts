/**
 * Bundles the `mreg` CLI (cli/main.ts) with esbuild into one self-contained file, dist/mreg.js:
 * Node 20 target, CommonJS, with a shebang, executable. `npm run build:cli` (and `prepare`).
 */
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

export const CLI_OUTFILE = join(__dirname, '..', 'dist', 'mreg.js');

export async function buildCli(outfile = CLI_OUTFILE): Promise<void> {
  await build({
    entryPoints: [join(__dirname, '..', 'cli', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    sourcemap: false,
    minify: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  chmodSync(outfile, 0o755);
}

if (require.main === module) {
  const started = Date.now();
  buildCli().then(
    () =>
      console.log(
        `Built ${CLI_OUTFILE} (${(statSync(CLI_OUTFILE).size / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms.`,
      ),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
