/**
 * `npm run bench`: every benchmark of the project, printed as Markdown tables.
 * BENCH_ONLY picks some of them (comma list of data-layer, registry, transfer, cold-start, console;
 * default all); `npm run bench:data` runs the data-layer benchmark alone.
 * BENCH_ITERATIONS (default 30) and BENCH_LARGE_VERSIONS (default 100000) scale the registry benchmark;
 * BENCH_DATA_ITERATIONS (default 30), BENCH_DATA_MODEL_VERSIONS (default 10000) and
 * BENCH_DATA_LARGE_VERSIONS (default 100000) the data-layer benchmark;
 * BENCH_TRANSFER_SIZES_MIB (default "256,1024") sets the file sizes of the transfer benchmark;
 * BENCH_COLD_START_RUNS (default 7) the fresh processes per function of the cold-start benchmark;
 * BENCH_CONSOLE_MODELS (default 10000) and BENCH_CONSOLE_RUNS (default 7) the console benchmark.
 */

// Before any benchmark (and the functions' logger) loads: the logger reads its level once.
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

/** Each benchmark, loaded only when it runs. */
const BENCHMARKS = {
  'data-layer': async () =>
    (await import('./data-layer.bench')).benchDataLayer({
      iterations: positive('BENCH_DATA_ITERATIONS', 30),
      modelVersions: positive('BENCH_DATA_MODEL_VERSIONS', 10_000),
      largeVersions: positive('BENCH_DATA_LARGE_VERSIONS', 100_000),
    }),
  registry: async () =>
    (await import('./registry.bench')).benchRegistry({
      iterations: Number(process.env.BENCH_ITERATIONS ?? 30),
      largeVersions: Number(process.env.BENCH_LARGE_VERSIONS ?? 100_000),
    }),
  transfer: async () =>
    (await import('./transfer.bench')).benchTransfer({
      sizesMiB: (process.env.BENCH_TRANSFER_SIZES_MIB ?? '256,1024').split(',').map(Number),
    }),
  'cold-start': async () =>
    (await import('./cold-start.bench')).benchColdStart({
      runs: Number(process.env.BENCH_COLD_START_RUNS ?? 7),
    }),
  console: async () =>
    (await import('./console.bench')).benchConsole({
      models: positive('BENCH_CONSOLE_MODELS', 10_000),
      runs: positive('BENCH_CONSOLE_RUNS', 7),
    }),
} as const satisfies Record<string, () => Promise<string[]>>;

type BenchmarkName = keyof typeof BENCHMARKS;

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

function selected(): BenchmarkName[] {
  const all = Object.keys(BENCHMARKS) as BenchmarkName[];
  const only = process.env.BENCH_ONLY?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!only?.length) return all;
  const unknown = only.filter((name) => !all.includes(name as BenchmarkName));
  if (unknown.length)
    throw new Error(`BENCH_ONLY: unknown ${unknown.join(', ')} (choose from ${all.join(', ')})`);
  return all.filter((name) => only.includes(name));
}

async function main() {
  const names = selected();
  console.log(`node ${process.version}, ${new Date().toISOString()}\n`);
  for (const name of names) {
    for (const line of await BENCHMARKS[name]()) console.log(line);
    console.log('');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
