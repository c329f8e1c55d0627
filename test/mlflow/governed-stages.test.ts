/**
 * MLflow's transition-stage under the registry's default governance policy (Production guarded).
 * MLflow has no "accepted, waiting for approval" answer: the registry never applies a guarded
 * transition silently nor drops it; it answers a 4xx (never a 5xx the client would retry for
 * minutes) naming the transition request it created and the route that approves it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRegistry } from '../../local/registry';
import { localRegistry } from '../support/engines';
import { mlflowWire } from './client';

let registry: LocalRegistry;
let mlflow: ReturnType<typeof mlflowWire>;

beforeAll(async () => {
  registry = await localRegistry();
  mlflow = mlflowWire(registry.url);
});
afterAll(async () => {
  await registry?.stop();
});

let n = 0;
async function seed() {
  const name = `governed-${Date.now().toString(36)}-${++n}`;
  await mlflow.call('POST', 'registered-models/create', { name });
  await mlflow.call('POST', 'model-versions/create', { name, source: 's3://bucket/m/1' });
  return name;
}

describe('transition-stage to a guarded stage', () => {
  it('answers 400 INVALID_STATE naming the transition request and how to approve it', async () => {
    const name = await seed();
    const res = await mlflow.raw('POST', 'model-versions/transition-stage', {
      name,
      version: '1',
      stage: 'production',
      archive_existing_versions: true,
    });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_STATE');
    const id = /transition request (tr-[\w-]+)/.exec(res.body.message)?.[1];
    expect(id, res.body.message).toBeDefined();
    expect(res.body.message).toContain(`POST /models/${name}/transition-requests/${id}/approve`);
  });

  it('leaves the version where it was', async () => {
    const name = await seed();
    await mlflow.raw('POST', 'model-versions/transition-stage', {
      name,
      version: '1',
      stage: 'Production',
      archive_existing_versions: false,
    });
    const { model_version } = await mlflow.call('GET', 'model-versions/get', { name, version: '1' });
    expect(model_version.current_stage).toBe('None');
  });

  it('applies a transition to an unguarded stage at once', async () => {
    const name = await seed();
    const { model_version } = await mlflow.call('POST', 'model-versions/transition-stage', {
      name,
      version: '1',
      stage: 'Staging',
      archive_existing_versions: false,
    });
    expect(model_version.current_stage).toBe('Staging');
  });
});
