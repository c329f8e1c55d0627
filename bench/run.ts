/**
 * `npm run bench`: every benchmark of the project, printed as Markdown tables.
 * BENCH_ITERATIONS (default 30) and BENCH_LARGE_VERSIONS (default 100000) scale it.
 */
import { benchRegistry } from './registry.bench';

async function main() {
  const iterations = Number(process.env.BENCH_ITERATIONS ?? 30);
  const largeVersions = Number(process.env.BENCH_LARGE_VERSIONS ?? 100_000);
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  console.log(`node ${process.version}, ${new Date().toISOString()}\n`);
  for (const line of await benchRegistry({ iterations, largeVersions })) console.log(line);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
