/**
 * The workflows MLflow's documentation walks users through, call for call as MlflowClient 3.6
 * makes them (test/mlflow/client.ts speaks its wire format), against the registry in the `mlflow`
 * profile (exactly MLflow's behaviour) and in the governed default (the same calls, plus one
 * approval by a second person for each move onto something guarded). Then MLflow 3's prompt
 * registry end to end, and the sources MLflow accepts and refuses.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRegistry } from '../../local/registry';
import { apiClient, localRegistry } from '../support/engines';
import { MlflowRestError, mlflowWire } from './client';

const profiles = ['mlflow', 'governed'] as const;
const registries: Partial<Record<(typeof profiles)[number], LocalRegistry>> = {};

beforeAll(async () => {
  const [mlflow, governed] = await Promise.all([
    localRegistry({ env: { GOVERNANCE_POLICY: 'mlflow' } }),
    localRegistry(),
  ]);
  registries.mlflow = mlflow;
  registries.governed = governed;
}, 60_000);
afterAll(async () => {
  await Promise.all(Object.values(registries).map((r) => r?.stop()));
});

let n = 0;
const unique = (base: string) => `${base}-${Date.now().toString(36)}-${++n}`;

/** The data scientist's client, and an approver who is another person. */
function clients(profile: (typeof profiles)[number]) {
  const registry = registries[profile]!;
  const client = mlflowWire(registry.url, 'AKIASCIENTIST');
  const approver = apiClient(registry.url, 'AKIAREVIEWER');
  /**
   * Runs a call that may move something guarded: in the mlflow profile it simply succeeds; in the
   * governed default it answers MLflow's INVALID_STATE naming the request, which a second person
   * approves, and then the change is applied.
   */
  async function guarded(call: () => Promise<any>, name: string): Promise<void> {
    try {
      await call();
      if (profile === 'governed') throw new Error('a guarded change was applied without an approval');
    } catch (err) {
      if (profile === 'mlflow' || !(err instanceof MlflowRestError)) throw err;
      expect(err.errorCode).toBe('INVALID_STATE');
      const id = /transition request (tr-[\w-]+)/.exec(err.message)?.[1];
      expect(id, err.message).toBeDefined();
      // Approved at once, while the workflow may still be checking the quality gates: the
      // approval waits for the check instead of being refused as too early.
      const approved = await approver(
        'POST',
        `/models/${encodeURIComponent(name)}/transition-requests/${id}/approve`,
        {
          comment: 'reviewed',
        },
      );
      expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      await registry.settled();
    }
  }
  return { client, guarded, registry };
}

