/**
 * Search order exactly as MLflow's SQL store gives it, for every `order_by` (alone or combined),
 * with and without filters, paged: the registry's pages, concatenated, equal the matching entities
 * sorted by an independent statement of MLflow's rules:
 * - versions: the given keys, then `name ASC`, then `version_number DESC` (each unless given);
 *   no `order_by` is `last_updated_timestamp DESC, name ASC, version_number DESC`;
 * - models: the given keys, then `name ASC`;
 * - text compares as the SQL store's binary collation does (UTF-8 bytes).
 * The data has ties on every timestamp (concurrent creates, archive-existing moving many versions
 * at once), where index order and MLflow's tiebreaks differ.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionItem } from '../../functions/adapters/dynamodb/codecs';
import { SCAN_BUDGET } from '../../functions/adapters/dynamodb/search';
import type { LocalRegistry } from '../../local/registry';
import { localRegistry, principal, type TestRegistry, testRegistry } from '../support/engines';
import { mlflowWire } from './client';

type Version = {
  name: string;
  version: number;
  created: number;
  updated: number;
  run?: string;
  tag?: string;
  source?: string;
};
type Model = { name: string; created: number; updated: number };

let registry: LocalRegistry;
let mlflow: ReturnType<typeof mlflowWire>;
const prefix = `ord${Date.now().toString(36)}`;
// Names whose UTF-16 and UTF-8 orders differ (U+E000 against an emoji), and plain ones.
const NAMES = ['b', 'a', 'B', 'é', '\ue000', '😀', 'a a'].map((n) => `${prefix}${n}`);

beforeAll(async () => {
  registry = await localRegistry({ env: { GOVERNANCE_POLICY: 'mlflow' } });
  mlflow = mlflowWire(registry.url);
  for (const name of NAMES) await mlflow.call('POST', 'registered-models/create', { name });
  // Versions created concurrently (ties on creation time), some with a run and a tag.
  await Promise.all(
    NAMES.flatMap((name, m) =>
      Array.from({ length: 4 }, (_, i) =>
        mlflow.call('POST', 'model-versions/create', {
          name,
          source: `s3://b/${m}/${i}`,
          ...(i % 2 === 0 ? { run_id: `${prefix}run${i % 4}` } : {}),
          ...(i % 3 === 0 ? { tags: [{ key: 'team', value: 'x' }] } : {}),
        }),
      ),
    ),
  );
  // Archive-existing moves several versions in one write: ties on last update.
  for (const name of NAMES.slice(0, 4)) {
    for (const v of ['1', '2', '3']) {
      await mlflow.call('POST', 'model-versions/transition-stage', {
        name,
        version: v,
        stage: 'Production',
        archive_existing_versions: false,
      });
    }
    await mlflow.call('POST', 'model-versions/transition-stage', {
      name,
      version: '4',
      stage: 'Production',
      archive_existing_versions: true,
    });
  }
  await registry.settled();
}, 120_000);
afterAll(async () => {
  await registry?.stop();
});

const utf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

function sortAsMlflow<T extends Record<string, unknown>>(
  items: T[],
  orderBy: readonly string[],
  defaults: readonly string[],
  tiebreaks: readonly string[],
  field: (key: string) => keyof T,
): T[] {
  const terms = (orderBy.length ? orderBy : defaults).map((t) => {
    const [key, dir] = t.split(' ');
    return { key: key!, desc: dir === 'DESC' };
  });
  for (const t of tiebreaks) {
    const [key, dir] = t.split(' ');
    if (!terms.some((x) => x.key === key)) terms.push({ key: key!, desc: dir === 'DESC' });
  }
  return [...items].sort((a, b) => {
    for (const { key, desc } of terms) {
      const x = a[field(key)];
      const y = b[field(key)];
      const c = typeof x === 'number' ? x - (y as number) : utf8(String(x), String(y));
      if (c !== 0) return desc ? -c : c;
    }
    return 0;
  });
}

async function allPages(endpoint: string, key: string, fields: Record<string, unknown>, pageSize: number) {
  const out: any[] = [];
  let token: string | undefined;
  do {
    const page = await mlflow.call('GET', endpoint, {
      ...fields,
      max_results: pageSize,
      ...(token ? { page_token: token } : {}),
    });
    out.push(...(page[key] ?? []));
    token = page.next_page_token;
  } while (token);
  return out;
}

const VERSION_KEYS = ['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'];
const versionField = (key: string) =>
  (
    ({
      name: 'name',
      version_number: 'version',
      creation_timestamp: 'created',
      last_updated_timestamp: 'updated',
    }) as const
  )[key as 'name'];
const orderBys = (keys: readonly string[]) =>
  fc
    .uniqueArray(fc.constantFrom(...keys), { maxLength: keys.length })
    .chain((chosen) =>
      fc.tuple(...chosen.map((k) => fc.constantFrom(`${k} ASC`, `${k} DESC`, k))).map((t) => t as string[]),
    );

const ALICE = principal('arn:aws:iam::111111111111:user/alice');

/** Versions as MLflow's search sorts them by default and with `orderBy` (its default order last). */
const inMlflowOrder = <V extends Version>(versions: readonly V[], orderBy: readonly string[]): V[] =>
  sortAsMlflow(
    [...versions],
    orderBy.map((o) => (o.includes(' ') ? o : `${o} ASC`)),
    ['last_updated_timestamp DESC'],
    ['name ASC', 'version_number DESC'],
    versionField,
  );

