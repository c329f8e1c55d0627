/**
 * Model names as MLflow accepts them, through every interface: MLflow's wire protocol (names in
 * query strings and bodies), the native API (names in paths, or in the query when a path cannot
 * carry them), the SDK, `models:/` URIs and the console's links.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAME_IN_QUERY, travelsInPath } from '../../functions/api/model-name-path';
import type { LocalRegistry } from '../../local/registry';
import { RegistryClient } from '../../sdk';
import { href, parseRoute } from '../../web/src/links';
import { apiClient, localRegistry } from '../support/engines';
import { MlflowRestError, mlflowWire } from './client';

/** Names MLflow accepts that a stricter registry refused (issue reports and MLflow's own tests). */
const NAMES = [
  'my model',
  'team/model',
  'model:v1',
  'Modèle',
  '_private',
  '-dash',
  'x@y',
  'churn (v2)',
  'a%b',
  'a%2Fb',
  '../x',
  '.',
  '..',
  '~',
  'q?x#y',
  'plus+sign',
  'back\\slash',
  ' padded ',
  '名前🙂',
  'x'.repeat(300),
];

let registry: LocalRegistry;
let mlflow: ReturnType<typeof mlflowWire>;
let api: ReturnType<typeof apiClient>;
let sdk: RegistryClient;

beforeAll(async () => {
  registry = await localRegistry({ env: { GOVERNANCE_POLICY: 'mlflow' } });
  mlflow = mlflowWire(registry.url);
  api = apiClient(registry.url, 'AKIANAMES');
  sdk = new RegistryClient({ endpoint: registry.url });
});
afterAll(async () => {
  await registry?.stop();
});

let round = 0;
describe.each(NAMES.map((n) => [n]))('the name %j', (base) => {
  it('works through the MLflow API: create, get, search, versions, rename and back', async () => {
    const name = `${base}${++round}`;
    const { registered_model } = await mlflow.call('POST', 'registered-models/create', { name });
    expect(registered_model.name).toBe(name);
    expect((await mlflow.call('GET', 'registered-models/get', { name })).registered_model.name).toBe(name);
    const found = await mlflow.call('GET', 'registered-models/search', { filter: `name = '${name}'` });
    expect(found.registered_models.map((m: { name: string }) => m.name)).toEqual([name]);
    const { model_version } = await mlflow.call('POST', 'model-versions/create', {
      name,
      source: 's3://b/m',
    });
    expect(model_version).toMatchObject({ name, version: '1' });
    const latest = await mlflow.call('POST', 'registered-models/get-latest-versions', {
      name,
      stages: ['None'],
    });
    expect(latest.model_versions.map((v: { version: string }) => v.version)).toEqual(['1']);
    // MLflow's own registry tests rename to a name with a space.
    const renamed = await mlflow.call('POST', 'registered-models/rename', {
      name,
      new_name: `UpdateRMTest 2 ${name}`,
    });
    expect(renamed.registered_model.name).toBe(`UpdateRMTest 2 ${name}`);
    await mlflow.call('POST', 'registered-models/rename', { name: `UpdateRMTest 2 ${name}`, new_name: name });
    expect((await mlflow.call('GET', 'model-versions/get', { name, version: '1' })).model_version.name).toBe(
      name,
    );
  });

  it('works through the native API and the SDK, in the path or in the query', async () => {
    const name = `${base}${++round}`;
    expect((await api('POST', '/models', { name })).status).toBe(201);
    // The SDK puts it where it can travel.
    expect((await sdk.getRegisteredModel(name)).name).toBe(name);
    await sdk.createModelVersion(name, { source: 's3://b/m' });
    await sdk.setRegisteredModelAlias(name, 'champion', 1);
    expect((await sdk.getModelVersionByAlias(name, 'champion')).version).toBe(1);
    expect((await sdk.listModelVersions(name)).model_versions.map((v) => v.version)).toEqual([1]);
    // By hand: the query form always works; the path form when the name can travel in a path.
    const byQuery = await api('GET', `/models/${NAME_IN_QUERY}/versions/1?name=${encodeURIComponent(name)}`);
    expect(byQuery.status).toBe(200);
    expect(byQuery.body.model_version.name).toBe(name);
    if (travelsInPath(name)) {
      const byPath = await api('GET', `/models/${encodeURIComponent(name)}/versions/1`);
      expect(byPath.status).toBe(200);
      expect(byPath.body.model_version.name).toBe(name);
    }
    // models:/ URIs, as MLflow parses them (the alias after the last '@').
    const resolved = await api('GET', `/resolve?uri=${encodeURIComponent(`models:/${name}@champion`)}`);
    expect(resolved.status).toBe(200);
    expect(resolved.body.model_version).toMatchObject({ name, version: 1 });
    const byNumber = await api('GET', `/resolve?uri=${encodeURIComponent(`models:/${name}/1`)}`);
    expect(byNumber.status).toBe(200);
    expect(byNumber.body.model_version).toMatchObject({ name, version: 1 });
  });

  it("round-trips through the console's links", () => {
    const name = `${base}`;
    const link = new URL(href.version(name, 3), 'http://console');
    expect(parseRoute(link.pathname, link.search)).toEqual({ page: 'version', name, version: 3 });
  });
});

describe('names MLflow accepts but the registry cannot store', () => {
  it.each([
    ['control characters', 'a\u0000b'],
    ['an unpaired surrogate', 'a\ud800b'],
    ['over 900 bytes of UTF-8', 'é'.repeat(451)],
  ])('refuses %s with INVALID_PARAMETER_VALUE and a reason', async (_what, name) => {
    const err = await mlflow.call('POST', 'registered-models/create', { name }).catch((e) => e);
    expect(err).toBeInstanceOf(MlflowRestError);
    expect(err).toMatchObject({ status: 400, errorCode: 'INVALID_PARAMETER_VALUE' });
  });

  it('refuses an empty name with MLflow’s message', async () => {
    const res = await mlflow.raw('POST', 'registered-models/create', { name: '' });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  });
});
