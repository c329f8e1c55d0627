/**
 * `npm run bench`: every benchmark of the project, printed as Markdown tables.
 * BENCH_ITERATIONS (default 30) and BENCH_LARGE_VERSIONS (default 100000) scale it;
 * BENCH_TRANSFER_SIZES_MIB (default "256,1024") sets the file sizes of the transfer benchmark;
 * BENCH_COLD_START_RUNS (default 7) the fresh processes per function of the cold-start benchmark.
 */
import { benchColdStart } from './cold-start.bench';
import { benchRegistry } from './registry.bench';
import { benchTransfer } from './transfer.bench';

async function main() {
  const iterations = Number(process.env.BENCH_ITERATIONS ?? 30);
  const largeVersions = Number(process.env.BENCH_LARGE_VERSIONS ?? 100_000);
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  console.log(`node ${process.version}, ${new Date().toISOString()}\n`);
  for (const line of await benchRegistry({ iterations, largeVersions })) console.log(line);
  const sizesMiB = (process.env.BENCH_TRANSFER_SIZES_MIB ?? '256,1024').split(',').map(Number);
  for (const line of await benchTransfer({ sizesMiB })) console.log(line);
  const runs = Number(process.env.BENCH_COLD_START_RUNS ?? 7);
  for (const line of await benchColdStart({ runs })) console.log(line);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