/**
 * What paging holds while versions are updated between pages, as one index read whose position is
 * a key would: the versions not updated come once each, in the order they had before (`expected`);
 * none comes twice newest first (an updated one moved to the end already passed); oldest first
 * every one comes (an updated one again at the end). `before` and `after` map each version to its
 * last update; versions in `after` only were created meanwhile (newer than every page: returned
 * oldest first or not at all newest first) and are the only others allowed.
 */
function expectPagedAroundUpdates<K>(
  got: readonly K[],
  expected: readonly K[],
  before: ReadonlyMap<K, number>,
  after: ReadonlyMap<K, number>,
  newestFirst: boolean,
): void {
  expect(got.filter((k) => !after.has(k))).toEqual([]);
  const still = (ks: readonly K[]) => ks.filter((k) => before.has(k) && after.get(k) === before.get(k));
  expect(still(got)).toEqual(still(expected));
  if (newestFirst) expect(new Set(got).size).toBe(got.length);
  else expect(new Set(got.filter((k) => before.has(k)))).toEqual(new Set(before.keys()));
}

/** The stages a version goes through, one transition after the other, from None back to None. */
const STAGE_CYCLE = ['Staging', 'Production', 'Archived', 'None'] as const;

/** Moves a version to the stage after its own in STAGE_CYCLE (archiving the others when asked). */
async function nextStage(service: TestRegistry['service'], name: string, version: number, archive: boolean) {
  const current = (await service.getModelVersion(name, version)).version.stage;
  const stage =
    STAGE_CYCLE[(STAGE_CYCLE.indexOf(current as (typeof STAGE_CYCLE)[number]) + 1) % STAGE_CYCLE.length]!;
  await service.transitionModelVersionStage(
    name,
    version,
    { stage, archiveExistingVersions: archive && (stage === 'Staging' || stage === 'Production') },
    ALICE,
  );
}

/** How far a step moves the test's clock: two transitions of one version in one millisecond are refused (their records' keys collide). */
const clockStep = (s: { op: string; tick: number }) => (s.op === 'stage' ? Math.max(1, s.tick) : s.tick);

