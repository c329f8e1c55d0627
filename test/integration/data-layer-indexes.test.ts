/**
 * The indexes and reads behind searches and stage changes, on DynamoDB Local through the handler
 * stack: a tag's versions by last update (gsi9) and a model's updated versions (gsi7, sparse)
 * read only their page; a stage change reads in one round trip, helped by a model's first id and
 * the anchor's count of versions in None. Each test is written as the failure it prevents.
 */
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tagHash } from '../../functions/adapters/dynamodb/keys';
import { firstModelId } from '../../functions/domain/model-id';
import { MAX_TAGS_PER_ENTITY } from '../../functions/domain/rules';
import { dataLayerRegistry } from '../support/data-layer';
import { documentClient } from '../support/engines';

const dl = dataLayerRegistry();
const { api, unique, counted, modelOfLargeVersions, batchGetKeys, model, moveEach, versionsOf } = dl;

describe("a tag's versions (gsi9) by last update", () => {
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  type Listed = { name: string; version: number | string; last_updated_timestamp: number };
  const id = (v: Listed) => `${v.name}/${Number(v.version)}`;
  /** MLflow's default order: last update (newest first), then name, then version (highest first). */
  const mlflowOrder = (vs: Listed[], ascending = false) =>
    [...vs].sort(
      (a, b) =>
        (ascending ? 1 : -1) * (Number(a.last_updated_timestamp) - Number(b.last_updated_timestamp)) ||
        Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)) ||
        Number(b.version) - Number(a.version),
    );
  const search = (filter: string, query: string) =>
    api('GET', `/versions?filter=${encodeURIComponent(filter)}&${query}`);

  it('reads only its page in the default order, however many versions carry the tag', async () => {
    const value = unique('team');
    const names = [unique('tagged-b'), unique('tagged-a')];
    for (const name of names) {
      await model(name);
      for (let i = 0; i < 40; i++) {
        const res = await api('POST', `/models/${name}/versions`, {
          source: `s3://b/${name}/${i}`,
          tags: { team: value, other: String(i) },
        });
        expect(res.status).toBe(201);
      }
    }
    // Updated versions leave their creation order.
    for (const [name, v] of [
      [names[0], 3],
      [names[1], 30],
      [names[0], 17],
    ] as const) {
      expect((await api('PATCH', `/models/${name}/versions/${v}`, { description: 'moved' })).status).toBe(
        200,
      );
    }
    expect((await api('POST', `/models/${names[1]}/versions/5/stage`, { stage: 'Staging' })).status).toBe(
      200,
    );
    const filter = `tags.team = '${value}'`;
    // Every match, sorted by the test (an order the index does not give: the matches sorted in memory).
    const every = (await search(filter, 'max_results=1000&order_by=creation_timestamp')).body
      .model_versions as Listed[];
    expect(every).toHaveLength(80);
    for (const ascending of [false, true]) {
      const expected = mlflowOrder(every, ascending).map(id);
      const got: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await counted(() =>
          search(
            filter,
            `max_results=7${ascending ? '&order_by=last_updated_timestamp%20ASC' : ''}${token ? `&page_token=${token}` : ''}`,
          ),
        );
        expect(page.result.status).toBe(200);
        const listed = page.result.body.model_versions as Listed[];
        got.push(...listed.map(id));
        token = page.result.body.next_page_token;
        pages++;
        // One query of the tag's index, one read of the page's versions, one of their models.
        expect(page.commands.filter((c) => c === 'QueryCommand')).toHaveLength(1);
        expect(page.commands.length).toBeLessThanOrEqual(3);
        const versionKeys = batchGetKeys(page.reports).filter((k) => k.sk.startsWith('V#'));
        expect(versionKeys.length).toBeLessThanOrEqual(listed.length + 1);
      } while (token);
      expect(pages).toBe(Math.ceil(80 / 7));
      expect(got).toEqual(expected);
    }
  }, 180_000);

  it(`archives versions carrying ${MAX_TAGS_PER_ENTITY} tags each (no transaction over 100 items) and moves their tags in the index`, async () => {
    const name = unique('tags-50');
    await model(name);
    const tags = (v: number) =>
      Object.fromEntries(
        Array.from({ length: MAX_TAGS_PER_ENTITY }, (_, i) => [`t${i}`, `${name}-${v % 2}`]),
      );
    for (let v = 1; v <= 5; v++) {
      expect(
        (await api('POST', `/models/${name}/versions`, { source: `s3://b/${v}`, tags: tags(v) })).status,
      ).toBe(201);
    }
    await moveEach(name, 1, 4, 'Production');
    // A description update moves the version's 50 tag items in its own transaction.
    const described = await counted(() =>
      api('PATCH', `/models/${name}/versions/5`, { description: 'full' }),
    );
    expect(described.result.status).toBe(200);
    const change = await counted(() =>
      api('POST', `/models/${name}/versions/5/stage`, {
        stage: 'Production',
        archive_existing_versions: true,
      }),
    );
    expect(change.result.status).toBe(200);
    const transactions = [...described.reports, ...change.reports]
      .filter((r) => r.command === 'TransactWriteItemsCommand')
      .map((r) => (r.input as { TransactItems: unknown[] }).TransactItems.length);
    // The version asked for with its tags, then each archived version with its own.
    expect(transactions.length).toBeGreaterThanOrEqual(1 + 5);
    for (const size of transactions) expect(size).toBeLessThanOrEqual(100);
    const stages = (await search(`name = '${name}'`, 'max_results=10')).body.model_versions.map(
      (v: { version: number; current_stage: string }) => [Number(v.version), v.current_stage],
    );
    expect(Object.fromEntries(stages)).toEqual({
      1: 'Archived',
      2: 'Archived',
      3: 'Archived',
      4: 'Archived',
      5: 'Production',
    });

    // Every tag item sorts by its version's last update, and each tag's index lists them in order.
    const db = documentClient();
    const TableName = dl.registry.tableName;
    const { Item: named } = await db.send(
      new GetCommand({ TableName, Key: { pk: `MODEL#${name}`, sk: 'MODEL' } }),
    );
    const modelId = named!.modelId as string;
    const partition = await db.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :v)',
        ExpressionAttributeValues: { ':p': `MID#${modelId}`, ':v': 'V' },
        ConsistentRead: true,
      }),
    );
    const versions = partition.Items!.filter((i) => String(i.sk).startsWith('V#'));
    const tagItems = partition.Items!.filter((i) => String(i.sk).startsWith('VT#'));
    expect(versions).toHaveLength(5);
    expect(tagItems).toHaveLength(5 * MAX_TAGS_PER_ENTITY);
    const updated = new Map(versions.map((v) => [Number(v.version), Number(v.updatedAt)]));
    for (const item of tagItems) {
      expect(item.gsi9sk).toBe(
        `${pad(updated.get(Number(item.version))!, 15)}#${modelId}#${pad(Number(item.version), 10)}`,
      );
    }
    for (const parity of [0, 1]) {
      const indexed = await db.send(
        new QueryCommand({
          TableName,
          IndexName: 'gsi9',
          KeyConditionExpression: 'gsi9pk = :p',
          ExpressionAttributeValues: { ':p': `VTAG#${tagHash('t7', `${name}-${parity}`)}` },
          ScanIndexForward: false,
        }),
      );
      const listed = indexed.Items!.map((i) => Number(String(i.sk).split('#')[1]));
      expect(listed.sort()).toEqual([1, 2, 3, 4, 5].filter((v) => v % 2 === parity));
      const found = (await search(`tags.t7 = '${name}-${parity}'`, 'max_results=2')).body
        .model_versions as Listed[];
      expect(found.map(id)).toEqual(
        mlflowOrder(
          versions
            .filter((v) => Number(v.version) % 2 === parity)
            .map((v) => ({ name, version: Number(v.version), last_updated_timestamp: Number(v.updatedAt) })),
        )
          .slice(0, 2)
          .map(id),
      );
    }
  }, 180_000);
});

