/**
 * MLflow Model Registry REST conformance, against the local runtime (the same handlers behind the
 * local stand-in for API Gateway, on DynamoDB Local and the local S3). Every request is sent as
 * MlflowClient 3.6 sends it (test/mlflow/client.ts), following MLflow's protos and server handlers:
 * GET with python-requests query encoding, JSON bodies for POST/PATCH/DELETE, 200 as the only
 * success, versions as strings, status READY, MLflow's error codes, statuses and messages.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_AWS } from '../../local/dynamodb';
import type { LocalRegistry } from '../../local/registry';
import { LOCAL_BUCKET } from '../../local/s3';
import { apiClient, localRegistry } from '../support/engines';
import { type Fields, MlflowRestError, mlflowWire } from './client';

/** Every guard off: the registry behaves as MLflow's does. */
const UNGUARDED = 'mlflow';

let registry: LocalRegistry;
let mlflow: ReturnType<typeof mlflowWire>;
let call: (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', endpoint: string, fields?: Fields) => Promise<any>;

beforeAll(async () => {
  // MLflow's registry applies every transition at once: no guarded stage, no protected versions
  // (test/mlflow/governed-stages.test.ts covers the governed answers).
  registry = await localRegistry({ env: { GOVERNANCE_POLICY: UNGUARDED } });
  mlflow = mlflowWire(registry.url);
  call = mlflow.call;
});
afterAll(async () => {
  await registry?.stop();
});

let counter = 0;
const unique = (prefix = 'mlf') => `${prefix}-${Date.now().toString(36)}-${++counter}`;
/** Timestamps are epoch ms: let the clock move before a write whose timestamp is compared. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

async function expectError(
  promise: Promise<unknown>,
  status: number,
  errorCode: string,
  message?: string | RegExp,
): Promise<MlflowRestError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected an MLflow error').toBeInstanceOf(MlflowRestError);
  const rest = err as MlflowRestError;
  expect({ status: rest.status, code: rest.errorCode }).toEqual({ status, code: errorCode });
  if (message !== undefined) expect(rest.message).toMatch(message);
  return rest;
}

const createModel = (name: string, fields: Fields = {}) =>
  call('POST', 'registered-models/create', { name, ...fields });
const createVersion = (name: string, source: string, fields: Fields = {}) =>
  call('POST', 'model-versions/create', { name, source, ...fields });
const getModel = async (name: string) =>
  (await call('GET', 'registered-models/get', { name })).registered_model;
const getVersion = async (name: string, version: string) =>
  (await call('GET', 'model-versions/get', { name, version })).model_version;

async function seed(name: string, versions: number) {
  await createModel(name);
  for (let i = 1; i <= versions; i++)
    await createVersion(name, `s3://bucket/${name}/${i}`, { run_id: `run-${i}` });
}

// ---------------------------------------------------------------------------------------------

describe('wire conventions', () => {
  it('answers every success with HTTP 200 and a JSON object ({} when empty)', async () => {
    const name = unique();
    const created = await mlflow.raw('POST', 'registered-models/create', { name });
    expect(created.status).toBe(200);
    const tagged = await mlflow.raw('POST', 'registered-models/set-tag', { name, key: 'k', value: 'v' });
    expect(tagged.status).toBe(200);
    expect(tagged.body).toEqual({});
  });

  it('takes DELETE requests with a JSON body', async () => {
    const name = unique();
    await createModel(name);
    const res = await mlflow.raw('DELETE', 'registered-models/delete', { name });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
  });

  it('answers a body that is not JSON content with 400 INVALID_PARAMETER_VALUE', async () => {
    const res = await mlflow.raw(
      'POST',
      'registered-models/create',
      {},
      {
        body: 'name=x',
        contentType: 'application/x-www-form-urlencoded',
      },
    );
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('answers malformed JSON with 400', async () => {
    const res = await mlflow.raw('POST', 'registered-models/create', {}, { body: '{"name": ' });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('MALFORMED_REQUEST');
  });

  it('ignores fields it does not know, as the MLflow server does (newer clients send more)', async () => {
    const name = unique();
    const res = await call('POST', 'registered-models/create', { name, deployment_job_id: 'job-1' });
    expect(res.registered_model.name).toBe(name);
  });

  it('answers a missing or empty required field with "Missing value for required parameter \'x\'"', async () => {
    await expectError(
      call('POST', 'registered-models/create', {}),
      400,
      'INVALID_PARAMETER_VALUE',
      /Missing value for required parameter 'name'/,
    );
    await expectError(
      call('POST', 'registered-models/create', { name: '' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Missing value for required parameter 'name'/,
    );
    await expectError(
      call('GET', 'model-versions/get', { name: 'x' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Missing value for required parameter 'version'/,
    );
    await expectError(
      call('POST', 'registered-models/rename', { name: 'x' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Missing value for required parameter 'new_name'/,
    );
  });

  it('answers a field of the wrong type with 400 INVALID_PARAMETER_VALUE', async () => {
    await expectError(
      call('POST', 'registered-models/create', { name: 42 } as Fields),
      400,
      'INVALID_PARAMETER_VALUE',
      /Invalid value 42 for parameter 'name'/,
    );
  });

  it('answers an endpoint it does not serve with 404 ENDPOINT_NOT_FOUND (JSON)', async () => {
    const res = await mlflow.raw('GET', 'runs/get', { run_id: 'abc' });
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('ENDPOINT_NOT_FOUND');
  });

  it('answers a method an endpoint does not take with 404 ENDPOINT_NOT_FOUND (what the client falls back on)', async () => {
    const res = await mlflow.raw('PUT', 'registered-models/create', { name: 'x' });
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('ENDPOINT_NOT_FOUND');
  });

  it("decodes '+' in a query string as a space and %2B as a plus", async () => {
    const name = unique();
    await createModel(name);
    await call('POST', 'registered-models/set-tag', { name, key: 'formula', value: 'a+b c' });
    const filter = `name = '${name}' AND tags.formula = 'a+b c'`;
    const { url } = await mlflow.raw('GET', 'registered-models/search', { filter });
    expect(url).toContain('+%3D+');
    expect(url).toContain('a%2Bb+c');
    const found = await call('GET', 'registered-models/search', { filter });
    expect(found.registered_models.map((m: { name: string }) => m.name)).toEqual([name]);
  });

  it('records the signed caller as user_id', async () => {
    const name = unique();
    const { registered_model } = await mlflowWire(registry.url, 'AKIACAROL').call(
      'POST',
      'registered-models/create',
      {
        name,
      },
    );
    expect(registered_model.user_id).toBe('arn:aws:iam::000000000000:user/AKIACAROL');
  });
});

// ---------------------------------------------------------------------------------------------

describe('registered models', () => {
  it('creates a model with tags and a description, in MLflow shape', async () => {
    const name = unique();
    const before = Date.now();
    const { registered_model: rm } = await createModel(name, {
      description: 'churn model',
      tags: [
        { key: 'team', value: 'growth' },
        { key: 'tier', value: '1' },
      ],
    });
    expect(rm).toMatchObject({
      name,
      description: 'churn model',
      tags: [
        { key: 'team', value: 'growth' },
        { key: 'tier', value: '1' },
      ],
      aliases: [],
      latest_versions: [],
    });
    expect(rm.creation_timestamp).toBeGreaterThanOrEqual(before);
    expect(rm.last_updated_timestamp).toBe(rm.creation_timestamp);
    expect(typeof rm.user_id).toBe('string');
  });

  it('refuses a duplicate name with 400 RESOURCE_ALREADY_EXISTS (not 409)', async () => {
    const name = unique();
    await createModel(name);
    await expectError(
      createModel(name),
      400,
      'RESOURCE_ALREADY_EXISTS',
      `Registered Model (name=${name}) already exists.`,
    );
  });

  it('refuses an invalid name with 400 INVALID_PARAMETER_VALUE', async () => {
    await expectError(createModel('bad\u0007name'), 400, 'INVALID_PARAMETER_VALUE');
  });

  it('gets a model with its latest version per stage', async () => {
    const name = unique();
    await seed(name, 3);
    await call('POST', 'model-versions/transition-stage', {
      name,
      version: '2',
      stage: 'Production',
      archive_existing_versions: false,
    });
    const rm = await getModel(name);
    expect(
      rm.latest_versions
        .map((v: { version: string; current_stage: string }) => [v.current_stage, v.version])
        .sort(),
    ).toEqual([
      ['None', '3'],
      ['Production', '2'],
    ]);
  });

  it('answers an unknown model with 404 "Registered Model with name=X not found"', async () => {
    const name = unique();
    await expectError(
      call('GET', 'registered-models/get', { name }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Registered Model with name=${name} not found`,
    );
  });

  it("updates the description and moves the model's last_updated_timestamp", async () => {
    const name = unique();
    const { registered_model: created } = await createModel(name);
    await tick();
    const { registered_model: rm } = await call('PATCH', 'registered-models/update', {
      name,
      description: 'new text',
    });
    expect(rm.description).toBe('new text');
    expect(rm.last_updated_timestamp).toBeGreaterThan(created.last_updated_timestamp);
    expect(rm.creation_timestamp).toBe(created.creation_timestamp);
    await expectError(
      call('PATCH', 'registered-models/update', { name: unique(), description: 'x' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  it('renames a model: versions follow, the old name is gone, last_updated_timestamp moves', async () => {
    const name = unique();
    const renamed = unique('renamed');
    await seed(name, 2);
    const before = await getModel(name);
    await tick();
    const { registered_model: rm } = await call('POST', 'registered-models/rename', {
      name,
      new_name: renamed,
    });
    expect(rm.name).toBe(renamed);
    expect(rm.last_updated_timestamp).toBeGreaterThan(before.last_updated_timestamp);
    expect((await getVersion(renamed, '2')).name).toBe(renamed);
    await expectError(getModel(name), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('refuses a rename onto a taken name (400 RESOURCE_ALREADY_EXISTS) and of a missing model (404)', async () => {
    const a = unique();
    const b = unique();
    await createModel(a);
    await createModel(b);
    await expectError(
      call('POST', 'registered-models/rename', { name: a, new_name: b }),
      400,
      'RESOURCE_ALREADY_EXISTS',
      `Registered Model (name=${b}) already exists.`,
    );
    await expectError(
      call('POST', 'registered-models/rename', { name: unique(), new_name: unique() }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  it('deletes a model with its versions, tags and aliases', async () => {
    const name = unique();
    await seed(name, 2);
    await call('POST', 'registered-models/alias', { name, alias: 'champion', version: '1' });
    expect(await call('DELETE', 'registered-models/delete', { name })).toEqual({});
    await expectError(getModel(name), 404, 'RESOURCE_DOES_NOT_EXIST');
    await createModel(name);
    const fresh = await getModel(name);
    expect(fresh).toMatchObject({ tags: [], aliases: [], latest_versions: [] });
    await expectError(getVersion(name, '1'), 404, 'RESOURCE_DOES_NOT_EXIST');
    await expectError(
      call('DELETE', 'registered-models/delete', { name: unique() }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  it('sets and deletes tags; deleting a missing tag succeeds; a missing model is 404', async () => {
    const name = unique();
    await createModel(name);
    await call('POST', 'registered-models/set-tag', { name, key: 'team', value: 'a' });
    await call('POST', 'registered-models/set-tag', { name, key: 'team', value: 'b' });
    expect((await getModel(name)).tags).toEqual([{ key: 'team', value: 'b' }]);
    expect(await call('DELETE', 'registered-models/delete-tag', { name, key: 'team' })).toEqual({});
    expect((await getModel(name)).tags).toEqual([]);
    expect(await call('DELETE', 'registered-models/delete-tag', { name, key: 'team' })).toEqual({});
    await expectError(
      call('POST', 'registered-models/set-tag', { name: unique(), key: 'k', value: 'v' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    await expectError(
      call('DELETE', 'registered-models/delete-tag', { name: unique(), key: 'k' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('search registered models', () => {
  const PROMPT_CLAUSE = "tag.`mlflow.prompt.is_prompt` != 'true'";
  let prefix: string;
  const names = (res: { registered_models: { name: string }[] }) => res.registered_models.map((m) => m.name);
  /** As MlflowClient.search_registered_models sends it: the prompt clause is always appended. */
  const search = (filter: string, fields: Fields = {}) =>
    call('GET', 'registered-models/search', { filter: `${filter} AND ${PROMPT_CLAUSE}`, ...fields });

  beforeAll(async () => {
    prefix = unique('rmsearch');
    await createModel(`${prefix}-alpha`, { tags: [{ key: 'team', value: 'Growth' }] });
    await tick();
    await createModel(`${prefix}-beta`, { tags: [{ key: 'team', value: 'risk' }] });
    await tick();
    await createModel(`${prefix}-Gamma`, { tags: [{ key: 'k.with.dots', value: 'x' }] });
    await tick();
    await createModel(`${prefix}-prompt`, { tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
  });

  it('finds models without the prompt tag under the clause the client appends, and not prompts', async () => {
    expect(names(await search(`name LIKE '${prefix}%'`))).toEqual([
      `${prefix}-Gamma`,
      `${prefix}-alpha`,
      `${prefix}-beta`,
    ]);
  });

  it('filters by name with =, !=, LIKE and ILIKE', async () => {
    expect(names(await search(`name = '${prefix}-beta'`))).toEqual([`${prefix}-beta`]);
    expect(names(await search(`name LIKE '${prefix}%' AND name != '${prefix}-beta'`))).toEqual([
      `${prefix}-Gamma`,
      `${prefix}-alpha`,
    ]);
    expect(names(await search(`name LIKE '${prefix}-g%'`))).toEqual([]);
    expect(names(await search(`name ILIKE '${prefix}-g%'`))).toEqual([`${prefix}-Gamma`]);
    expect(names(await search(`name LIKE '${prefix}-_eta'`))).toEqual([`${prefix}-beta`]);
  });

  it('filters by tags with tags.k, tag.k and backtick-quoted keys, with =, !=, LIKE and ILIKE', async () => {
    const inPrefix = `name LIKE '${prefix}%'`;
    expect(names(await search(`${inPrefix} AND tags.team = 'risk'`))).toEqual([`${prefix}-beta`]);
    expect(names(await search(`${inPrefix} AND tag.team != 'risk'`))).toEqual([
      `${prefix}-Gamma`,
      `${prefix}-alpha`,
    ]);
    expect(names(await search(`${inPrefix} AND tags.team LIKE 'gr%'`))).toEqual([]);
    expect(names(await search(`${inPrefix} AND tags.team ILIKE 'gr%'`))).toEqual([`${prefix}-alpha`]);
    expect(names(await search(`${inPrefix} AND tags.\`k.with.dots\` = "x"`))).toEqual([`${prefix}-Gamma`]);
  });

  it('orders by name, creation_timestamp and last_updated_timestamp, ASC or DESC', async () => {
    const inPrefix = `name LIKE '${prefix}%'`;
    expect(names(await search(inPrefix, { order_by: ['name DESC'] }))).toEqual([
      `${prefix}-beta`,
      `${prefix}-alpha`,
      `${prefix}-Gamma`,
    ]);
    expect(names(await search(inPrefix, { order_by: ['creation_timestamp DESC'] }))).toEqual([
      `${prefix}-Gamma`,
      `${prefix}-beta`,
      `${prefix}-alpha`,
    ]);
    await tick();
    await call('PATCH', 'registered-models/update', { name: `${prefix}-alpha`, description: 'touched' });
    expect(names(await search(inPrefix, { order_by: ['last_updated_timestamp DESC'] }))[0]).toBe(
      `${prefix}-alpha`,
    );
    expect(names(await search(inPrefix, { order_by: ['last_updated_timestamp'] }))).toEqual([
      `${prefix}-beta`,
      `${prefix}-Gamma`,
      `${prefix}-alpha`,
    ]);
  });

  it('pages with opaque tokens and omits next_page_token on the last page', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await search(`name LIKE '${prefix}%'`, { max_results: 2, page_token: token });
      seen.push(...names(res));
      token = res.next_page_token;
      pages++;
    } while (token);
    expect(seen).toEqual([`${prefix}-Gamma`, `${prefix}-alpha`, `${prefix}-beta`]);
    expect(pages).toBe(2);
  });

  it('answers a bad filter, order_by or max_results with 400 INVALID_PARAMETER_VALUE', async () => {
    for (const fields of [
      { filter: "name = 'a' OR name = 'b'" },
      { filter: "colour = 'red'" },
      { filter: "version_number = '1'" },
      { order_by: ['colour'] },
      { max_results: 1001 },
      { max_results: 0 },
      { max_results: 'ten' },
    ] as Fields[]) {
      await expectError(call('GET', 'registered-models/search', fields), 400, 'INVALID_PARAMETER_VALUE');
    }
  });

  it('accepts max_results up to 1000 and defaults to 100', async () => {
    const res = await call('GET', 'registered-models/search', { max_results: 1000 });
    expect(Array.isArray(res.registered_models)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------

describe('model versions', () => {
  it('creates versions "1", "2", … with status READY, stage None and the given metadata', async () => {
    const name = unique();
    await createModel(name);
    const { model_version: mv } = await createVersion(name, 's3://bucket/churn/1', {
      run_id: 'abc123',
      run_link: 'https://mlflow.example/runs/abc123',
      description: 'first',
      tags: [{ key: 'framework', value: 'xgboost' }],
    });
    expect(mv).toMatchObject({
      name,
      version: '1',
      current_stage: 'None',
      status: 'READY',
      source: 's3://bucket/churn/1',
      run_id: 'abc123',
      run_link: 'https://mlflow.example/runs/abc123',
      description: 'first',
      tags: [{ key: 'framework', value: 'xgboost' }],
      aliases: [],
    });
    expect(typeof mv.user_id).toBe('string');
    expect(mv.last_updated_timestamp).toBe(mv.creation_timestamp);
    expect((await createVersion(name, 's3://bucket/churn/2')).model_version.version).toBe('2');
  });

  it("moves the model's last_updated_timestamp when a version is created", async () => {
    const name = unique();
    const { registered_model: rm } = await createModel(name);
    await tick();
    await createVersion(name, 's3://b/1');
    expect((await getModel(name)).last_updated_timestamp).toBeGreaterThan(rm.last_updated_timestamp);
  });

  it('never reuses a version number after deletes', async () => {
    const name = unique();
    await seed(name, 3);
    await call('DELETE', 'model-versions/delete', { name, version: '3' });
    await call('DELETE', 'model-versions/delete', { name, version: '2' });
    expect((await createVersion(name, 's3://b/again')).model_version.version).toBe('4');
  });

  it('refuses a version of a missing model (404) and an invalid or missing source (400)', async () => {
    await expectError(createVersion(unique(), 's3://b/k'), 404, 'RESOURCE_DOES_NOT_EXIST');
    const name = unique();
    await createModel(name);
    await expectError(createVersion(name, 'relative/path'), 400, 'INVALID_PARAMETER_VALUE');
    await expectError(
      call('POST', 'model-versions/create', { name }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Missing value for required parameter 'source'/,
    );
  });

  it("gets a version; a bad number is 400 and a missing one 404 with MLflow's messages", async () => {
    const name = unique();
    await seed(name, 1);
    expect(await getVersion(name, '1')).toMatchObject({ name, version: '1', status: 'READY' });
    await expectError(
      getVersion(name, 'x'),
      400,
      'INVALID_PARAMETER_VALUE',
      "Parameter 'version' must be an integer, got 'x'.",
    );
    await expectError(
      getVersion(name, '9'),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Model Version (name=${name}, version=9) not found`,
    );
  });

  it("updates a version's description: its own timestamp moves, the model's does not", async () => {
    const name = unique();
    await seed(name, 1);
    const model = await getModel(name);
    const before = await getVersion(name, '1');
    await tick();
    const { model_version: mv } = await call('PATCH', 'model-versions/update', {
      name,
      version: '1',
      description: 'better',
    });
    expect(mv.description).toBe('better');
    expect(mv.last_updated_timestamp).toBeGreaterThan(before.last_updated_timestamp);
    expect((await getModel(name)).last_updated_timestamp).toBe(model.last_updated_timestamp);
    await expectError(
      call('PATCH', 'model-versions/update', { name, version: '7', description: 'x' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  it("deletes a version, with the aliases that point at it, and moves the model's timestamp", async () => {
    const name = unique();
    await seed(name, 2);
    await call('POST', 'registered-models/alias', { name, alias: 'champion', version: '2' });
    const model = await getModel(name);
    await tick();
    expect(await call('DELETE', 'model-versions/delete', { name, version: '2' })).toEqual({});
    const after = await getModel(name);
    expect(after.aliases).toEqual([]);
    expect(after.last_updated_timestamp).toBeGreaterThan(model.last_updated_timestamp);
    await expectError(getVersion(name, '2'), 404, 'RESOURCE_DOES_NOT_EXIST');
    await expectError(
      call('DELETE', 'model-versions/delete', { name, version: '2' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  it('sets and deletes version tags; a missing version is 404', async () => {
    const name = unique();
    await seed(name, 1);
    await call('POST', 'model-versions/set-tag', { name, version: '1', key: 'validated', value: 'yes' });
    expect((await getVersion(name, '1')).tags).toEqual([{ key: 'validated', value: 'yes' }]);
    expect(
      await call('DELETE', 'model-versions/delete-tag', { name, version: '1', key: 'validated' }),
    ).toEqual({});
    expect((await getVersion(name, '1')).tags).toEqual([]);
    await expectError(
      call('POST', 'model-versions/set-tag', { name, version: '5', key: 'k', value: 'v' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    await expectError(
      call('DELETE', 'model-versions/delete-tag', { name, version: '5', key: 'k' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('stages', () => {
  const transition = (name: string, version: string, stage: string, archive: boolean) =>
    call('POST', 'model-versions/transition-stage', {
      name,
      version,
      stage,
      archive_existing_versions: archive,
    });

  it("canonicalises the stage case-insensitively and moves the model's timestamp", async () => {
    const name = unique();
    await seed(name, 1);
    const model = await getModel(name);
    await tick();
    const { model_version: mv } = await transition(name, '1', 'staging', false);
    expect(mv).toMatchObject({ version: '1', current_stage: 'Staging', status: 'READY' });
    expect((await getModel(name)).last_updated_timestamp).toBeGreaterThan(model.last_updated_timestamp);
  });

  it('archives the other versions in the stage with archive_existing_versions=true only', async () => {
    const name = unique();
    await seed(name, 3);
    await transition(name, '1', 'Production', false);
    await transition(name, '2', 'Production', false);
    expect((await getVersion(name, '1')).current_stage).toBe('Production');
    await transition(name, '3', 'Production', true);
    expect((await getVersion(name, '1')).current_stage).toBe('Archived');
    expect((await getVersion(name, '2')).current_stage).toBe('Archived');
    expect((await getVersion(name, '3')).current_stage).toBe('Production');
  });

  it('refuses an unknown stage with 400 "Invalid Model Version stage"', async () => {
    const name = unique();
    await seed(name, 1);
    await expectError(
      transition(name, '1', 'Prod', false),
      400,
      'INVALID_PARAMETER_VALUE',
      /Invalid Model Version stage/,
    );
  });

  it('refuses archive_existing_versions with a stage other than Staging or Production with 400, not 500', async () => {
    const name = unique();
    await seed(name, 1);
    await expectError(transition(name, '1', 'Archived', true), 400, 'INVALID_PARAMETER_VALUE');
    await expectError(transition(name, '1', 'None', true), 400, 'INVALID_PARAMETER_VALUE');
  });

  it('answers a transition of a missing version with 404', async () => {
    const name = unique();
    await seed(name, 1);
    await expectError(transition(name, '4', 'Staging', false), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  describe('get_latest_versions', () => {
    let name: string;
    beforeAll(async () => {
      name = unique();
      await seed(name, 5);
      await transition(name, '1', 'Production', false);
      await transition(name, '2', 'Production', false);
      await transition(name, '3', 'Staging', false);
      await transition(name, '4', 'Archived', false);
    });
    const versions = (res: { model_versions: { version: string; current_stage: string }[] }) =>
      res.model_versions.map((v) => `${v.current_stage}:${v.version}`).sort();

    it('answers POST with the highest version of each requested stage', async () => {
      const res = await call('POST', 'registered-models/get-latest-versions', {
        name,
        stages: ['Production', 'staging'],
      });
      expect(versions(res)).toEqual(['Production:2', 'Staging:3']);
    });

    it('answers POST without stages with one version per stage', async () => {
      const res = await call('POST', 'registered-models/get-latest-versions', { name });
      expect(versions(res)).toEqual(['Archived:4', 'None:5', 'Production:2', 'Staging:3']);
    });

    it('answers the GET fallback with stages as repeated query keys', async () => {
      const res = await call('GET', 'registered-models/get-latest-versions', {
        name,
        stages: ['Production', 'Archived'],
      });
      expect(versions(res)).toEqual(['Archived:4', 'Production:2']);
    });

    it('refuses a bad stage (400) and a missing model (404)', async () => {
      await expectError(
        call('POST', 'registered-models/get-latest-versions', { name, stages: ['Prod'] }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      await expectError(
        call('POST', 'registered-models/get-latest-versions', { name: unique() }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
    });

    it('resolves models:/name/<Stage> as the client does: 7 with the stage, the max, then 2 and 18', async () => {
      const latest = await call('POST', 'registered-models/get-latest-versions', {
        name,
        stages: ['Production'],
      });
      const max = Math.max(...latest.model_versions.map((v: { version: string }) => Number(v.version)));
      await getModel(name);
      const { artifact_uri } = await call('GET', 'model-versions/get-download-uri', {
        name,
        version: String(max),
      });
      expect(artifact_uri).toBe(`s3://bucket/${name}/2`);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('aliases', () => {
  it('sets, moves, resolves and deletes an alias; shapes on the model and the version', async () => {
    const name = unique();
    await seed(name, 2);
    expect(await call('POST', 'registered-models/alias', { name, alias: 'champion', version: '1' })).toEqual(
      {},
    );
    expect((await getModel(name)).aliases).toEqual([{ alias: 'champion', version: '1' }]);
    expect((await getVersion(name, '1')).aliases).toEqual(['champion']);
    await call('POST', 'registered-models/alias', { name, alias: 'champion', version: '2' });
    const { model_version: mv } = await call('GET', 'registered-models/alias', { name, alias: 'champion' });
    expect(mv).toMatchObject({ version: '2', aliases: ['champion'], status: 'READY' });
    expect((await getVersion(name, '1')).aliases).toEqual([]);
    expect(await call('DELETE', 'registered-models/alias', { name, alias: 'champion' })).toEqual({});
    expect((await getModel(name)).aliases).toEqual([]);
    expect(await call('DELETE', 'registered-models/alias', { name, alias: 'champion' })).toEqual({});
  });

  it('resolves `latest` on the server to the highest version', async () => {
    const name = unique();
    await seed(name, 3);
    await call('DELETE', 'model-versions/delete', { name, version: '3' });
    const { model_version: mv } = await call('GET', 'registered-models/alias', { name, alias: 'latest' });
    expect(mv.version).toBe('2');
  });

  it('refuses reserved and malformed alias names with 400', async () => {
    const name = unique();
    await seed(name, 1);
    for (const alias of ['latest', 'LATEST', 'v1', 'V12', 'has space', 'dot.ted', 'a'.repeat(256)]) {
      await expectError(
        call('POST', 'registered-models/alias', { name, alias, version: '1' }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
    }
    await call('POST', 'registered-models/alias', { name, alias: `a-${'b'.repeat(253)}`, version: '1' });
  });

  it('answers an alias to a missing version with 404 and an unknown model with 404', async () => {
    const name = unique();
    await seed(name, 1);
    await expectError(
      call('POST', 'registered-models/alias', { name, alias: 'champion', version: '9' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    await expectError(
      call('POST', 'registered-models/alias', { name: unique(), alias: 'champion', version: '1' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    await expectError(
      call('DELETE', 'registered-models/alias', { name: unique(), alias: 'champion' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  it('answers an unknown alias with 400 "Registered model alias A not found." (not 404)', async () => {
    const name = unique();
    await seed(name, 1);
    await expectError(
      call('GET', 'registered-models/alias', { name, alias: 'nobody' }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Registered model alias nobody not found.',
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('search model versions', () => {
  let a: string;
  let b: string;
  const ids = (res: { model_versions: { name: string; version: string }[] }) =>
    res.model_versions.map((v) => `${v.name.endsWith('-a') ? 'a' : 'b'}${v.version}`);
  const search = (filter: string, fields: Fields = {}) =>
    call('GET', 'model-versions/search', { filter, ...fields });

  beforeAll(async () => {
    const prefix = unique('mvsearch');
    a = `${prefix}-a`;
    b = `${prefix}-b`;
    await createModel(a);
    await createModel(b);
    for (let i = 1; i <= 4; i++) {
      await createVersion(a, `s3://bucket/a/${i}`, {
        run_id: `run-a${i}`,
        tags: [{ key: 'parity', value: i % 2 ? 'odd' : 'Even' }],
      });
      await tick();
    }
    await createVersion(b, 'gs://other/b/1', { run_id: 'run-b1' });
  });

  it('filters by name, run_id and source_path with =, !=, LIKE and ILIKE', async () => {
    expect(ids(await search(`name = '${a}'`))).toEqual(['a4', 'a3', 'a2', 'a1']);
    expect(ids(await search(`name LIKE '${a.slice(0, -2)}%' AND name != '${a}'`))).toEqual(['b1']);
    expect(ids(await search(`name ILIKE '${b.toUpperCase()}'`))).toEqual(['b1']);
    expect(ids(await search(`run_id = 'run-a2'`))).toEqual(['a2']);
    expect(ids(await search(`name = '${a}' AND run_id != 'run-a2'`))).toEqual(['a4', 'a3', 'a1']);
    expect(ids(await search(`name = '${a}' AND run_id LIKE '%a3'`))).toEqual(['a3']);
    expect(ids(await search(`name = '${a}' AND run_id ILIKE '%A3'`))).toEqual(['a3']);
    expect(ids(await search(`source_path = 'gs://other/b/1'`))).toEqual(['b1']);
    expect(ids(await search(`name = '${a}' AND source_path LIKE 's3://bucket/a/%'`))).toHaveLength(4);
    expect(ids(await search(`name = '${a}' AND source_path ILIKE 'S3://BUCKET/A/1'`))).toEqual(['a1']);
    expect(ids(await search(`name = '${a}' AND source_path != 's3://bucket/a/1'`))).toEqual([
      'a4',
      'a3',
      'a2',
    ]);
  });

  it("accepts IN ('x', 'y') for run_id", async () => {
    expect(
      ids(await search(`run_id IN ('run-a1', 'run-b1')`, { order_by: ['name', 'version_number'] })),
    ).toEqual(['a1', 'b1']);
  });

  it('compares version_number numerically', async () => {
    const scope = `name = '${a}' AND `;
    expect(ids(await search(`${scope}version_number = 2`))).toEqual(['a2']);
    expect(ids(await search(`${scope}version_number != 2`))).toEqual(['a4', 'a3', 'a1']);
    expect(ids(await search(`${scope}version_number > 2`))).toEqual(['a4', 'a3']);
    expect(ids(await search(`${scope}version_number >= 2`))).toEqual(['a4', 'a3', 'a2']);
    expect(ids(await search(`${scope}version_number < 2`))).toEqual(['a1']);
    expect(ids(await search(`${scope}version_number <= 2`))).toEqual(['a2', 'a1']);
  });

  it('filters by tags', async () => {
    const scope = `name = '${a}' AND `;
    expect(ids(await search(`${scope}tags.parity = 'odd'`))).toEqual(['a3', 'a1']);
    expect(ids(await search(`${scope}tags.parity != 'odd'`))).toEqual(['a4', 'a2']);
    expect(ids(await search(`${scope}tags.parity LIKE 'e%'`))).toEqual([]);
    expect(ids(await search(`${scope}tags.parity ILIKE 'e%'`))).toEqual(['a4', 'a2']);
  });

  it('orders by last_updated_timestamp DESC by default, and by each order_by key', async () => {
    await tick();
    await call('PATCH', 'model-versions/update', { name: a, version: '2', description: 'touched' });
    expect(ids(await search(`name = '${a}'`, { order_by: undefined })).slice(0, 1)).toEqual(['a2']);
    expect(ids(await search(`name = '${a}'`, { order_by: ['version_number ASC'] }))).toEqual([
      'a1',
      'a2',
      'a3',
      'a4',
    ]);
    expect(ids(await search(`name = '${a}'`, { order_by: ['creation_timestamp DESC'] }))).toEqual([
      'a4',
      'a3',
      'a2',
      'a1',
    ]);
    expect(ids(await search(`name = '${a}'`, { order_by: ['last_updated_timestamp DESC'] }))[0]).toBe('a2');
    expect(
      ids(await search(`run_id IN ('run-a1', 'run-b1')`, { order_by: ['name DESC', 'version_number'] })),
    ).toEqual(['b1', 'a1']);
  });

  it('pages with tokens and omits next_page_token on the last page', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const res = await search(`name = '${a}'`, {
        max_results: 3,
        order_by: ['version_number'],
        page_token: token,
      });
      seen.push(...ids(res));
      token = res.next_page_token;
    } while (token);
    expect(seen).toEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('defaults max_results to 200000 and refuses more (400)', async () => {
    const res = await call('GET', 'model-versions/search', { filter: `name = '${a}'` });
    expect(res.model_versions).toHaveLength(4);
    expect(res.next_page_token).toBeUndefined();
    await call('GET', 'model-versions/search', { filter: `name = '${a}'`, max_results: 200000 });
    await expectError(
      call('GET', 'model-versions/search', { max_results: 200001 }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
  });

  it('answers a bad filter or order_by with 400', async () => {
    for (const fields of [
      { filter: "run_id = 'a' OR run_id = 'b'" },
      { filter: "name IN ('a')" },
      { filter: "version_number > 'x'" },
      { filter: 'name = unquoted' },
      { order_by: ['colour'] },
    ] as Fields[]) {
      await expectError(call('GET', 'model-versions/search', fields), 400, 'INVALID_PARAMETER_VALUE');
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('download URIs and copies', () => {
  it('answers an external version with its source', async () => {
    const name = unique();
    await seed(name, 1);
    await getModel(name);
    expect(await call('GET', 'model-versions/get-download-uri', { name, version: '1' })).toEqual({
      artifact_uri: `s3://bucket/${name}/1`,
    });
    await expectError(
      call('GET', 'model-versions/get-download-uri', { name, version: '3' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  it("copy_model_version: creates the target (exists is fine) and a version whose source is models:/src/N, which resolves to the source's artifacts", async () => {
    const src = unique('src');
    const dst = unique('dst');
    await seed(src, 2);
    // The client resolves the source, then creates the target model and ignores "already exists".
    await getVersion(src, '2');
    await createModel(dst);
    await expectError(createModel(dst), 400, 'RESOURCE_ALREADY_EXISTS');
    const { model_version: copy } = await createVersion(dst, `models:/${src}/2`);
    expect(copy).toMatchObject({ name: dst, version: '1', source: `models:/${src}/2`, status: 'READY' });
    expect(await call('GET', 'model-versions/get-download-uri', { name: dst, version: '1' })).toEqual({
      artifact_uri: `s3://bucket/${src}/2`,
    });
    // A copy of the copy still resolves to the original artifacts.
    const { model_version: copy2 } = await createVersion(dst, `models:/${dst}/1`);
    expect(
      (await call('GET', 'model-versions/get-download-uri', { name: dst, version: copy2.version }))
        .artifact_uri,
    ).toBe(`s3://bucket/${src}/2`);
  });

  it('refuses a copy of a version that does not exist, or a models:/ source without a version, with 400', async () => {
    const name = unique();
    await createModel(name);
    await expectError(
      createVersion(name, `models:/${name}/9`),
      400,
      'INVALID_PARAMETER_VALUE',
      /Unable to fetch model from model URI source artifact location/,
    );
    await expectError(createVersion(name, `models:/${name}/Production`), 400, 'INVALID_PARAMETER_VALUE');
    await expectError(createVersion(name, `models:/${name}@champion`), 400, 'INVALID_PARAMETER_VALUE');
  });

  it('keeps an MLflow 3 logged-model source (models:/m-<id>) for the client to follow', async () => {
    const name = unique();
    await createModel(name);
    const { model_version: mv } = await createVersion(name, 'models:/m-0123abcd', { model_id: 'm-0123abcd' });
    expect(mv.source).toBe('models:/m-0123abcd');
    expect((await call('GET', 'model-versions/get-download-uri', { name, version: '1' })).artifact_uri).toBe(
      'models:/m-0123abcd',
    );
  });

  it('answers a registry-managed version with the s3:// prefix of its verified files, readable with S3 credentials', async () => {
    const name = unique();
    const api = apiClient(registry.url, 'AKIAUPLOADER');
    const content = randomBytes(2048);
    await createModel(name);
    const created = await api('POST', `/models/${name}/versions`, {
      files: [
        {
          path: 'model.pkl',
          size: content.length,
          sha256: createHash('sha256').update(content).digest('hex'),
        },
      ],
    });
    expect(created.status).toBe(201);
    // Not READY yet: 4xx (never a retried 5xx).
    await expectError(
      call('GET', 'model-versions/get-download-uri', { name, version: '1' }),
      400,
      'INVALID_STATE',
      /PENDING_REGISTRATION/,
    );
    expect((await getVersion(name, '1')).status).toBe('PENDING_REGISTRATION');
    const file = created.body.upload.files[0];
    const put = await fetch(file.url, { method: 'PUT', body: content, headers: file.headers });
    expect(put.status).toBe(200);
    expect((await api('POST', `/models/${name}/versions/1/finalize`, {})).status).toBe(200);
    await registry.settled();
    expect((await getVersion(name, '1')).status).toBe('READY');

    const { artifact_uri } = await call('GET', 'model-versions/get-download-uri', { name, version: '1' });
    expect(artifact_uri).toMatch(new RegExp(`^s3://${LOCAL_BUCKET}/models/[\\w-]+/versions/1/files$`));
    // What the MLflow client then does with boto3 (MLFLOW_S3_ENDPOINT_URL = the local S3,
    // credentials local/local): the file is under that prefix, byte for byte.
    const s3 = new S3Client({ endpoint: registry.s3Endpoint, forcePathStyle: true, ...LOCAL_AWS });
    const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.+)$/.exec(artifact_uri)!;
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/model.pkl` }));
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(content)).toBe(true);
  });
});
