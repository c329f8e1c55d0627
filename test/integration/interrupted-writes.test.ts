/**
 * Writes that stop midway, on DynamoDB Local. A create spends its number (an atomic counter on the
 * model's anchor) and then stores the version in a transaction; an archive-existing of many
 * versions writes batches. A process killed between two steps is emulated by a transaction that
 * never returns (the process is frozen for good), and a later process (the reconciler, a retry)
 * finds the state it left.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbRegistryRepository } from '../../functions/adapters/dynamodb/repository';
import { RegistryCore } from '../../functions/use-cases/core';
import type { Clock } from '../../functions/use-cases/ports';
import { RegistryService, SETTLE_AFTER_MS } from '../../functions/use-cases/registry';
import { LOCAL_AWS } from '../../local/dynamodb';
import { dynamoEndpoint, freshTable, principal } from '../support/engines';

const alice = principal('arn:aws:iam::111111111111:user/alice');
let tableName: string;
let n = 0;
const unique = () => `numbers-${++n}-${Date.now().toString(36)}`;

type TransactItems = { Put?: { Item?: { sk?: unknown } } }[];
const sortKey = (sk: unknown) => (typeof sk === 'string' ? sk : (sk as { S?: string } | undefined)?.S);
/** A transaction that stores a version (a create's second step). */
const storesVersion = (items: TransactItems) => items.some((i) => sortKey(i.Put?.Item?.sk)?.startsWith('V#'));
/** A transaction that records stage transitions (a batch of a stage change). */
const movesStages = (items: TransactItems) => items.some((i) => sortKey(i.Put?.Item?.sk)?.startsWith('H#'));

/** A process: its own client (which can freeze on a transaction) and clock. */
function process(options: { freeze?: (items: TransactItems) => boolean; offsetMs?: number } = {}) {
  const client = new DynamoDBClient({ endpoint: dynamoEndpoint(), ...LOCAL_AWS });
  let frozen = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      // The document client's command, before or after its attributes are marshalled.
      const items = (args.input as { TransactItems?: TransactItems }).TransactItems;
      if (
        /^TransactWrite(Items)?Command$/.test(context.commandName ?? '') &&
        items &&
        options.freeze?.(items)
      ) {
        frozen++;
        return new Promise<never>(() => undefined);
      }
      return next(args);
    },
    { step: 'initialize', name: 'freezeVersionWrite' },
  );
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const clock: Clock = { now: () => Date.now() + (options.offsetMs ?? 0) };
  const repo = new DynamoDbRegistryRepository(db, tableName, 'a-test-page-token-secret');
  return { service: new RegistryService(new RegistryCore(repo, clock)), repo, frozen: () => frozen };
}