describe('tag writes racing updates', () => {
  it("leaves every tag item at its version's last update, each racing write applied in its request (20 rounds)", async () => {
    const name = unique('tag-race');
    await model(name);
    expect(
      (await api('POST', `/models/${name}/versions`, { source: 's3://b/1', tags: { a: '0', b: '0' } }))
        .status,
    ).toBe(201);
    for (let round = 0; round < 20; round++) {
      const results = await Promise.all([
        api('PATCH', `/models/${name}/versions/1`, { description: `round ${round}` }),
        api('POST', `/models/${name}/versions/1/tags`, { key: `k${round % 3}`, value: String(round) }),
        api('POST', `/models/${name}/versions/1/tags`, { key: 'a', value: String(round) }),
        round % 2
          ? api('DELETE', `/models/${name}/versions/1/tags?key=k${(round + 1) % 3}`)
          : api('POST', `/models/${name}/versions/1/stage`, { stage: round % 4 ? 'Staging' : 'None' }),
      ]);
      // A write that loses the race reads the version again and applies (bounded, in the request).
      for (const r of results) expect(r.status).toBe(200);
    }
    const db = documentClient();
    const TableName = dl.registry.tableName;
    const { Item: named } = await db.send(
      new GetCommand({ TableName, Key: { pk: `MODEL#${name}`, sk: 'MODEL' } }),
    );
    const { Items } = await db.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :v)',
        ExpressionAttributeValues: { ':p': `MID#${named!.modelId}`, ':v': 'V' },
        ConsistentRead: true,
      }),
    );
    const version = Items!.find((i) => i.sk === 'V#0000000001')!;
    const tagItems = Items!.filter((i) => String(i.sk).startsWith('VT#'));
    // One item per tag the version has, in the tag's partition, at the version's last update.
    const tags = Object.entries(version.tags as Record<string, string>);
    expect(tags.length).toBeGreaterThan(0);
    expect(tagItems.map((i) => i.sk).sort()).toEqual(
      tags.map(([k]) => `VT#0000000001#${tagHash(k, '')}`).sort(),
    );
    for (const [k, value] of tags) {
      const item = tagItems.find((i) => i.sk === `VT#0000000001#${tagHash(k, '')}`)!;
      expect(item.gsi9pk).toBe(`VTAG#${tagHash(k, value)}`);
      expect(item.gsi9sk).toBe(`${String(version.updatedAt).padStart(15, '0')}#${named!.modelId}#0000000001`);
    }
  }, 120_000);
});

