/**
 * Data-layer benchmark: what each registry operation costs in DynamoDB, through the whole handler
 * stack (local API front → middy handler → use case → repository → DynamoDB Local), every
 * governance guard off. The instrument for comparing storage layouts: run it before and after a
 * change of the data layer.
 *
 * Figures, per operation:
 * - DynamoDB calls: the DynamoDB commands the functions sent while the request was served (the
 *   local registry's `observeConsumedCapacity` hook sees each one once, failed ones included; the
 *   SDK's own retries of a throttled or failed request are not counted separately).
 * - RRU: measured. Every command asks for `ReturnConsumedCapacity: 'INDEXES'` and the read
 *   commands' reported CapacityUnits (table + indexes) are summed. DynamoDB Local counts reads by
 *   DynamoDB's rules (checked: GetItem strongly and eventually consistent, Query on the table and
 *   on an index, TransactGetItems, BatchGetItem).
 * - WRU: computed from DynamoDB's documented rules (bench/capacity.ts), because DynamoDB Local
 *   miscounts TransactWriteItems — the command behind nearly every registry write, since each
 *   change commits with its audit entry: it counts the items of equal cost in one transaction
 *   once, and doubles index writes. Each write is costed from the old and new images it left in
 *   the table's stream. The figure DynamoDB Local reported is printed beside it, and the
 *   calculator is checked against DynamoDB Local on single-item writes, which it counts right.
 * - median / p95 ms: wall time of the HTTP request as the client sees it (one request at a time,
 *   DynamoDB Local on the same machine: compare runs on one machine, not with a deployment).
 * When the samples of an operation differ, a cell shows the median and the range.
 *
 * Contention: concurrent requests from the same client; TransactWriteItems attempts are counted
 * over the whole burst and divided by the requests that succeeded.
 *
 * Bulk data (the big model, the large registry) is seeded by bench/seed.ts, the only module here
 * that knows the storage layout. Sizes: BENCH_DATA_ITERATIONS (samples of each single-item
 * operation, default 30), BENCH_DATA_MODEL_VERSIONS (versions of the one big model, default
 * 10000), BENCH_DATA_LARGE_VERSIONS (versions in the registry for the large searches, default
 * 100000).
 */
import { performance } from 'node:perf_hooks';
import { documentClient, type SdkCapacityReport } from '../functions/handlers/runtime';
import { type LocalRegistry, startLocalRegistry } from '../local/registry';
import { CapacityMeter, type Consumption, calibrate } from './capacity';
import { openSeeder, type Seeder } from './seed';

export interface DataLayerOptions {
  /** Samples of each single-item operation. */
  readonly iterations: number;
  /** Versions in the registry for the large searches. */
  readonly largeVersions: number;
  /** Versions of the one model searched within. */
  readonly modelVersions: number;
}

// MLflow's behaviour (no guarded stages or aliases): the bench measures the data layer, not approvals.
const GUARDS_OFF = 'mlflow';
/** Every measured search page asks for this many results. */
const PAGE = 100;
/** The tag value 1% of the seeded versions carry (`tags.team = 'x'`). */
const RARE_TEAM = 'x';
const TAG_FILTER = `tags.team = '${RARE_TEAM}'`;

type Json = any;

interface Reply {
  readonly status: number;
  readonly body: Json;
  readonly ms: number;
}

interface Sample {
  readonly ms: number;
  readonly use: Consumption;
  /** `HTTP <status> <error_code>` when the request failed. */
  readonly error?: string;
}

/** The groups of the main table, in the order they are printed. */
type Group = 'single item' | 'archive' | 'pages' | 'one model';
const GROUPS: readonly Group[] = ['single item', 'archive', 'pages', 'one model'];

interface Total {
  readonly op: string;
  readonly requests: number;
  readonly calls: number;
  readonly rru: number;
  readonly wru: number;
  readonly ms: number;
  readonly result: string;
}