describe('model version search order', () => {
  const filters: Record<string, (v: Version) => boolean> = {
    [`name LIKE '${prefix}%'`]: () => true,
    [`name = '${NAMES[3]}'`]: (v) => v.name === NAMES[3],
    [`run_id = '${prefix}run2'`]: (v) => v.run === `${prefix}run2`,
    [`run_id IN ('${prefix}run0', '${prefix}run2')`]: (v) => v.run !== undefined,
    "tags.team = 'x'": (v) => v.tag === 'x',
  };

  it('follows MLflow for every order_by, filter and page size', async () => {
    const every = (
      await allPages('model-versions/search', 'model_versions', { filter: `name LIKE '${prefix}%'` }, 1000)
    ).map(
      (v): Version => ({
        name: v.name,
        version: Number(v.version),
        created: Number(v.creation_timestamp),
        updated: Number(v.last_updated_timestamp),
        ...(v.run_id ? { run: v.run_id } : {}),
        ...(v.tags?.length ? { tag: v.tags.find((t: { key: string }) => t.key === 'team')?.value } : {}),
      }),
    );
    expect(every).toHaveLength(NAMES.length * 4);
    // The data has the ties that matter.
    expect(new Set(every.map((v) => v.updated)).size).toBeLessThan(every.length);
    await fc.assert(
      fc.asyncProperty(
        orderBys(VERSION_KEYS),
        fc.constantFrom(...Object.keys(filters)),
        fc.integer({ min: 1, max: 7 }),
        async (orderBy, filter, pageSize) => {
          const got = await allPages(
            'model-versions/search',
            'model_versions',
            { filter, order_by: orderBy },
            pageSize,
          );
          const tagged = filter.startsWith('tags.') ? every.filter((v) => v.name.startsWith(prefix)) : every;
          const expected = sortAsMlflow(
            tagged.filter(filters[filter]!),
            orderBy.map((t) => (t.includes(' ') ? t : `${t} ASC`)),
            ['last_updated_timestamp DESC'],
            ['name ASC', 'version_number DESC'],
            versionField,
          );
          expect(got.map((v) => `${v.name}/${v.version}`)).toEqual(
            expected.map((v) => `${v.name}/${v.version}`),
          );
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});

describe('registered model search order', () => {
  it('follows MLflow for every order_by and page size', async () => {
    const every = (
      await allPages(
        'registered-models/search',
        'registered_models',
        { filter: `name LIKE '${prefix}%'` },
        1000,
      )
    ).map(
      (m): Model => ({
        name: m.name,
        created: Number(m.creation_timestamp),
        updated: Number(m.last_updated_timestamp),
      }),
    );
    expect(every).toHaveLength(NAMES.length);
    const field = (key: string) =>
      (({ name: 'name', creation_timestamp: 'created', last_updated_timestamp: 'updated' }) as const)[
        key as 'name'
      ];
    await fc.assert(
      fc.asyncProperty(
        orderBys(['name', 'creation_timestamp', 'last_updated_timestamp']),
        fc.integer({ min: 1, max: 4 }),
        async (orderBy, pageSize) => {
          const got = await allPages(
            'registered-models/search',
            'registered_models',
            { filter: `name LIKE '${prefix}%'`, order_by: orderBy },
            pageSize,
          );
          const expected = sortAsMlflow(
            every,
            orderBy.map((t) => (t.includes(' ') ? t : `${t} ASC`)),
            [],
            ['name ASC'],
            field,
          );
          expect(got.map((m) => m.name)).toEqual(expected.map((m) => m.name));
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});

/**
 * One model's versions by last update: the versions updated since their creation are read from
 * the model's last-update index (sparse: a version enters it at its first update), the others
 * from the model's partition by number (their last update is their creation, and creation times
 * rise with numbers), and the two are merged. A clock the test holds makes creations and updates
 * share milliseconds, so ties fall across the two reads and across page boundaries.
 */
describe("one model's versions by last update", () => {
  let t: TestRegistry;
  let now = 1_800_000_000_000;
  let models = 0;

  beforeAll(async () => {
    t = await testRegistry({ clock: { now: () => now } });
  });

  type Step = { op: 'create' | 'describe' | 'stage'; target: number; archive: boolean; tick: number };
  const step = fc.record({
    op: fc.constantFrom<Step['op']>('create', 'create', 'describe', 'stage'),
    target: fc.nat(),
    archive: fc.boolean(),
    tick: fc.constantFrom(0, 0, 1, 2),
  });
  /** An update at a time of its own (no archiving, which moves several versions at once). */
  const update = step.map(
    (s): Step => ({
      ...s,
      op: s.op === 'create' ? 'describe' : s.op,
      archive: false,
      tick: s.tick + 1,
    }),
  );

  /** Applies a step (an update of an existing version, or a create) at the clock's time, then moves the clock. */
  async function apply(name: string, s: Step, count: number): Promise<number> {
    if (s.op === 'create' || count === 0) {
      await t.service.createModelVersion(name, { source: `s3://b/${name}/${count % 3}` }, ALICE);
      count++;
    } else {
      const version = (s.target % count) + 1;
      if (s.op === 'describe') {
        await t.service.updateModelVersion(name, version, `at ${now}`, ALICE);
      } else {
        await nextStage(t.service, name, version, s.archive);
      }
    }
    now += clockStep(s);
    return count;
  }

  async function build(steps: readonly Step[]): Promise<{ name: string; count: number }> {
    const name = `merge-${++models}-${Date.now().toString(36)}`;
    await t.service.createRegisteredModel({ name }, ALICE);
    let count = 0;
    for (const s of steps) count = await apply(name, s, count);
    return { name, count };
  }

  /** Every version of the model as it is now (in number order: the partition, not the merge). */
  async function state(name: string): Promise<Version[]> {
    const page = await t.service.searchModelVersions({
      filter: `name = '${name}'`,
      orderBy: ['version_number ASC'],
      maxResults: 1000,
    });
    return page.items.map(({ version: v }) => ({
      name: v.name,
      version: v.version,
      created: v.creationTimestamp,
      updated: v.lastUpdatedTimestamp,
      source: v.source,
    }));
  }

  const ORDERS = [
    [],
    ['last_updated_timestamp DESC'],
    ['last_updated_timestamp ASC'],
    ['last_updated_timestamp'],
    ['name ASC', 'last_updated_timestamp DESC', 'version_number ASC'],
    ['last_updated_timestamp ASC', 'version_number ASC'],
  ];
  const FILTERS: Record<string, (v: Version & { source?: string }) => boolean> = {
    '': () => true,
    " AND source_path LIKE '%/1'": (v) => v.source?.endsWith('/1') ?? false,
  };
  const expectedOrder = (versions: Version[], orderBy: readonly string[]) =>
    inMlflowOrder(versions, orderBy).map((v) => v.version);

  async function page(
    name: string,
    orderBy: readonly string[],
    filter: string,
    size: number,
    token?: string,
  ) {
    const out = await t.service.searchModelVersions({
      filter: `name = '${name}'${filter}`,
      orderBy,
      maxResults: size,
      ...(token ? { pageToken: token } : {}),
    });
    return { versions: out.items.map((v) => v.version.version), token: out.nextPageToken };
  }

  it('pages as MLflow sorts, with updated and never-updated versions tying on their times', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 24 }),
        fc.constantFrom(...ORDERS),
        fc.constantFrom(...Object.keys(FILTERS)),
        fc.integer({ min: 1, max: 5 }),
        async (steps, orderBy, filter, size) => {
          const { name } = await build(steps);
          const versions = await state(name);
          const got: number[] = [];
          let token: string | undefined;
          do {
            const p = await page(name, orderBy, filter, size, token);
            expect(p.versions.length).toBeLessThanOrEqual(size);
            got.push(...p.versions);
            token = p.token;
          } while (token);
          expect(got).toEqual(expectedOrder(versions.filter(FILTERS[filter]!), orderBy));
        },
      ),
      { numRuns: 30 },
    );
  }, 240_000);

  // As with one index read, whose position is a key: a version updated between two pages moves to
  // the newest end of the order (passed, when reading newest first; still ahead, oldest first).
  // Times are distinct here: a page never ends inside a group of ties, whose members a token
  // counts, so a version leaving one would shift the count (as it would for any index read).
  it('returns every version not updated while paging once, in order; none twice newest first', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          step.map((s) => ({ ...s, archive: false, tick: s.tick + 1 })),
          { minLength: 1, maxLength: 20 },
        ),
        fc.constantFrom(...ORDERS),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.array(update, { maxLength: 3 }), { maxLength: 8 }),
        async (steps, orderBy, size, between) => {
          const { name, count } = await build(steps);
          const before = await state(name);
          const got: number[] = [];
          let token: string | undefined;
          let pages = 0;
          do {
            const p = await page(name, orderBy, '', size, token);
            got.push(...p.versions);
            token = p.token;
            for (const s of between[pages++] ?? []) await apply(name, s, count);
          } while (token);
          const after = new Map((await state(name)).map((v) => [v.version, v.updated]));
          // Updates between pages only update: the versions are the same after.
          expect(new Set(after.keys())).toEqual(new Set(before.map((v) => v.version)));
          const key = orderBy.find((o) => !o.startsWith('name')) ?? 'last_updated_timestamp DESC';
          expectPagedAroundUpdates(
            got,
            expectedOrder(before, orderBy),
            new Map(before.map((v) => [v.version, v.updated])),
            after,
            key.endsWith('DESC'),
          );
        },
      ),
      { numRuns: 30 },
    );
  }, 240_000);
  it('keeps paging (short pages, each with a token) when a request spends its scan budget on dropped versions', async () => {
    const name = `budget-${++models}-${Date.now().toString(36)}`;
    await t.service.createRegisteredModel({ name }, ALICE);
    const model = (await t.repo.getModel(name))!;
    // More versions than a request examines, stored as the registry stores them: a third never
    // updated, a third updated right after their creation (interleaved with the others), a third
    // updated after every creation (all ahead of the others in the order). One in 97 matches.
    const total = SCAN_BUDGET + 400;
    const base = now;
    now += 4 * total;
    const versions: Version[] = Array.from({ length: total }, (_, i) => {
      const n = i + 1;
      const created = base + 2 * n;
      const updated = [created, created + 1, base + 2 * total + 2 + n][n % 3]!;
      return { name, version: n, created, updated, source: `s3://b/${n}/${n % 97 === 0 ? 'keep' : 'drop'}` };
    });
    const items = versions.map((v) =>
      versionItem({
        name,
        modelId: model.id,
        version: v.version,
        source: v.source!,
        parameters: {},
        metrics: {},
        description: '',
        tags: {},
        status: 'READY',
        stage: 'None',
        createdBy: 'seed',
        creationTimestamp: v.created,
        lastUpdatedTimestamp: v.updated,
      }),
    );
    for (let i = 0; i < items.length; i += 25) {
      await t.db.send(
        new BatchWriteCommand({
          RequestItems: { [t.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
    }
    const kept = versions.filter((v) => v.source!.endsWith('/keep'));
    for (const orderBy of [[], ['last_updated_timestamp ASC']]) {
      const got: number[] = [];
      let short = 0;
      let token: string | undefined;
      do {
        const p = await page(name, orderBy, " AND source_path LIKE '%/keep'", 50, token);
        got.push(...p.versions);
        if (p.token && p.versions.length < 50) short++;
        token = p.token;
      } while (token);
      expect(short).toBeGreaterThan(0);
      expect(got).toEqual(expectedOrder(kept, orderBy));
    }
  }, 120_000);
});

/**
 * A tag's versions by last update (MLflow's default order): the tag index is keyed by each
 * version's last update, which every update (a description, a stage change and the versions it
 * archives) moves in its own write, so the index is read in order a page at a time. Versions of
 * two models share milliseconds (a clock the test holds), so ties fall across models, within an
 * archive, and across page boundaries; tags are set and deleted on versions already updated.
 */
describe("a tag's versions by last update", () => {
  let t: TestRegistry;
  let now = 1_900_000_000_000;
  let builds = 0;

  beforeAll(async () => {
    t = await testRegistry({ clock: { now: () => now } });
  });

  type Op = 'create' | 'describe' | 'stage' | 'tag' | 'untag';
  type Step = { op: Op; model: number; target: number; tagged: boolean; archive: boolean; tick: number };
  const step = fc.record({
    op: fc.constantFrom<Op>('create', 'create', 'create', 'describe', 'stage', 'stage', 'tag', 'untag'),
    model: fc.nat({ max: 1 }),
    target: fc.nat(),
    tagged: fc.boolean(),
    archive: fc.boolean(),
    tick: fc.constantFrom(0, 0, 1, 2),
  });
  /** An update at a time of its own (no archiving, which moves several versions at once). */
  const update = step.map(
    (s): Step => ({
      ...s,
      op: s.op === 'create' || s.op === 'tag' || s.op === 'untag' ? 'describe' : s.op,
      archive: false,
      tick: s.tick + 1,
    }),
  );
  type Build = { names: [string, string]; counts: [number, number]; value: string };

  async function apply(b: Build, s: Step): Promise<void> {
    const name = b.names[s.model]!;
    const count = b.counts[s.model]!;
    if (s.op === 'create' || count === 0) {
      await t.service.createModelVersion(
        name,
        {
          source: `s3://b/${name}/${count}`,
          // Other tags too: their items move with the version's (many tags in one archive).
          tags: s.tagged ? { team: b.value, other: String(count % 2) } : { other: 'y' },
        },
        ALICE,
      );
      b.counts[s.model] = count + 1;
    } else {
      const version = (s.target % count) + 1;
      if (s.op === 'describe') {
        await t.service.updateModelVersion(name, version, `at ${now}`, ALICE);
      } else if (s.op === 'tag') {
        await t.service.setModelVersionTag(name, version, 'team', b.value, ALICE);
      } else if (s.op === 'untag') {
        await t.service.deleteModelVersionTag(name, version, 'team', ALICE);
      } else {
        await nextStage(t.service, name, version, s.archive);
      }
    }
    now += clockStep(s);
  }

  async function build(steps: readonly Step[]): Promise<Build> {
    const id = `${++builds}-${Date.now().toString(36)}`;
    // Names in the opposite order of the models' ids' creation: ties are sorted by name, not id.
    const b: Build = { names: [`tagz-${id}`, `taga-${id}`], counts: [0, 0], value: `team-${id}` };
    for (const name of b.names) await t.service.createRegisteredModel({ name }, ALICE);
    for (const s of steps) await apply(b, s);
    return b;
  }

  /** The versions that carry the build's tag now. */
  async function state(b: Build): Promise<Version[]> {
    const out: Version[] = [];
    for (const name of b.names) {
      const page = await t.service.searchModelVersions({
        filter: `name = '${name}'`,
        orderBy: ['version_number ASC'],
        maxResults: 1000,
      });
      for (const { version: v } of page.items) {
        if (v.tags.team !== b.value) continue;
        out.push({
          name,
          version: v.version,
          created: v.creationTimestamp,
          updated: v.lastUpdatedTimestamp,
          ...(v.tags.other !== undefined ? { tag: v.tags.other } : {}),
        });
      }
    }
    return out;
  }

  const ORDERS = [
    [],
    ['last_updated_timestamp DESC'],
    ['last_updated_timestamp ASC'],
    ['last_updated_timestamp'],
    ['last_updated_timestamp ASC', 'version_number ASC'],
    ['last_updated_timestamp DESC', 'name DESC'],
  ];
  const expectedOrder = (versions: Version[], orderBy: readonly string[]) =>
    inMlflowOrder(versions, orderBy).map((v) => `${v.name}/${v.version}`);

  async function page(b: Build, orderBy: readonly string[], extra: string, size: number, token?: string) {
    const out = await t.service.searchModelVersions({
      filter: `tags.team = '${b.value}'${extra}`,
      orderBy,
      maxResults: size,
      ...(token ? { pageToken: token } : {}),
    });
    return {
      versions: out.items.map((v) => `${v.version.name}/${v.version.version}`),
      token: out.nextPageToken,
    };
  }

  it('pages as MLflow sorts, after descriptions, stage changes and archives', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 24 }),
        fc.constantFrom(...ORDERS),
        fc.constantFrom('', " AND tags.other = '1'"),
        fc.integer({ min: 1, max: 5 }),
        async (steps, orderBy, extra, size) => {
          const b = await build(steps);
          const tagged = await state(b);
          const got: string[] = [];
          let token: string | undefined;
          do {
            const p = await page(b, orderBy, extra, size, token);
            expect(p.versions.length).toBeLessThanOrEqual(size);
            got.push(...p.versions);
            token = p.token;
          } while (token);
          const matching = tagged.filter((v) => !extra || v.tag === '1');
          expect(got).toEqual(expectedOrder(matching, orderBy));
        },
      ),
      { numRuns: 30 },
    );
  }, 240_000);

  // As with any index read, whose position is a key: a version updated between two pages moves to
  // the newest end of the order (passed, reading newest first; still ahead, oldest first).
  it('returns every version not updated while paging once, in order; none twice newest first', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          step.map((s) => ({ ...s, archive: false, tick: s.tick + 1 })),
          { minLength: 1, maxLength: 20 },
        ),
        fc.constantFrom(...ORDERS.slice(0, 5)),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.array(update, { maxLength: 3 }), { maxLength: 8 }),
        async (steps, orderBy, size, between) => {
          const b = await build(steps);
          const before = await state(b);
          const got: string[] = [];
          let token: string | undefined;
          let pages = 0;
          do {
            const p = await page(b, orderBy, '', size, token);
            got.push(...p.versions);
            token = p.token;
            for (const s of between[pages++] ?? []) await apply(b, s);
          } while (token);
          // An update to a model with no version yet creates one (in `after` only).
          const keyed = (vs: Version[]) => new Map(vs.map((v) => [`${v.name}/${v.version}`, v.updated]));
          const key = orderBy[0] ?? 'last_updated_timestamp DESC';
          expectPagedAroundUpdates(
            got,
            expectedOrder(before, orderBy),
            keyed(before),
            keyed(await state(b)),
            key.endsWith('DESC'),
          );
        },
      ),
      { numRuns: 30 },
    );
  }, 240_000);
});