describe("the index of a model's updated versions (gsi7) is sparse", () => {
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  type Listed = { version: number | string; last_updated_timestamp: number };
  /** The versions listed, after checking they are in MLflow's default order (ties: higher number first). */
  const inOrder = (listed: Listed[]) => {
    const got = listed.map((v) => ({
      version: Number(v.version),
      updated: Number(v.last_updated_timestamp),
    }));
    const sorted = [...got].sort((a, b) => b.updated - a.updated || b.version - a.version);
    expect(got).toEqual(sorted);
    return got.map((v) => v.version);
  };

  it('holds a version from its first update on, not from its creation; the default order merges both', async () => {
    const name = unique('sparse');
    await model(name, 4);
    const db = documentClient();
    const TableName = dl.registry.tableName;
    const { Item: named } = await db.send(
      new GetCommand({ TableName, Key: { pk: `MODEL#${name}`, sk: 'MODEL' } }),
    );
    const partition = `MID#${named!.modelId}`;
    const item = async (v: number) =>
      (
        await db.send(
          new GetCommand({ TableName, Key: { pk: partition, sk: `V#${pad(v, 10)}` }, ConsistentRead: true }),
        )
      ).Item!;
    const indexed = async () =>
      (
        await db.send(
          new QueryCommand({
            TableName,
            IndexName: 'gsi7',
            KeyConditionExpression: 'gsi7pk = :p',
            ExpressionAttributeValues: { ':p': partition },
          }),
        )
      ).Items!.map((i) => Number(String(i.sk).slice(2)));

    // Created: in the other indexes, not in gsi7.
    for (const v of [1, 2, 3, 4]) {
      const created = await item(v);
      expect(created).not.toHaveProperty('gsi7pk');
      expect(created).not.toHaveProperty('gsi7sk');
      expect(created).toHaveProperty('gsi3sk');
    }
    expect(await indexed()).toEqual([]);

    // Updated (a description, a stage): in gsi7 at its last update.
    expect((await api('PATCH', `/models/${name}/versions/1`, { description: 'first' })).status).toBe(200);
    expect((await api('POST', `/models/${name}/versions/3/stage`, { stage: 'Staging' })).status).toBe(200);
    expect((await api('PATCH', `/models/${name}/versions/1`, { description: 'again' })).status).toBe(200);
    for (const v of [1, 3]) {
      const updated = await item(v);
      expect(updated.updatedAt).toBeGreaterThanOrEqual(updated.createdAt);
      expect(updated).toMatchObject({
        gsi7pk: partition,
        gsi7sk: `${pad(updated.updatedAt, 15)}#${pad(v, 10)}`,
      });
    }
    expect(await item(2)).not.toHaveProperty('gsi7pk');
    expect((await indexed()).sort()).toEqual([1, 3]);

    // The default order: last update first, whichever read a version comes from.
    const found = await api(
      'GET',
      `/versions?max_results=10&filter=${encodeURIComponent(`name = '${name}'`)}`,
    );
    expect(found.status).toBe(200);
    expect(inOrder(found.body.model_versions)).toEqual([1, 3, 4, 2]);
  });

  it('cuts a merged page at the byte budget and pages through the rest in order', async () => {
    const name = unique('merged-bytes');
    await modelOfLargeVersions(name);
    for (const v of [2, 9, 5, 17]) {
      expect((await api('PATCH', `/models/${name}/versions/${v}`, { description: `d${v}` })).status).toBe(
        200,
      );
    }
    const pages: Listed[][] = [];
    let token: string | undefined;
    do {
      const res = await fetch(
        `${dl.registry.url}/versions?max_results=1000&filter=${encodeURIComponent(`name = '${name}'`)}${token ? `&page_token=${token}` : ''}`,
      );
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(Buffer.byteLength(text)).toBeLessThan(5 * 1024 * 1024);
      const body = JSON.parse(text);
      pages.push(body.model_versions);
      token = body.next_page_token;
    } while (token);
    expect(pages.length).toBeGreaterThan(1);
    expect(inOrder(pages.flat())).toEqual([
      17, 5, 9, 2, 20, 19, 18, 16, 15, 14, 13, 12, 11, 10, 8, 7, 6, 4, 3, 1,
    ]);
  }, 120_000);
});