const sortNum = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
/** The lower median: always one of the samples. */
const median = (xs: readonly number[]) => sortNum(xs)[Math.floor((xs.length - 1) / 2)] ?? 0;
const p95 = (xs: readonly number[]) => {
  const s = sortNum(xs);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)] ?? 0;
};
const fmt = (n: number) =>
  Number.isInteger(n) ? n.toLocaleString('en') : n.toLocaleString('en', { maximumFractionDigits: 1 });
const ms = (n: number) => n.toFixed(1);
/** Median, with the range when the samples differ. */
const spread = (xs: readonly number[]) => {
  const s = sortNum(xs);
  const lo = s[0] ?? 0;
  const hi = s.at(-1) ?? 0;
  return lo === hi ? fmt(lo) : `${fmt(median(s))} (${fmt(lo)}–${fmt(hi)})`;
};
const q = (s: string) => encodeURIComponent(s);
const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/** Tags of seeded versions: `team` is 'x' on every 100th one; every version has three tags. */
function teamTags() {
  let seq = 0;
  let rare = 0;
  const teams = ['vision', 'nlp', 'ranking', 'speech', 'fraud'];
  return {
    tags: (_version: number) => {
      const team = seq % 100 === 0 ? RARE_TEAM : teams[seq % teams.length]!;
      if (team === RARE_TEAM) rare++;
      seq++;
      return { team, framework: 'pytorch', dataset: `ds-${seq % 13}` };
    },
    /** Seeded versions carrying the rare tag so far. */
    rare: () => rare,
  };
}

/** Requests to the local registry, measured one at a time, and the figures collected so far. */
class Harness {
  readonly rows = new Map<string, { group: Group; samples: Sample[] }>();
  readonly totals: Total[] = [];
  readonly contention: string[] = [];
  /** SDK commands other than DynamoDB's (S3) sent during measured requests, by path. */
  readonly otherCalls = new Map<string, number>();
  sdkCalls = 0;

  constructor(
    readonly registry: LocalRegistry,
    readonly meter: CapacityMeter,
    readonly seeder: Seeder,
  ) {}