/** mlflow.register_model / log_model(registered_model_name=…): create (exists is fine), then the version. */
async function registerModel(
  client: ReturnType<typeof mlflowWire>,
  name: string,
  fields: Record<string, unknown>,
) {
  const created = await client.raw('POST', 'registered-models/create', { name });
  if (created.status !== 200) expect(created.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
  const { model_version } = await client.call('POST', 'model-versions/create', { name, ...fields });
  // The client polls only while the version is PENDING_REGISTRATION.
  expect(model_version.status).toBe('READY');
  return model_version;
}

/** models:/name/<Stage>: get-latest-versions for the stage, the highest version, get, download URI. */
async function loadByStage(client: ReturnType<typeof mlflowWire>, name: string, stage: string) {
  const { model_versions } = await client.call('POST', 'registered-models/get-latest-versions', {
    name,
    stages: [stage],
  });
  expect(model_versions.length, `no version in ${stage}`).toBeGreaterThan(0);
  const top = model_versions.reduce((a: any, b: any) => (Number(a.version) > Number(b.version) ? a : b));
  await client.call('GET', 'registered-models/get', { name });
  return {
    version: top.version,
    uri: (await client.call('GET', 'model-versions/get-download-uri', { name, version: top.version }))
      .artifact_uri,
  };
}

describe.each(profiles)('MLflow documentation workflows, %s profile', (profile) => {
  it('(a) log_model with registered_model_name, get_latest_versions, Staging, Production with archive, update, load_model', async () => {
    const { client, guarded } = clients(profile);
    const name = unique('fraud-detector');
    // MLflow 3: log_model registers the logged model: source models:/m-<id> and its model_id.
    const loggedModelId = `m-${randomBytes(16).toString('hex')}`;
    const v1 = await registerModel(client, name, {
      source: `models:/${loggedModelId}`,
      model_id: loggedModelId,
      run_id: 'a1b2c3',
    });
    expect(v1).toMatchObject({ version: '1', current_stage: 'None', model_id: loggedModelId });

    await client.call('GET', 'registered-models/get', { name });
    const latest = await client.call('POST', 'registered-models/get-latest-versions', {
      name,
      stages: ['None'],
    });
    expect(latest.model_versions.map((v: any) => v.version)).toEqual(['1']);

    await client.call('GET', 'registered-models/get', { name });
    const staged = await client.call('POST', 'model-versions/transition-stage', {
      name,
      version: '1',
      stage: 'Staging',
      archive_existing_versions: false,
    });
    expect(staged.model_version.current_stage).toBe('Staging');

    await client.call('GET', 'registered-models/get', { name });
    await guarded(
      () =>
        client.call('POST', 'model-versions/transition-stage', {
          name,
          version: '1',
          stage: 'Production',
          archive_existing_versions: true,
        }),
      name,
    );
    expect(
      (await client.call('GET', 'model-versions/get', { name, version: '1' })).model_version.current_stage,
    ).toBe('Production');

    await client.call('GET', 'registered-models/get', { name });
    const updated = await client.call('PATCH', 'model-versions/update', {
      name,
      version: '1',
      description: 'Gradient boosted trees, recall 0.91',
    });
    expect(updated.model_version.description).toBe('Gradient boosted trees, recall 0.91');

    const loaded = await loadByStage(client, name, 'Production');
    expect(loaded).toEqual({ version: '1', uri: `models:/${loggedModelId}` });
  });

  it('(b) register twice, search, get and update, Staging → Production (archive) → Archived, create with tags, LIKE search, delete, aliases', async () => {
    const { client, guarded } = clients(profile);
    const name = unique('churn-predictor');
    const v1 = await registerModel(client, name, {
      source: 's3://ml-artifacts/1/abc/artifacts/model',
      run_id: 'abc',
    });
    const v2 = await registerModel(client, name, {
      source: 's3://ml-artifacts/1/def/artifacts/model',
      run_id: 'def',
    });
    expect([v1.version, v2.version]).toEqual(['1', '2']);

    const found = await client.call('GET', 'model-versions/search', { filter: `name='${name}'` });
    expect(found.model_versions.map((v: any) => v.version).sort()).toEqual(['1', '2']);

    expect(
      (await client.call('GET', 'model-versions/get', { name, version: '2' })).model_version.run_id,
    ).toBe('def');
    await client.call('GET', 'registered-models/get', { name });
    await client.call('PATCH', 'model-versions/update', { name, version: '2', description: 'retrained' });

    for (const version of ['1', '2']) {
      await client.call('GET', 'registered-models/get', { name });
      await client.call('POST', 'model-versions/transition-stage', {
        name,
        version,
        stage: 'Staging',
        archive_existing_versions: false,
      });
    }
    await guarded(
      () =>
        client.call('POST', 'model-versions/transition-stage', {
          name,
          version: '1',
          stage: 'Production',
          archive_existing_versions: true,
        }),
      name,
    );
    await guarded(
      () =>
        client.call('POST', 'model-versions/transition-stage', {
          name,
          version: '2',
          stage: 'Production',
          archive_existing_versions: true,
        }),
      name,
    );
    const stages = async () =>
      Object.fromEntries(
        (await client.call('GET', 'model-versions/search', { filter: `name='${name}'` })).model_versions.map(
          (v: any) => [v.version, v.current_stage],
        ),
      );
    // archive_existing_versions moved version 1 out of Production when version 2 came in.
    expect(await stages()).toEqual({ '1': 'Archived', '2': 'Production' });
    const prod = await client.call('POST', 'registered-models/get-latest-versions', {
      name,
      stages: ['Production'],
    });
    expect(prod.model_versions.map((v: any) => v.version)).toEqual(['2']);

    const other = unique('fraud-detector');
    const created = await client.call('POST', 'registered-models/create', {
      name: other,
      description: 'Card fraud',
      tags: [{ key: 'team', value: 'risk' }],
    });
    expect(created.registered_model).toMatchObject({
      name: other,
      description: 'Card fraud',
      tags: [{ key: 'team', value: 'risk' }],
    });
    const like = await client.call('GET', 'registered-models/search', {
      filter: `name LIKE '%${name.slice('churn-'.length)}%' AND tag.\`mlflow.prompt.is_prompt\` != 'true'`,
    });
    expect(like.registered_models.map((m: any) => m.name)).toEqual([name]);

    // Aliases: set @champion, load models:/name@champion.
    await client.call('GET', 'registered-models/get', { name });
    await guarded(
      () => client.call('POST', 'registered-models/alias', { name, alias: 'champion', version: '2' }),
      name,
    );
    const champion = await client.call('GET', 'registered-models/alias', { name, alias: 'champion' });
    expect(champion.model_version.version).toBe('2');
    expect(
      (await client.call('GET', 'model-versions/get-download-uri', { name, version: '2' })).artifact_uri,
    ).toBe('s3://ml-artifacts/1/def/artifacts/model');

    // Version 1 (Archived, no alias) is deletable in both profiles.
    await client.call('GET', 'registered-models/get', { name });
    await client.call('DELETE', 'model-versions/delete', { name, version: '1' });
    expect(await stages()).toEqual({ '2': 'Production' });

    await client.call('GET', 'registered-models/get', { name });
    await client.call('POST', 'model-versions/transition-stage', {
      name,
      version: '2',
      stage: 'Archived',
      archive_existing_versions: false,
    });
    expect(await stages()).toEqual({ '2': 'Archived' });
  });

  it('deletes a version in Production or with an alias, and the model, only where MLflow would', async () => {
    const { client, guarded } = clients(profile);
    const name = unique('live');
    await registerModel(client, name, { source: 's3://ml-artifacts/live/1' });
    await guarded(
      () =>
        client.call('POST', 'model-versions/transition-stage', {
          name,
          version: '1',
          stage: 'Production',
          archive_existing_versions: false,
        }),
      name,
    );
    const deleted = await client.raw('DELETE', 'model-versions/delete', { name, version: '1' });
    if (profile === 'mlflow') {
      expect(deleted.status).toBe(200);
      const gone = await client.raw('DELETE', 'registered-models/delete', { name });
      expect(gone.status).toBe(200);
    } else {
      // Governed: a live version is protected; the answer says why and how.
      expect(deleted.status).toBe(400);
      expect(deleted.body.error_code).toBe('INVALID_STATE');
      expect(deleted.body.message).toMatch(/Production/);
    }
  });
});

describe.each(profiles)('MLflow 3 prompt registry, %s profile', (profile) => {
  const IS_PROMPT = 'mlflow.prompt.is_prompt';
  const TEXT = 'mlflow.prompt.text';

  /** register_prompt: get (missing → create with the prompt tag), then a version with dummy-source. */
  async function registerPrompt(client: ReturnType<typeof mlflowWire>, name: string, template: string) {
    const existing = await client.raw('GET', 'registered-models/get', { name });
    if (existing.status === 404) {
      await client.call('POST', 'registered-models/create', {
        name,
        description: 'first commit',
        tags: [{ key: IS_PROMPT, value: 'true' }],
      });
    }
    const { model_version } = await client.call('POST', 'model-versions/create', {
      name,
      description: 'commit',
      source: 'dummy-source',
      tags: [
        { key: 'author', value: 'ana' },
        { key: IS_PROMPT, value: 'true' },
        { key: TEXT, value: template },
      ],
    });
    return model_version;
  }

  it('register_prompt, load_prompt by version and alias, search_prompts, and models searches leave prompts out', async () => {
    const { client } = clients(profile);
    const name = unique('qa-prompt');
    const v1 = await registerPrompt(client, name, 'Answer {{question}} briefly.');
    const v2 = await registerPrompt(client, name, 'Answer {{question}} in the style of {{style}}. ✨');
    expect([v1.version, v2.version]).toEqual(['1', '2']);
    expect(v2).toMatchObject({ source: 'dummy-source', status: 'READY' });

    // load_prompt("prompts:/name/1")
    const loaded = (await client.call('GET', 'model-versions/get', { name, version: '1' })).model_version;
    expect(loaded.tags).toContainEqual({ key: TEXT, value: 'Answer {{question}} briefly.' });

    // set_prompt_alias + load_prompt("prompts:/name@production"), and @latest resolved by the server.
    await client.call('POST', 'registered-models/alias', { name, alias: 'production', version: '2' });
    expect(
      (await client.call('GET', 'registered-models/alias', { name, alias: 'production' })).model_version
        .version,
    ).toBe('2');
    expect(
      (await client.call('GET', 'registered-models/alias', { name, alias: 'latest' })).model_version.version,
    ).toBe('2');

    // search_prompts, and search_registered_models with the clause every newer client appends.
    const model = unique('not-a-prompt');
    await client.call('POST', 'registered-models/create', { name: model });
    const prefix = name.slice(0, 'qa-prompt'.length);
    const prompts = await client.call('GET', 'registered-models/search', {
      filter: `tags.\`${IS_PROMPT}\` = 'true' AND name LIKE '${name}%'`,
    });
    expect(prompts.registered_models.map((m: any) => m.name)).toEqual([name]);
    const models = await client.call('GET', 'registered-models/search', {
      filter: `name LIKE '${prefix}%' AND tag.\`${IS_PROMPT}\` != 'true'`,
    });
    expect(models.registered_models.map((m: any) => m.name)).not.toContain(name);

    // delete_prompt_alias; delete_prompt_version.
    await client.call('DELETE', 'registered-models/alias', { name, alias: 'production' });
    await client.call('DELETE', 'model-versions/delete', { name, version: '1' });
    const left = await client.call('GET', 'model-versions/search', { filter: `name = '${name}'` });
    expect(left.model_versions.map((v: any) => v.version)).toEqual(['2']);
  });

  it("keeps refusing dummy-source for a version that is not a prompt, with MLflow's error", async () => {
    const { client } = clients(profile);
    const name = unique('model');
    await client.call('POST', 'registered-models/create', { name });
    const res = await client.raw('POST', 'model-versions/create', { name, source: 'dummy-source' });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(res.body.message).toMatch(/^Invalid model version source: 'dummy-source'/);
  });
});

describe('sources, model_id and logged-model metrics', () => {
  it("refuses a source in another model's managed files, on both APIs, and accepts the model's own", async () => {
    const { client, registry } = clients('mlflow');
    const api = apiClient(registry.url, 'AKIAUPLOADER');
    const owner = unique('owner');
    const thief = unique('thief');
    await client.call('POST', 'registered-models/create', { name: owner });
    await client.call('POST', 'registered-models/create', { name: thief });
    const content = randomBytes(1024);
    const uploaded = await api('POST', `/models/${owner}/versions`, {
      files: [
        {
          path: 'model.pkl',
          size: content.length,
          sha256: createHash('sha256').update(content).digest('hex'),
        },
      ],
    });
    expect(uploaded.status).toBe(201);
    const managed: string = uploaded.body.model_version.source;
    expect(managed).toMatch(/^s3:\/\/[^/]+\/models\/[^/]+\/versions\/1\/files$/);
    const bucket = /^s3:\/\/([^/]+)\//.exec(managed)![1]!;
    const key = managed.slice(`s3://${bucket}/`.length);

    for (const source of [
      managed,
      `${managed}/model.pkl`,
      `s3://${bucket}//${key}`,
      `s3a://${bucket}/${key}`,
      `https://${bucket}.s3.amazonaws.com/${key}`,
      `s3://${bucket}/${key.replace('/', '%2F')}`,
    ]) {
      const mlflowAnswer = await client.raw('POST', 'model-versions/create', { name: thief, source });
      expect(mlflowAnswer.status, source).toBe(400);
      expect(mlflowAnswer.body.error_code).toBe('INVALID_PARAMETER_VALUE');
      expect(mlflowAnswer.body.message).toMatch(/another model/);
      const nativeAnswer = await api('POST', `/models/${thief}/versions`, { source });
      expect(nativeAnswer.status, source).toBe(400);
      expect(nativeAnswer.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    // Nothing was created for the refused sources.
    expect(
      (await client.call('GET', 'model-versions/search', { filter: `name = '${thief}'` })).model_versions,
    ).toEqual([]);
    // The owner may register another version over its own files (e.g. re-registering version 1).
    const again = await client.call('POST', 'model-versions/create', { name: owner, source: managed });
    expect(again.model_version.version).toBe('2');
  });

  it('returns model_id, and the lineage as model_params and model_metrics, as MLflow 3 does', async () => {
    const { client, registry } = clients('mlflow');
    const api = apiClient(registry.url, 'AKIASCIENTIST');
    const name = unique('logged');
    await client.call('POST', 'registered-models/create', { name });
    const created = await api('POST', `/models/${name}/versions`, {
      source: 'models:/m-0f1e2d3c',
      model_id: 'm-0f1e2d3c',
      run_id: 'r1',
      parameters: { max_depth: '6', lr: '0.1' },
      metrics: { auc: 0.91 },
      dataset: { name: 'transactions', digest: 'd41d8cd9' },
    });
    expect(created.status).toBe(201);
    expect(created.body.model_version.model_id).toBe('m-0f1e2d3c');
    const { model_version: mv } = await client.call('GET', 'model-versions/get', { name, version: '1' });
    expect(mv.model_id).toBe('m-0f1e2d3c');
    expect(mv.model_params).toEqual([
      { name: 'lr', value: '0.1' },
      { name: 'max_depth', value: '6' },
    ]);
    expect(mv.model_metrics).toEqual([
      {
        key: 'auc',
        value: 0.91,
        timestamp: mv.creation_timestamp,
        step: 0,
        model_id: 'm-0f1e2d3c',
        run_id: 'r1',
        dataset_name: 'transactions',
        dataset_digest: 'd41d8cd9',
      },
    ]);
    const bad = await client.raw('POST', 'model-versions/create', {
      name,
      source: 's3://b/k',
      model_id: 'has space',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  });
});