describe('a stage change reads in one round trip', () => {
  const move = (name: string, version: number, stage: string) =>
    counted(() =>
      api('POST', `/models/${encodeURIComponent(name)}/versions/${version}/stage`, {
        stage,
        archive_existing_versions: stage === 'Staging' || stage === 'Production',
      }),
    );
  const latest = async (name: string, stage: string) =>
    (await api('GET', `/models/${encodeURIComponent(name)}/latest-versions?stages=${stage}`)).body
      .model_versions;

  it('reads the model, the version with those under it, open requests and stage members together, then writes', async () => {
    const name = unique('trips');
    await model(name, 3);
    expect((await api('POST', `/models/${name}/versions/2/stage`, { stage: 'Staging' })).status).toBe(200);
    // Version 3 is the latest in None: the next one (1) is among the versions read under it.
    const first = await move(name, 3, 'Staging');
    expect(first.result.status).toBe(200);
    expect(first.roundTrips).toBe(2);
    expect((await latest(name, 'None')).map((v: { version: number }) => v.version)).toEqual([1]);
    expect((await latest(name, 'Staging')).map((v: { version: number }) => v.version)).toEqual([3]);
    // Nothing lies below version 1: the read under it says so, and None is left empty.
    const second = await move(name, 1, 'Production');
    expect(second.result.status).toBe(200);
    expect(second.roundTrips).toBe(2);
    expect(await latest(name, 'None')).toEqual([]);
  }, 60_000);

  it('finds the next latest version of the stage when it lies below the versions read with the moved one', async () => {
    const name = unique('deep');
    await model(name, 9);
    await moveEach(name, 2, 8, 'Archived');
    const moved = await move(name, 9, 'Staging');
    expect(moved.result.status).toBe(200);
    // Versions 8..4 are read with 9; version 1, the next in None, takes one more read.
    expect(moved.roundTrips).toBe(3);
    expect((await latest(name, 'None')).map((v: { version: number }) => v.version)).toEqual([1]);
  }, 60_000);

  it('reads a renamed model again under its id, and gives a name used before a new id and history', async () => {
    const name = unique('reused');
    await model(name, 2);
    const renamed = `${name}-renamed`;
    expect((await api('POST', `/models/${name}/rename`, { new_name: renamed })).status).toBe(200);
    // The renamed model's id is not its new name's: its reads are repeated under its id.
    const renamedMove = await move(renamed, 2, 'Staging');
    expect(renamedMove.result.status).toBe(200);
    expect(renamedMove.roundTrips).toBe(3);
    // A new model under the old name: its own versions, stages and audit log only.
    await model(name, 1);
    const fresh = await move(name, 1, 'Production');
    expect(fresh.result.status).toBe(200);
    expect(fresh.roundTrips).toBeLessThanOrEqual(3);
    expect((await latest(name, 'Production')).map((v: { version: number }) => v.version)).toEqual([1]);
    expect((await latest(renamed, 'Staging')).map((v: { version: number }) => v.version)).toEqual([2]);
    expect(await versionsOf(name)).toEqual([1]);
    expect(await versionsOf(renamed)).toEqual([1, 2]);
    // Deleted and created again: the old model's history stays with the old model.
    expect((await api('DELETE', `/models/${renamed}`)).status).toBe(200);
    await model(renamed);
    const audit = await api('GET', `/models/${encodeURIComponent(renamed)}/audit?max_results=100`);
    expect(audit.status).toBe(200);
    expect(audit.body.entries.map((e: { event_type: string }) => e.event_type)).toEqual([
      'RegisteredModelCreated',
    ]);
    expect(await versionsOf(renamed)).toEqual([]);
  }, 60_000);
});