  async http(method: string, path: string, body?: unknown): Promise<Reply> {
    const start = performance.now();
    const res = await fetch(`${this.registry.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const elapsed = performance.now() - start;
    return { status: res.status, body: text ? JSON.parse(text) : {}, ms: elapsed };
  }

  /** A setup request (not measured): it must succeed. */
  async must(method: string, path: string, body?: unknown): Promise<Json> {
    const r = await this.http(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  static errorOf(r: Reply): string | undefined {
    return r.status >= 300 ? `HTTP ${r.status} ${r.body?.error_code ?? ''}`.trim() : undefined;
  }

  /** One measured request: its latency and what its DynamoDB commands consumed. */
  async measure(method: string, path: string, body?: unknown): Promise<Sample & { reply: Reply }> {
    await this.meter.begin();
    const before = this.sdkCalls;
    const reply = await this.http(method, path, body);
    const sent = this.sdkCalls - before;
    const use = await this.meter.end();
    if (sent > use.calls) this.otherCalls.set(path.split('?')[0]!, sent - use.calls);
    const error = Harness.errorOf(reply);
    return { ms: reply.ms, use, reply, ...(error ? { error } : {}) };
  }

  record(group: Group, op: string, sample: Sample): void {
    if (!this.rows.has(op)) this.rows.set(op, { group, samples: [] });
    this.rows.get(op)!.samples.push(sample);
  }

  /** Measures every page of a search, one request after the other, and records the totals. */
  async pageThrough(op: string, path: string, key: 'model_versions', expected: number): Promise<void> {
    let requests = 0;
    let calls = 0;
    let rru = 0;
    let wru = 0;
    let elapsed = 0;
    let found = 0;
    let token: string | undefined;
    do {
      const s = await this.measure('GET', token ? `${path}&page_token=${q(token)}` : path);
      if (s.error) throw new Error(`${op}: ${s.error}`);
      requests++;
      calls += s.use.calls;
      rru += s.use.rru;
      wru += s.use.wru;
      elapsed += s.ms;
      found += (s.reply.body[key] as unknown[]).length;
      token = s.reply.body.next_page_token;
    } while (token);
    this.totals.push({
      op,
      requests,
      calls,
      rru,
      wru,
      ms: elapsed,
      result: `${fmt(found)} found of ${fmt(expected)}`,
    });
  }

  /** How many items a listing returns over all its pages (not measured). */
  async countAll(path: string, key: 'model_versions' | 'registered_models'): Promise<number> {
    let n = 0;
    let token: string | undefined;
    do {
      const body = await this.must('GET', token ? `${path}&page_token=${q(token)}` : path);
      n += (body[key] as unknown[]).length;
      token = body.next_page_token;
    } while (token);
    return n;
  }

  versionsInRegistry(): Promise<number> {
    return this.countAll('/versions?max_results=10000', 'model_versions');
  }

  /** Samples of the default version search page, labelled with the registry size and the models it spans. */
  async versionsPage(samples: number, inRegistry: number): Promise<void> {
    const path = `/versions?max_results=${PAGE}`;
    const first = await this.measure('GET', path);
    const spans = new Set((first.reply.body.model_versions as { name: string }[]).map((v) => v.name)).size;
    const op = `page of ${PAGE} versions (\`GET /versions\`), ${fmt(inRegistry)} versions in the registry, the page spans ${spans} models`;
    this.record('pages', op, first);
    for (let i = 1; i < samples; i++) this.record('pages', op, await this.measure('GET', path));
  }

  /** Measures every page of the tag search and records the totals. */
  async tagSearch(expected: number, inRegistry: number): Promise<void> {
    await this.pageThrough(
      `tag search \`${TAG_FILTER}\`, ${fmt(inRegistry)} versions in the registry: every page`,
      `/versions?max_results=${PAGE}&filter=${q(TAG_FILTER)}`,
      'model_versions',
      expected,
    );
  }
}

export async function benchDataLayer(options: DataLayerOptions): Promise<string[]> {
  const { iterations, largeVersions, modelVersions } = options;
  /** Samples of the rows that read thousands of items or need a long setup. */
  const heavySamples = Math.max(3, Math.ceil(iterations / 3));
  const started = performance.now();
  let h: Harness | undefined;
  const registry = await startLocalRegistry({
    inMemory: true,
    env: { GOVERNANCE_POLICY: GUARDS_OFF },
    observeSdkCalls: () => {
      if (h) h.sdkCalls++;
    },
    observeConsumedCapacity: (fn, report) => h?.meter.observe(fn, report),
  });
  let meter: CapacityMeter | undefined;
  let seeder: Seeder | undefined;
  try {
    meter = await CapacityMeter.open(registry.dynamoEndpoint, registry.tableName);
    seeder = openSeeder(registry, { concurrency: 8 });
    h = new Harness(registry, meter, seeder);
    const tagger = teamTags();

    // The write calculator against DynamoDB Local where DynamoDB Local counts right.
    const m = meter;
    const calibrationDb = documentClient(
      registry.env,
      Object.assign(() => {}, { consumedCapacity: (r: SdkCapacityReport) => m.observe('bench', r) }),
    );
    const calibration = await calibrate(meter, calibrationDb, registry.tableName).finally(() =>
      calibrationDb.destroy(),
    );

    // Warm up every function and the engine.
    await h.must('POST', '/models', { name: 'warmup' });
    await h.must('POST', '/models/warmup/versions', { source: 's3://b/k' });
    await h.must('GET', '/models/warmup');
    await h.must('GET', '/resolve?uri=models:/warmup/1');
    await h.must('DELETE', '/models/warmup');

    // 100 versions in the registry (10 models of 10).
    for (let i = 0; i < 10; i++) {
      await seeder.seedModel(`small-${i}`);
      await seeder.seedVersions(`small-${i}`, 10, { tags: tagger.tags });
    }
    const small = await h.versionsInRegistry();
    await h.tagSearch(tagger.rare(), small);
    await h.versionsPage(iterations, small);

    await singleItemOperations(h, iterations);
    await archiving(h, heavySamples);

    // 100 more models of 3 versions, registered in turn (version 1 of each, then version 2…), so
    // that the newest versions of the registry span many models.
    const pageBase = Date.now();
    for (let j = 0; j < 100; j++) {
      const name = `page-${String(j).padStart(3, '0')}`;
      await seeder.seedModel(name);
      await seeder.seedVersions(name, 3, { tags: tagger.tags, createdAt: (i) => pageBase + i * 100 + j });
    }
    const models = await h.countAll('/models?max_results=1000', 'registered_models');
    for (let i = 0; i < iterations; i++) {
      h.record(
        'pages',
        `page of ${PAGE} registered models (\`GET /models\`), ${fmt(models)} models in the registry`,
        await h.measure('GET', `/models?max_results=${PAGE}`),
      );
    }
    await h.versionsPage(iterations, await h.versionsInRegistry());

    const bigStart = performance.now();
    await seeder.seedModel('big');
    await seeder.seedVersions('big', modelVersions, { tags: tagger.tags });
    const bigSeconds = (performance.now() - bigStart) / 1000;
    await registry.settled(); // the outbox relay has read the seeded items' stream records
    await searchInOneModel(h, 'big', modelVersions, heavySamples);

    await contention(h);

    const before = await h.versionsInRegistry();
    const toSeed = Math.max(0, largeVersions - before);
    const largeStart = performance.now();
    await seedRegistry(seeder, toSeed, tagger.tags);
    const largeSeconds = (performance.now() - largeStart) / 1000;
    const relayStart = performance.now();
    await registry.settled();
    const relaySeconds = (performance.now() - relayStart) / 1000;
    await h.tagSearch(tagger.rare(), before + toSeed);
    await h.versionsPage(iterations, before + toSeed);

    return report(h, {
      ...options,
      heavySamples,
      seconds: (performance.now() - started) / 1000,
      seeding: `${fmt(modelVersions)} versions of one model in ${bigSeconds.toFixed(0)} s, ${fmt(toSeed)} versions of ${fmt(Math.ceil(toSeed / 100))} models in ${largeSeconds.toFixed(0)} s (then ${relaySeconds.toFixed(0)} s until the outbox relay had read their stream records)`,
      calibration,
    });
  } finally {
    seeder?.close();
    meter?.close();
    await registry.stop();
  }
}

/** Create, read, update, resolve and transition, on fresh models (one per iteration). */
async function singleItemOperations(h: Harness, iterations: number): Promise<void> {
  const op = (name: string, sample: Sample) => h.record('single item', name, sample);
  for (let i = 0; i < iterations; i++) {
    const name = `ops-${i}`;
    const base = `/models/${name}`;
    op('create model', await h.measure('POST', '/models', { name }));
    for (let v = 1; v <= 3; v++) {
      op(
        'create version (external source)',
        await h.measure('POST', `${base}/versions`, { source: `s3://b/k/${i}/${v}` }),
      );
    }
    op('get model', await h.measure('GET', base));
    op('get version', await h.measure('GET', `${base}/versions/2`));
    op('set alias', await h.measure('PUT', `${base}/aliases/champion`, { version: 1 }));
    op(
      'resolve `models:/name@alias` (`GET /resolve`)',
      await h.measure('GET', `/resolve?uri=${q(`models:/${name}@champion`)}`),
    );
    op(
      'get version by alias (`GET /models/{name}/aliases/{alias}`)',
      await h.measure('GET', `${base}/aliases/champion`),
    );
    await h.must('POST', `${base}/versions/1/stage`, { stage: 'Production' });
    op(
      'resolve `models:/name/Production` (`GET /resolve`)',
      await h.measure('GET', `/resolve?uri=${q(`models:/${name}/Production`)}`),
    );
    op(
      'latest version in Production (`GET /models/{name}/latest-versions?stages=Production`)',
      await h.measure('GET', `${base}/latest-versions?stages=Production`),
    );
    op(
      'update version description',
      await h.measure('PATCH', `${base}/versions/1`, { description: `run ${i}` }),
    );
    op(
      'set version tag',
      await h.measure('POST', `${base}/versions/1/tags`, { key: 'reviewed', value: `r${i}` }),
    );
    await h.must('POST', `${base}/versions/2/stage`, { stage: 'Staging' });
    op(
      'transition to Staging with archive_existing_versions, 1 other version there',
      await h.measure('POST', `${base}/versions/3/stage`, {
        stage: 'Staging',
        archive_existing_versions: true,
      }),
    );
  }
}

/**
 * A transition to Staging with archive_existing_versions while N other versions are there. A
 * refused transition changes nothing, so the next sample reuses its setup.
 */
async function archiving(h: Harness, samples: number): Promise<void> {
  for (const others of [30, 100]) {
    const op = `transition to Staging with archive_existing_versions, ${others} other versions there`;
    let model: string | undefined;
    for (let i = 0; i < samples; i++) {
      if (!model || !h.rows.get(op)?.samples.at(-1)?.error) {
        model = `archive-${others}-${i}`;
        await h.seeder.seedModel(model);
        await h.seeder.seedVersions(model, others + 1);
        for (let v = 1; v <= others; v++) {
          await h.must('POST', `/models/${model}/versions/${v}/stage`, { stage: 'Staging' });
        }
      }
      h.record(
        'archive',
        op,
        await h.measure('POST', `/models/${model}/versions/${others + 1}/stage`, {
          stage: 'Staging',
          archive_existing_versions: true,
        }),
      );
    }
  }
}

/** The versions of one big model: the first page and every page, in two orders. */
async function searchInOneModel(h: Harness, name: string, versions: number, samples: number): Promise<void> {
  const orders: [label: string, param: string][] = [
    ['default order (last updated first)', ''],
    ['`order_by=version_number DESC`', `&order_by=${q('version_number DESC')}`],
  ];
  for (const [label, param] of orders) {
    const path = `/versions?max_results=${PAGE}&filter=${q(`name = '${name}'`)}${param}`;
    const op = `version search in one model of ${fmt(versions)} versions, ${label}`;
    for (let i = 0; i < samples; i++)
      h.record('one model', `${op}: first page`, await h.measure('GET', path));
    await h.pageThrough(`${op}: every page`, path, 'model_versions', versions);
  }
}

/** Concurrent version creation on one model, and concurrent transitions with archiving. */
async function contention(h: Harness): Promise<void> {
  const total = 100;
  for (const concurrency of [100, 16, 4]) {
    const name = `burst-${concurrency}`;
    await h.must('POST', '/models', { name });
    await h.meter.begin();
    const errors = new Map<string, number>();
    const latencies: number[] = [];
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const n = next++;
          const r = await h.http('POST', `/models/${name}/versions`, { source: `s3://b/burst/${n}` });
          latencies.push(r.ms);
          const error = Harness.errorOf(r);
          if (error) count(errors, error);
        }
      }),
    );
    const wall = performance.now() - start;
    const attempts = h.meter.peek().commands.get('TransactWriteItemsCommand') ?? 0;
    const listed = (await h.must('GET', `/models/${name}/versions?max_results=1000`)).model_versions as {
      version: string | number;
    }[];
    const numbers = sortNum(listed.map((v) => Number(v.version)));
    const created = total - [...errors.values()].reduce((a, b) => a + b, 0);
    const exact = numbers.length === created && numbers.every((n, i) => n === i + 1);
    h.contention.push(
      `| ${total} version creates on one model, ${concurrency} concurrent | ${total} | ${ms(wall)} | ${ms(median(latencies))} | ${ms(p95(latencies))} | ${errorsCell(errors)} | ${created ? (attempts / created).toFixed(2) : '–'} | ${exact ? `versions are exactly 1..${created}` : `versions ${ranges(numbers)}, expected 1..${created}`} |`,
    );
  }

  // 16 versions, each moved to Staging with archive_existing_versions at the same time, in rounds.
  const rounds = 10;
  const flip = 'flip';
  await h.seeder.seedModel(flip);
  await h.seeder.seedVersions(flip, 16);
  await h.meter.begin();
  const errors = new Map<string, number>();
  const latencies: number[] = [];
  let wall = 0;
  let applied = 0;
  let consistent = 0;
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    const replies = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        h.http('POST', `/models/${flip}/versions/${i + 1}/stage`, {
          stage: 'Staging',
          archive_existing_versions: true,
        }),
      ),
    );
    wall += performance.now() - start;
    for (const r of replies) {
      latencies.push(r.ms);
      const error = Harness.errorOf(r);
      if (error) count(errors, error);
      else applied++;
    }
    // Archiving must leave exactly one version in Staging, as the versions and the model see it.
    const versions = (await h.must('GET', `/models/${flip}/versions?max_results=100`)).model_versions as {
      current_stage: string;
    }[];
    const latest = (await h.must('GET', `/models/${flip}`)).registered_model.latest_versions as {
      current_stage: string;
    }[];
    const staged = versions.filter((v) => v.current_stage === 'Staging').length;
    if (staged === 1 && latest.filter((v) => v.current_stage === 'Staging').length === 1) consistent++;
  }
  const attempts = h.meter.peek().commands.get('TransactWriteItemsCommand') ?? 0;
  h.contention.push(
    `| 16 concurrent transitions of 16 versions to Staging with archive_existing_versions, ${rounds} rounds | ${16 * rounds} | ${ms(wall)} | ${ms(median(latencies))} | ${ms(p95(latencies))} | ${errorsCell(errors)} | ${applied ? (attempts / applied).toFixed(2) : '–'} | exactly 1 version in Staging after ${consistent} of ${rounds} rounds |`,
  );
}

