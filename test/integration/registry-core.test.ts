/**
 * The registry's rules, exercised through the use cases against DynamoDB Local (real conditional
 * writes and transactions, no mocks).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidParameterError,
  InvalidStateError,
  LimitExceededError,
  ResourceAlreadyExistsError,
  ResourceNotFoundError,
} from '../../functions/domain/errors';
import { MAX_TAGS_PER_ENTITY } from '../../functions/domain/rules';
import type { RegistryService } from '../../functions/use-cases/registry';
import { principal, type TestRegistry, testRegistry } from '../support/engines';

const alice = principal('arn:aws:iam::111111111111:user/alice');
const bob = principal('arn:aws:iam::111111111111:user/bob');
let t: TestRegistry;
let registry: RegistryService;
let counter = 0;
const uniqueName = (prefix = 'model') => `${prefix}-${++counter}-${Date.now()}`;

async function modelWithVersions(n: number, prefix?: string): Promise<string> {
  const name = uniqueName(prefix);
  await registry.createRegisteredModel({ name }, alice);
  for (let i = 0; i < n; i++) {
    await registry.createModelVersion(name, { source: `s3://bucket/${name}/${i}` }, alice);
  }
  return name;
}

beforeAll(async () => {
  t = await testRegistry();
  registry = t.service;
});

describe('registered models', () => {
  it('creates a model with description, tags, creator and timestamps', async () => {
    const name = uniqueName();
    const before = Date.now();
    const { model } = await registry.createRegisteredModel(
      { name, description: 'churn', tags: { team: 'growth' } },
      alice,
    );
    expect(model).toMatchObject({
      name,
      description: 'churn',
      tags: { team: 'growth' },
      createdBy: alice.arn,
    });
    expect(model.creationTimestamp).toBeGreaterThanOrEqual(before);
    const fetched = await registry.getRegisteredModel(name);
    expect(fetched.model).toMatchObject({ name, description: 'churn', createdBy: alice.arn, aliases: {} });
  });

  it('refuses a duplicate name', async () => {
    const name = uniqueName();
    await registry.createRegisteredModel({ name }, alice);
    await expect(registry.createRegisteredModel({ name }, bob)).rejects.toThrow(ResourceAlreadyExistsError);
    expect((await registry.getRegisteredModel(name)).model.createdBy).toBe(alice.arn);
  });

  it.each([
    ['tab\tname'],
    ['nul\u0000'],
    ['del\u007f'],
    ['c1\u0085'],
    ['lone\ud800surrogate'],
    [''],
    ['x'.repeat(901)],
    ['é'.repeat(451)],
    ['x'.repeat(10_000)],
  ])('rejects the name %j (control characters, not Unicode, empty, over 900 bytes)', async (name) => {
    await expect(registry.createRegisteredModel({ name }, alice)).rejects.toThrow(InvalidParameterError);
  });

  it.each([
    ['my model'],
    ['team/model'],
    ['model:v1'],
    ['Modèle'],
    ['_private'],
    ['-dash'],
    ['x@y'],
    ['churn (v2)'],
    ['a%b'],
    ['../x'],
    ['.'],
    ['~'],
    ['名前🙂'],
    ['x'.repeat(300)],
    ['x'.repeat(900)],
  ])('accepts the name %j, as MLflow does', async (name) => {
    await registry.createRegisteredModel({ name }, alice);
    expect((await registry.getRegisteredModel(name)).model.name).toBe(name);
    await registry.createModelVersion(name, { source: 's3://b/1' }, alice);
    expect((await registry.getModelVersion(name, 1)).version.name).toBe(name);
  });

  it('updates the description and the last-updated timestamp', async () => {
    const name = uniqueName();
    const { activity } = await registry.createRegisteredModel({ name }, alice);
    await new Promise((r) => setTimeout(r, 5));
    const updated = await registry.updateRegisteredModel(name, 'new words', bob);
    expect(updated.model.description).toBe('new words');
    expect(updated.activity.lastUpdatedTimestamp).toBeGreaterThan(activity.lastUpdatedTimestamp);
  });

  it('renames a model; versions, tags and aliases follow and the old name is gone', async () => {
    const name = await modelWithVersions(3);
    await registry.setRegisteredModelTag(name, 'team', 'risk', alice);
    await registry.setRegisteredModelAlias(name, 'champion', 2, alice);
    const newName = uniqueName('renamed');
    await registry.renameRegisteredModel(name, newName, alice);
    await expect(registry.getRegisteredModel(name)).rejects.toThrow(ResourceNotFoundError);
    const renamed = await registry.getRegisteredModel(newName);
    expect(renamed.model.tags).toEqual({ team: 'risk' });
    expect(renamed.model.aliases).toEqual({ champion: 2 });
    const v2 = await registry.getModelVersionByAlias(newName, 'champion');
    expect(v2.version).toMatchObject({ name: newName, version: 2 });
    const found = await registry.searchModelVersions({ filter: `name = '${newName}'`, maxResults: 10 });
    expect(found.items.map((v) => v.version.name)).toEqual([newName, newName, newName]);
    const global = await registry.searchModelVersions({ filter: `name LIKE '${newName}%'`, maxResults: 10 });
    expect(global.items).toHaveLength(3);
    // The next version continues the numbering.
    const { version } = await registry.createModelVersion(newName, { source: 's3://b/k' }, alice);
    expect(version.version.version).toBe(4);
  });

  it('refuses to rename onto an existing name', async () => {
    const a = uniqueName();
    const b = uniqueName();
    await registry.createRegisteredModel({ name: a }, alice);
    await registry.createRegisteredModel({ name: b }, alice);
    await expect(registry.renameRegisteredModel(a, b, alice)).rejects.toThrow(ResourceAlreadyExistsError);
    expect((await registry.getRegisteredModel(a)).model.name).toBe(a);
  });

  it('deletes a model with its versions, tags and aliases; the name can be reused from version 1', async () => {
    const name = await modelWithVersions(2);
    await registry.setRegisteredModelAlias(name, 'champion', 1, alice);
    await registry.deleteRegisteredModel(name, alice);
    await expect(registry.getRegisteredModel(name)).rejects.toThrow(ResourceNotFoundError);
    const leftovers = (await t.snapshot()).filter(
      (i: any) => i.name === name && i.entity !== 'StageTransition',
    );
    expect(leftovers).toEqual([]);
    await registry.createRegisteredModel({ name }, bob);
    const { version } = await registry.createModelVersion(name, { source: 's3://b/k' }, bob);
    expect(version.version.version).toBe(1);
    expect((await registry.getRegisteredModel(name)).model.aliases).toEqual({});
  });

  it('reports a missing model with the message MLflow clients match on', async () => {
    await expect(registry.getRegisteredModel('nope-nope')).rejects.toThrow(
      'Registered Model with name=nope-nope not found',
    );
  });
});

describe('model versions', () => {
  it('numbers versions 1, 2, 3 and records source, lineage, creator and READY status', async () => {
    const name = uniqueName();
    await registry.createRegisteredModel({ name }, alice);
    const { version } = await registry.createModelVersion(
      name,
      {
        source: 's3://models/churn/1',
        runId: 'run-123',
        runLink: 'https://mlflow.example/runs/run-123',
        dataset: { name: 'churn-2026', digest: 'sha256:abc', uri: 's3://data/churn' },
        parameters: { lr: '0.1' },
        metrics: { accuracy: 0.93 },
        description: 'first',
        tags: { owner: 'alice' },
      },
      bob,
    );
    expect(version.version).toMatchObject({
      name,
      version: 1,
      source: 's3://models/churn/1',
      runId: 'run-123',
      dataset: { name: 'churn-2026', digest: 'sha256:abc', uri: 's3://data/churn' },
      parameters: { lr: '0.1' },
      metrics: { accuracy: 0.93 },
      status: 'READY',
      stage: 'None',
      createdBy: bob.arn,
    });
    const second = await registry.createModelVersion(name, { source: 's3://models/churn/2' }, bob);
    expect(second.version.version.version).toBe(2);
  });

  it('never reuses a number, even after the highest version is deleted', async () => {
    const name = await modelWithVersions(3);
    await registry.deleteModelVersion(name, 3, alice);
    await registry.deleteModelVersion(name, 2, alice);
    const { version } = await registry.createModelVersion(name, { source: 's3://b/k' }, alice);
    expect(version.version.version).toBe(4);
    await expect(registry.getModelVersion(name, 3)).rejects.toThrow(
      `Model Version (name=${name}, version=3) not found`,
    );
  });

  it('gives exactly versions 1..100 to 100 concurrent creates, with no error', async () => {
    const name = uniqueName('concurrent');
    await registry.createRegisteredModel({ name }, alice);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        registry.createModelVersion(name, { source: `s3://b/${i}` }, alice),
      ),
    );
    const numbers = results.map((r) => r.version.version.version).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const sources = new Set(results.map((r) => r.version.version.source));
    expect(sources.size).toBe(100);
    const stored = await registry.searchModelVersions({ filter: `name = '${name}'`, maxResults: 1000 });
    expect(stored.items).toHaveLength(100);
    expect((await t.service.getRegisteredModel(name)).activity.lastVersion).toBe(100);
  }, 120_000);

  it('returns the same version to a retried create with the same client token', async () => {
    const name = uniqueName();
    await registry.createRegisteredModel({ name }, alice);
    const first = await registry.createModelVersion(
      name,
      { source: 's3://b/1', clientToken: 'tok-1' },
      alice,
    );
    const retry = await registry.createModelVersion(
      name,
      { source: 's3://b/1', clientToken: 'tok-1' },
      alice,
    );
    expect(first.created).toBe(true);
    expect(retry.created).toBe(false);
    expect(retry.version.version.version).toBe(first.version.version.version);
    const other = await registry.createModelVersion(
      name,
      { source: 's3://b/2', clientToken: 'tok-2' },
      alice,
    );
    expect(other.version.version.version).toBe(2);
  });

  it('returns one version to concurrent retries of the same client token', async () => {
    const name = uniqueName();
    await registry.createRegisteredModel({ name }, alice);
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        registry.createModelVersion(name, { source: 's3://b/1', clientToken: 'same' }, alice),
      ),
    );
    expect(new Set(results.map((r) => r.version.version.version))).toEqual(new Set([1]));
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('refuses versions of a model that does not exist', async () => {
    await expect(registry.createModelVersion('missing-model', { source: 's3://b/k' }, alice)).rejects.toThrow(
      ResourceNotFoundError,
    );
  });

  it.each([
    ['not a uri'],
    ['relative/path'],
    ['s3://bucket/../etc'],
    [''],
  ])('rejects the source %j', async (source) => {
    const name = uniqueName();
    await registry.createRegisteredModel({ name }, alice);
    await expect(registry.createModelVersion(name, { source }, alice)).rejects.toThrow(InvalidParameterError);
  });

  it('updates only the description; the version keeps its lineage', async () => {
    const name = await modelWithVersions(1);
    const before = await registry.getModelVersion(name, 1);
    const after = await registry.updateModelVersion(name, 1, 'better words', alice);
    expect(after.version.description).toBe('better words');
    expect(after.version.source).toBe(before.version.source);
    expect(after.version.createdBy).toBe(before.version.createdBy);
  });
});

describe('stages', () => {
  it('moves a version between stages, case-insensitively parsed upstream', async () => {
    const name = await modelWithVersions(1);
    const out = await registry.transitionModelVersionStage(
      name,
      1,
      { stage: 'Staging', archiveExistingVersions: false },
      alice,
    );
    expect(out.kind).toBe('applied');
    expect((await registry.getModelVersion(name, 1)).version.stage).toBe('Staging');
  });

  it('archives the other versions in the target stage in the same write when asked', async () => {
    const name = await modelWithVersions(3);
    for (const v of [1, 2]) {
      await registry.transitionModelVersionStage(
        name,
        v,
        { stage: 'Production', archiveExistingVersions: false },
        alice,
      );
    }
    await registry.transitionModelVersionStage(
      name,
      3,
      { stage: 'Production', archiveExistingVersions: true, comment: 'better AUC' },
      bob,
    );
    const stages = await Promise.all(
      [1, 2, 3].map(async (v) => (await registry.getModelVersion(name, v)).version.stage),
    );
    expect(stages).toEqual(['Archived', 'Archived', 'Production']);
    const latest = await registry.getLatestVersions(name, ['Production', 'Archived']);
    expect(latest.map((v) => [v.version.stage, v.version.version])).toEqual([
      ['Production', 3],
      ['Archived', 2],
    ]);
  });

  it('keeps the other versions in the stage without archive-existing', async () => {
    const name = await modelWithVersions(2);
    for (const v of [1, 2]) {
      await registry.transitionModelVersionStage(
        name,
        v,
        { stage: 'Staging', archiveExistingVersions: false },
        alice,
      );
    }
    const stages = await Promise.all(
      [1, 2].map(async (v) => (await registry.getModelVersion(name, v)).version.stage),
    );
    expect(stages).toEqual(['Staging', 'Staging']);
  });

  it('records who moved what, when, from where to where and why', async () => {
    const name = await modelWithVersions(2);
    await registry.transitionModelVersionStage(
      name,
      1,
      { stage: 'Production', archiveExistingVersions: false },
      alice,
    );
    await registry.transitionModelVersionStage(
      name,
      2,
      { stage: 'Production', archiveExistingVersions: true, comment: 'ship it' },
      bob,
    );
    const history = await registry.listTransitions(name, { maxResults: 10 });
    expect(history.items.map((h) => [h.version, h.fromStage, h.toStage, h.actor])).toEqual(
      expect.arrayContaining([
        [1, 'None', 'Production', alice.arn],
        [2, 'None', 'Production', bob.arn],
        [1, 'Production', 'Archived', bob.arn],
      ]),
    );
    expect(history.items.find((h) => h.version === 2)?.comment).toBe('ship it');
    expect(history.items.find((h) => h.toStage === 'Archived')?.causedBy).toEqual({
      version: 2,
      toStage: 'Production',
    });
    expect(history.items[history.items.length - 1]).toMatchObject({ version: 1, toStage: 'Production' });
    const v1Only = await registry.listTransitions(name, { version: 1, maxResults: 10 });
    expect(v1Only.items.every((h) => h.version === 1)).toBe(true);
  });

  it('refuses archive-existing into None or Archived', async () => {
    const name = await modelWithVersions(1);
    await expect(
      registry.transitionModelVersionStage(
        name,
        1,
        { stage: 'Archived', archiveExistingVersions: true },
        alice,
      ),
    ).rejects.toThrow(InvalidParameterError);
  });

  it('leaves exactly one version in Production when two promotions with archive race', async () => {
    const name = await modelWithVersions(6);
    await Promise.all(
      [1, 2, 3, 4, 5, 6].map((v) =>
        registry.transitionModelVersionStage(
          name,
          v,
          { stage: 'Production', archiveExistingVersions: true },
          alice,
        ),
      ),
    );
    const stages = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(async (v) => (await registry.getModelVersion(name, v)).version.stage),
    );
    expect(stages.filter((s) => s === 'Production')).toHaveLength(1);
    expect(stages.filter((s) => s === 'Archived')).toHaveLength(5);
  });

  it('returns the latest version of every stage when no stage is named', async () => {
    const name = await modelWithVersions(4);
    await registry.transitionModelVersionStage(
      name,
      2,
      { stage: 'Staging', archiveExistingVersions: false },
      alice,
    );
    await registry.transitionModelVersionStage(
      name,
      3,
      { stage: 'Production', archiveExistingVersions: false },
      alice,
    );
    const latest = await registry.getLatestVersions(name, []);
    expect(latest.map((v) => [v.version.stage, v.version.version])).toEqual([
      ['None', 4],
      ['Staging', 2],
      ['Production', 3],
    ]);
  });

  it('refuses to move a version that is not READY', async () => {
    const name = await modelWithVersions(1);
    const model = await registry.requireModel(name);
    const { version } = await t.repo.createVersion(
      model,
      {
        source: 's3://b/pending',
        parameters: {},
        metrics: {},
        description: '',
        tags: {},
        status: 'PENDING_REGISTRATION',
        createdBy: alice.arn,
      },
      Date.now(),
    );
    await expect(
      registry.transitionModelVersionStage(
        name,
        version.version,
        { stage: 'Production', archiveExistingVersions: false },
        alice,
      ),
    ).rejects.toThrow(InvalidStateError);
  });
});

describe('aliases', () => {
  it('sets, moves, resolves and deletes an alias', async () => {
    const name = await modelWithVersions(2);
    await registry.setRegisteredModelAlias(name, 'champion', 1, alice);
    expect((await registry.getModelVersionByAlias(name, 'champion')).version.version).toBe(1);
    await registry.setRegisteredModelAlias(name, 'champion', 2, alice);
    const resolved = await registry.getModelVersionByAlias(name, 'champion');
    expect(resolved.version.version).toBe(2);
    expect(resolved.aliases).toEqual(['champion']);
    await registry.deleteRegisteredModelAlias(name, 'champion', alice);
    await expect(registry.getModelVersionByAlias(name, 'champion')).rejects.toThrow(
      'Registered model alias champion not found.',
    );
  });

  it('resolves latest to the highest existing version', async () => {
    const name = await modelWithVersions(3);
    await registry.deleteModelVersion(name, 3, alice);
    expect((await registry.getModelVersionByAlias(name, 'latest')).version.version).toBe(2);
    expect((await registry.getModelVersionByAlias(name, 'LATEST')).version.version).toBe(2);
  });

  it.each([
    ['latest'],
    ['Latest'],
    ['v1'],
    ['V12'],
    ['bad alias'],
    ['a/b'],
    ['x'.repeat(256)],
  ])('rejects the alias %j', async (alias) => {
    const name = await modelWithVersions(1);
    await expect(registry.setRegisteredModelAlias(name, alias, 1, alice)).rejects.toThrow(
      InvalidParameterError,
    );
  });

  it('refuses an alias to a version that does not exist', async () => {
    const name = await modelWithVersions(1);
    await expect(registry.setRegisteredModelAlias(name, 'champion', 7, alice)).rejects.toThrow(
      ResourceNotFoundError,
    );
  });

  it('drops the aliases of a deleted version', async () => {
    const name = await modelWithVersions(2);
    await registry.setRegisteredModelAlias(name, 'champion', 1, alice);
    await registry.setRegisteredModelAlias(name, 'challenger', 2, alice);
    await registry.deleteModelVersion(name, 1, alice);
    expect((await registry.getRegisteredModel(name)).model.aliases).toEqual({ challenger: 2 });
  });
});

describe('tags', () => {
  it('sets, overwrites and deletes tags on models and versions', async () => {
    const name = await modelWithVersions(1);
    await registry.setRegisteredModelTag(name, 'team', 'a', alice);
    await registry.setRegisteredModelTag(name, 'team', 'b', alice);
    await registry.setModelVersionTag(name, 1, 'validated', 'yes', alice);
    expect((await registry.getRegisteredModel(name)).model.tags).toEqual({ team: 'b' });
    expect((await registry.getModelVersion(name, 1)).version.tags).toEqual({ validated: 'yes' });
    await registry.deleteRegisteredModelTag(name, 'team', alice);
    await registry.deleteModelVersionTag(name, 1, 'validated', alice);
    await registry.deleteModelVersionTag(name, 1, 'absent', alice);
    expect((await registry.getRegisteredModel(name)).model.tags).toEqual({});
    expect((await registry.getModelVersion(name, 1)).version.tags).toEqual({});
  });

  it(`refuses a tag beyond ${MAX_TAGS_PER_ENTITY} per model`, async () => {
    const name = uniqueName();
    const tags = Object.fromEntries(Array.from({ length: MAX_TAGS_PER_ENTITY }, (_, i) => [`k${i}`, 'v']));
    await registry.createRegisteredModel({ name, tags }, alice);
    await expect(registry.setRegisteredModelTag(name, 'one-more', 'v', alice)).rejects.toThrow(
      LimitExceededError,
    );
    await registry.setRegisteredModelTag(name, 'k0', 'overwrite is fine', alice);
  });

  it('refuses oversized tag values and malformed keys', async () => {
    const name = uniqueName();
    await registry.createRegisteredModel({ name }, alice);
    await expect(registry.setRegisteredModelTag(name, 'k', 'x'.repeat(5001), alice)).rejects.toThrow(
      InvalidParameterError,
    );
    await expect(registry.setRegisteredModelTag(name, 'bad\nkey', 'v', alice)).rejects.toThrow(
      InvalidParameterError,
    );
  });
});