describe('the anchor counts the versions in None', () => {
  const db = documentClient();
  const anchor = async (name: string) =>
    (
      await db.send(
        new GetCommand({
          TableName: dl.registry.tableName,
          Key: { pk: `MID#${firstModelId(name)}`, sk: 'MODEL' },
          ConsistentRead: true,
        }),
      )
    ).Item!;
  const inNone = async (name: string) => {
    const items = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName: dl.registry.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
          ExpressionAttributeValues: { ':pk': `MID#${firstModelId(name)}`, ':v': 'V#' },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items.filter((i) => i.stage === 'None').map((i) => i.version as number);
  };
  const stages = ['None', 'Staging', 'Production', 'Archived'] as const;

  it('keeps the count equal to the versions in None through creates, moves and deletes, and None latest right', async () => {
    const step = fc.oneof(
      fc.constant({ kind: 'create' as const }),
      fc.record({
        kind: fc.constant('move' as const),
        pick: fc.nat(),
        stage: fc.constantFrom(...stages),
        archive: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 14 }), async (steps) => {
        const name = unique('count');
        await model(name, 2);
        let versions = [1, 2];
        for (const s of steps) {
          if (s.kind === 'create') {
            const res = await api('POST', `/models/${name}/versions`, { source: `s3://b/${name}/x` });
            expect(res.status).toBe(201);
            versions.push(Number(res.body.model_version.version));
          } else if (versions.length) {
            const v = versions[s.pick % versions.length]!;
            if (s.kind === 'delete') {
              expect((await api('DELETE', `/models/${name}/versions/${v}`)).status).toBe(200);
              versions = versions.filter((x) => x !== v);
            } else {
              const res = await api('POST', `/models/${name}/versions/${v}/stage`, {
                stage: s.stage,
                archive_existing_versions: s.archive && (s.stage === 'Staging' || s.stage === 'Production'),
              });
              expect(res.status).toBe(200);
            }
          }
          const none = await inNone(name);
          const a = await anchor(name);
          expect(a.countsNone).toBe(true);
          expect(a.inNone).toBe(none.length);
          const latest = await api('GET', `/models/${name}/latest-versions?stages=None`);
          expect(latest.body.model_versions.map((v: { version: number }) => v.version)).toEqual(
            none.length ? [Math.max(...none)] : [],
          );
        }
      }),
      { numRuns: 12 },
    );
  }, 240_000);

  it('moves the latest version in None with no read below it when the count says it is the only one', async () => {
    const name = unique('promote');
    await model(name, 8);
    // MLflow's usual life: every version is promoted, the one before archived.
    for (let v = 1; v <= 7; v++) {
      expect(
        (
          await api('POST', `/models/${name}/versions/${v}/stage`, {
            stage: 'Staging',
            archive_existing_versions: true,
          })
        ).status,
      ).toBe(200);
    }
    const moved = await counted(() =>
      api('POST', `/models/${name}/versions/8/stage`, { stage: 'Staging', archive_existing_versions: true }),
    );
    expect(moved.result.status).toBe(200);
    expect(moved.roundTrips).toBe(2);
    expect(moved.commands.filter((c) => c === 'QueryCommand')).toHaveLength(3);
    expect((await api('GET', `/models/${name}/latest-versions?stages=None`)).body.model_versions).toEqual([]);
  }, 60_000);

  it('does not trust a count on an anchor written before the count was kept (it searches, and is right)', async () => {
    const name = unique('older');
    await model(name, 8);
    await moveEach(name, 2, 7, 'Archived');
    // An anchor as written before: no `countsNone`, and an `inNone` a later write added from nothing.
    await db.send(
      new UpdateCommand({
        TableName: dl.registry.tableName,
        Key: { pk: `MID#${firstModelId(name)}`, sk: 'MODEL' },
        UpdateExpression: 'REMOVE countsNone SET inNone = :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    const moved = await counted(() => api('POST', `/models/${name}/versions/8/stage`, { stage: 'Staging' }));
    expect(moved.result.status).toBe(200);
    expect(moved.roundTrips).toBe(3);
    expect(
      (await api('GET', `/models/${name}/latest-versions?stages=None`)).body.model_versions.map(
        (v: { version: number }) => v.version,
      ),
    ).toEqual([1]);
  }, 60_000);
});