/**
 * Seeds `count` versions as models of 100 versions, registered in turn (version 1 of every model,
 * then version 2…), 50 models at a time.
 */
async function seedRegistry(seeder: Seeder, count: number, tags: (v: number) => Record<string, string>) {
  const perModel = 100;
  const models = Math.ceil(count / perModel);
  const base = Date.now();
  for (let chunk = 0; chunk < models; chunk += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, models - chunk) }, async (_, k) => {
        const j = chunk + k;
        const name = `scale-${String(j).padStart(5, '0')}`;
        await seeder.seedModel(name);
        await seeder.seedVersions(name, Math.min(perModel, count - j * perModel), {
          tags,
          createdAt: (i) => base + i * models + j,
        });
      }),
    );
  }
}

function report(
  h: Harness,
  run: DataLayerOptions & {
    heavySamples: number;
    seconds: number;
    seeding: string;
    calibration: { writes: number; disagreements: string[] };
  },
): string[] {
  const rows = [...h.rows.entries()].sort(
    ([, a], [, b]) => GROUPS.indexOf(a.group) - GROUPS.indexOf(b.group),
  );
  const lines: string[] = [];
  const out = (...xs: string[]) => lines.push(...xs);
  out(
    '## Data layer: DynamoDB cost per operation',
    '',
    `Settings: BENCH_DATA_ITERATIONS=${run.iterations} (samples per operation; ${run.heavySamples} for archiving and the big model's first pages), ` +
      `BENCH_DATA_MODEL_VERSIONS=${run.modelVersions}, BENCH_DATA_LARGE_VERSIONS=${run.largeVersions}; search pages of ${PAGE}; ` +
      'governance guards off. ' +
      `Run time ${run.seconds.toFixed(0)} s; seeding: ${run.seeding}.`,
    '',
    'DynamoDB calls: commands the functions sent for the request. ' +
      'Round trips: the longest chain of those commands each sent only after the one before it was answered. ' +
      'RRU: read units as DynamoDB Local reports them (ReturnConsumedCapacity INDEXES). ' +
      "WRU: computed by DynamoDB's rules from the item images each write left in the table's stream " +
      '(1 WRU per KB written, twice in a transaction, plus 1 WRU per KB of each index entry written or deleted; ' +
      'index writes not doubled), because DynamoDB Local miscounts multi-item transactions (its figures are in the last table). ' +
      'Latency: one request at a time, DynamoDB Local on the same machine. ' +
      'A cell with a range shows the median (min–max).',
    '',
    '| operation | DynamoDB calls | round trips | RRU | WRU | median ms | p95 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const [op, { samples }] of rows) {
    const failed = samples.filter((s) => s.error);
    if (failed.length) {
      const codes = [...new Set(failed.map((s) => s.error))].join(', ');
      out(`| ${op} | refused: ${codes} (${failed.length} of ${samples.length}) | – | – | – | – | – |`);
      continue;
    }
    const of = (f: (s: Sample) => number) => samples.map(f);
    out(
      `| ${op} | ${spread(of((s) => s.use.calls))} | ${spread(of((s) => s.use.roundTrips))} | ${spread(of((s) => s.use.rru))} | ${spread(of((s) => s.use.wru))} | ${ms(median(of((s) => s.ms)))} | ${ms(p95(of((s) => s.ms)))} |`,
    );
  }
  out(
    '',
    'Searches followed to their last page (totals over every request):',
    '',
    '| search | requests | DynamoDB calls | RRU | WRU | total ms | result |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...h.totals.map(
      (t) =>
        `| ${t.op} | ${fmt(t.requests)} | ${fmt(t.calls)} | ${fmt(t.rru)} | ${fmt(t.wru)} | ${ms(t.ms)} | ${t.result} |`,
    ),
    '',
    '## Data layer: contention',
    '',
    '| scenario | requests | wall ms | median ms | p95 ms | HTTP errors | TransactWriteItems attempts per success | outcome |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |',
    ...h.contention,
    '',
    '## Data layer: how the figures were obtained',
    '',
    'DynamoDB commands of one request (the sample with the median number of calls):',
    '',
    '| operation | commands |',
    '| --- | --- |',
  );
  for (const [op, { samples }] of rows) {
    const calls = median(samples.map((s) => s.use.calls));
    const typical = samples.find((s) => s.use.calls === calls) ?? samples[0]!;
    const mix = [...typical.use.commands.entries()]
      .map(([c, n]) => `${c.replace(/Command$/, '')} ${n}`)
      .join(', ');
    out(`| ${op} | ${mix || 'none'}${typical.error ? `, then ${typical.error}` : ''} |`);
  }
  out(
    '',
    'WRU computed here and as DynamoDB Local reported it (writes only):',
    '',
    '| operation | WRU computed | WRU reported by DynamoDB Local |',
    '| --- | ---: | ---: |',
  );
  for (const [op, { samples }] of rows) {
    if (samples.some((s) => s.error) || samples.every((s) => s.use.wru === 0 && s.use.wruReported === 0))
      continue;
    out(
      `| ${op} | ${spread(samples.map((s) => s.use.wru))} | ${spread(samples.map((s) => s.use.wruReported))} |`,
    );
  }
  const { writes, disagreements } = run.calibration;
  out(
    '',
    disagreements.length
      ? `- Write calculator check: on single-item, non-transactional writes (which DynamoDB Local counts right), ${disagreements.length} of ${writes} disagree: ${disagreements.join('; ')}.`
      : `- Write calculator check: on ${writes} single-item, non-transactional writes (which DynamoDB Local counts right: a put carrying every index key, updates of a projected attribute, of an index key, removing one, growing past 1 KB, a delete), the computed WRU equal DynamoDB Local's.`,
  );
  for (const [path, n] of h.otherCalls) out(`- \`${path}\` also sent ${n} S3 command(s).`);
  if (![...h.otherCalls.keys()].includes('/resolve')) {
    out(
      '- `GET /resolve` of an external-source version sends no S3 command (it has no files to presign): the rows measure the resolution alone.',
    );
  }
  const unexplained = rows.flatMap(([, r]) => r.samples).reduce((n, s) => n + s.use.unmatchedRecords, 0);
  if (unexplained)
    out(`- ${unexplained} stream record(s) written during measured requests matched no observed write.`);
  return lines;
}

function errorsCell(errors: ReadonlyMap<string, number>): string {
  return errors.size ? [...errors.entries()].map(([e, n]) => `${n} × ${e}`).join(', ') : 'none';
}

/** `1..98, 100`: version numbers as ranges. */
function ranges(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}..${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(', ') || 'none';
}
