/**
 * Builds the web console (web/) into web/dist with Vite and prints the size of its JavaScript,
 * gzipped, against the budget. `npm run build:console` (and `prepare`).
 */
import { buildConsole, CONSOLE_DIST } from '../local/console';
import { consoleBundleSize, JS_BUDGET_GZIP_BYTES } from '../local/console-size';

async function main() {
  const started = Date.now();
  await buildConsole();
  const size = consoleBundleSize(CONSOLE_DIST);
  console.log(
    `Built the console into ${CONSOLE_DIST} in ${Date.now() - started} ms: JavaScript ${(size.gzipBytes / 1024).toFixed(1)} KiB gzipped (budget ${JS_BUDGET_GZIP_BYTES / 1024} KiB).`,
  );
  if (size.gzipBytes > JS_BUDGET_GZIP_BYTES) {
    console.error('The console is over its JavaScript budget.');
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