/** Waits until the model's counter reaches `number` (the frozen create has spent its number). */
async function counterReaches(repo: DynamoDbRegistryRepository, name: string, number: number) {
  for (let i = 0; i < 200; i++) {
    const model = await repo.getModel(name);
    if (model && (await repo.getActivity(model)).lastVersion >= number) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the counter of ${name} never reached ${number}`);
}

const later = SETTLE_AFTER_MS + 60_000;

beforeAll(async () => {
  tableName = await freshTable();
});

describe('a create that stops between spending its number and storing its version', () => {
  it('leaves a gap the reconciler settles: an event records it and the model shows stored versions only', async () => {
    let freeze = false;
    const first = process({ freeze: (items) => freeze && storesVersion(items) });
    const name = unique();
    await first.service.createRegisteredModel({ name }, alice);
    await first.service.createModelVersion(name, { source: 's3://b/1' }, alice);
    freeze = true;
    void first.service.createModelVersion(name, { source: 's3://b/2' }, alice);
    await counterReaches(first.repo, name, 2);
    expect(first.frozen()).toBe(1);
    const stopped = (await first.repo.getModel(name))!;
    // The spent number is counted in None until it is settled (a count is never below the truth).
    expect((await first.repo.getActivity(stopped)).versionsInNone).toBe(2);

    // Right after the crash a reconciler leaves the create alone: it may still be running.
    const now = process();
    expect(await now.service.settleInterruptedWrites()).toMatchObject({ skipped: 0 });

    // Later, the reconciler settles the number, once.
    const reconciler = process({ offsetMs: later });
    expect(await reconciler.service.settleInterruptedWrites()).toMatchObject({ skipped: 1 });
    expect(await reconciler.service.settleInterruptedWrites()).toMatchObject({ skipped: 0 });

    const model = await reconciler.repo.getModel(name);
    const audit = await reconciler.repo.listAudit(model!.id, { maxResults: 10 });
    const skipped = audit.items.filter((e) => e.type === 'ModelVersionNumberSkipped');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.detail).toMatchObject({ version: 2, data: { latest_in_none: 1 } });
    expect((await reconciler.repo.getActivity(model!)).versionsInNone).toBe(1);

    // The model shows its stored versions only, and the number is never reused.
    const view = await reconciler.service.getRegisteredModel(name);
    expect(view.latestVersions.map((v) => v.version)).toEqual([1]);
    const next = await reconciler.service.createModelVersion(name, { source: 's3://b/3' }, alice);
    expect(next.version.version.version).toBe(3);
  });

  it('lets a retry with the same client token create the version once the stopped claim is stale', async () => {
    let freeze = false;
    const crashed = process({ freeze: (items) => freeze && storesVersion(items) });
    const name = unique();
    await crashed.service.createRegisteredModel({ name }, alice);
    freeze = true;
    void crashed.service.createModelVersion(name, { source: 's3://b/1', clientToken: 'tok' }, alice);
    await counterReaches(crashed.repo, name, 1);

    // A retry while the claim is fresh waits for it, then asks to be retried (no second version).
    const soon = process();
    await expect(
      soon.service.createModelVersion(name, { source: 's3://b/1', clientToken: 'tok' }, alice),
    ).rejects.toMatchObject({ code: 'CONCURRENT_MODIFICATION' });

    // Once the claim has outlived any create, a retry takes it over and creates the version.
    const retry = process({ offsetMs: later });
    const created = await retry.service.createModelVersion(
      name,
      { source: 's3://b/1', clientToken: 'tok' },
      alice,
    );
    expect(created.created).toBe(true);
    expect(created.version.version.version).toBe(2);
    const again = await retry.service.createModelVersion(
      name,
      { source: 's3://b/1', clientToken: 'tok' },
      alice,
    );
    expect(again).toMatchObject({ created: false, version: { version: { version: 2 } } });
  }, 20_000);

  it('spends one number between concurrent retries of one client token, many rounds', async () => {
    const { service } = process();
    for (let round = 0; round < 10; round++) {
      const name = unique();
      await service.createRegisteredModel({ name }, alice);
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          service.createModelVersion(name, { source: 's3://b/1', clientToken: 'same' }, alice),
        ),
      );
      expect(new Set(results.map((r) => r.version.version.version))).toEqual(new Set([1]));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const next = await service.createModelVersion(name, { source: 's3://b/2' }, alice);
      expect(next.version.version.version).toBe(2);
    }
  });
});

describe('an archive-existing that stops between its batches', () => {
  it('shows the version asked for at once and is finished by the reconciler, every archive with its event', async () => {
    let batches = 0;
    // The second batch of the archiving transition never returns.
    const crashed = process({ freeze: (items) => movesStages(items) && ++batches === 32 });
    const name = unique();
    const { service } = crashed;
    await service.createRegisteredModel({ name }, alice);
    for (let v = 1; v <= 31; v++) await service.createModelVersion(name, { source: `s3://b/${v}` }, alice);
    for (let v = 2; v <= 31; v++) {
      await service.transitionModelVersionStage(
        name,
        v,
        { stage: 'Production', archiveExistingVersions: false },
        alice,
      );
    }
    expect(batches).toBe(30);
    // Version 1 to Production, archiving 30: a batch of 27 moves of 3 items each (1 and 31..6,
    // 81 items), then 5..2.
    void service.transitionModelVersionStage(
      name,
      1,
      { stage: 'Production', archiveExistingVersions: true },
      alice,
    );
    const reader = process();
    const id = (await reader.repo.getModel(name))!;
    for (let i = 0; i < 200 && !(await reader.repo.getActivity(id)).pendingArchive; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect((await reader.repo.getActivity(id)).pendingArchive).toMatchObject({
      stage: 'Production',
      keep: 1,
    });
    const model = (await reader.repo.getModel(name))!;
    expect((await reader.repo.stageMembers(model, 'Production')).map((v) => v.version)).toEqual([
      1, 2, 3, 4, 5,
    ]);
    // Readers of the stage see the version asked for while the archive is unfinished.
    expect(
      (await reader.service.resolveVersion(model, { kind: 'stage', name, stage: 'Production' })).version,
    ).toBe(1);
    expect(
      (await reader.service.getLatestVersions(name, ['Production'])).map((v) => v.version.version),
    ).toEqual([1]);

    const reconciler = process({ offsetMs: later });
    expect(await reconciler.service.settleInterruptedWrites()).toMatchObject({ archives: 1 });
    expect(await reconciler.service.settleInterruptedWrites()).toMatchObject({ archives: 0 });
    expect((await reconciler.repo.stageMembers(model, 'Production')).map((v) => v.version)).toEqual([1]);
    expect((await reconciler.repo.getModel(name))?.archiving).toBeUndefined();
    expect((await reconciler.repo.getActivity(model)).pendingArchive).toBeUndefined();
    const audit = await reconciler.repo.listAudit(model.id, { maxResults: 1000 });
    const archived = audit.items
      .filter((e) => e.type === 'ModelVersionStageChanged' && e.detail.data.to_stage === 'Archived')
      .map((e) => e.detail.version)
      .sort((a, b) => a! - b!);
    expect(archived).toEqual(Array.from({ length: 30 }, (_, i) => i + 2));
  }, 60_000);
});
