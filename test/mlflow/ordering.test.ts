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
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRegistry } from '../../local/registry';
import { localRegistry } from '../support/engines';
import { mlflowWire } from './client';

type Version = {
  name: string;
  version: number;
  created: number;
  updated: number;
  run?: string;
  tag?: string;
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
