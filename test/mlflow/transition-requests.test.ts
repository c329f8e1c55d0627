/**
 * Databricks' transition-request endpoints (`/api/2.0/mlflow/transition-requests/*`) over the
 * registry's governance flow, against the local runtime with the default policy (Production
 * guarded, 1 approver, not the requester). Requests are sent as the MLflow client sends them
 * (test/mlflow/client.ts); each principal signs with its own access key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MLFLOW_OPERATIONS, MLFLOW_PREFIX } from '../../functions/api/mlflow/contract';
import type { LocalRegistry } from '../../local/registry';
import { apiClient, localRegistry } from '../support/engines';
import { type Fields, MlflowRestError, mlflowWire } from './client';

const ALICE = 'arn:aws:iam::000000000000:user/AKIAALICE';
const BOB = 'arn:aws:iam::000000000000:user/AKIABOB';

let registry: LocalRegistry;
let alice: ReturnType<typeof mlflowWire>;
let bob: ReturnType<typeof mlflowWire>;

beforeAll(async () => {
  registry = await localRegistry(); // the default policy
  alice = mlflowWire(registry.url, 'AKIAALICE');
  bob = mlflowWire(registry.url, 'AKIABOB');
});
afterAll(async () => {
  await registry?.stop();
});

let n = 0;
async function seed(versions = 1) {
  const name = `tr-${Date.now().toString(36)}-${++n}`;
  await alice.call('POST', 'registered-models/create', { name });
  for (let i = 0; i < versions; i++) {
    await alice.call('POST', 'model-versions/create', { name, source: `s3://bucket/m/${i + 1}` });
  }
  return name;
}

async function expectError(promise: Promise<unknown>, status: number, code: string, message?: RegExp) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected an MLflow error').toBeInstanceOf(MlflowRestError);
  const rest = err as MlflowRestError;
  expect({ status: rest.status, code: rest.errorCode }).toEqual({ status, code });
  if (message) expect(rest.message).toMatch(message);
  return rest;
}

/** Alice asks to move a version to Production; the workflow then waits for approval. */
async function requestProduction(name: string, version: string, fields: Fields = {}) {
  const res = await alice.call('POST', 'transition-requests/create', {
    name,
    version,
    stage: 'production',
    comment: 'ship it',
    ...fields,
  });
  await registry.settled();
  return res.request;
}

const stageOf = async (name: string, version: string) =>
  (await alice.call('GET', 'model-versions/get', { name, version })).model_version.current_stage;
const openOf = async (who: ReturnType<typeof mlflowWire>, name: string, version: string) =>
  (await who.call('GET', 'transition-requests/list', { name, version })).requests;

describe('transition-request routes', () => {
  it('are served in the groups that hold their permissions', () => {
    const served = MLFLOW_OPERATIONS.filter((o) => o.path.includes('/transition-requests/')).map((o) => [
      o.method,
      o.path.slice(MLFLOW_PREFIX.length + 1),
      o.group,
    ]);
    expect(served.sort()).toEqual(
      [
        ['POST', 'transition-requests/create', 'write'],
        ['GET', 'transition-requests/list', 'read'],
        ['POST', 'transition-requests/approve', 'approve'],
        ['POST', 'transition-requests/reject', 'approve'],
        ['DELETE', 'transition-requests/delete', 'approve'],
      ].sort(),
    );
  });
});

describe('approval through transition-requests', () => {
  it('creates a request, lists it, refuses the requester, and applies it once another principal approves', async () => {
    const name = await seed();
    const created = await requestProduction(name, '1');
    expect(created).toMatchObject({
      to_stage: 'Production',
      user_id: ALICE,
      comment: 'ship it',
      status: 'PENDING',
    });
    expect(created.id).toMatch(/^tr-/);
    expect(typeof created.creation_timestamp).toBe('number');
    expect(created.available_actions).toEqual(['REJECT_TRANSITION_REQUEST', 'CANCEL_TRANSITION_REQUEST']);
    expect(await stageOf(name, '1')).toBe('None');

    const listed = await openOf(alice, name, '1');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: created.id, to_stage: 'Production', user_id: ALICE });
    const forBob = await openOf(bob, name, '1');
    expect(forBob[0].available_actions).toEqual(['APPROVE_TRANSITION_REQUEST', 'REJECT_TRANSITION_REQUEST']);

    const approveFields = { name, version: '1', stage: 'Production', archive_existing_versions: false };
    await expectError(
      alice.call('POST', 'transition-requests/approve', approveFields),
      403,
      'PERMISSION_DENIED',
      /separation of duties/,
    );
    expect(await stageOf(name, '1')).toBe('None');

    const { activity } = await bob.call('POST', 'transition-requests/approve', {
      ...approveFields,
      comment: 'lgtm',
    });
    expect(activity).toMatchObject({
      activity_type: 'APPROVED_REQUEST',
      from_stage: 'None',
      to_stage: 'Production',
      user_id: BOB,
      comment: 'lgtm',
    });
    expect(activity.system_comment).toMatch(/moves the version to Production/);
    expect(typeof activity.creation_timestamp).toBe('number');
    expect(typeof activity.last_updated_timestamp).toBe('number');

    await registry.settled();
    expect(await stageOf(name, '1')).toBe('Production');
    expect(await openOf(alice, name, '1')).toEqual([]);
  });

  it('archives the versions in the stage when the request was made with archive_existing_versions', async () => {
    const name = await seed(2);
    await requestProduction(name, '1');
    await bob.call('POST', 'transition-requests/approve', {
      name,
      version: '1',
      stage: 'Production',
      archive_existing_versions: false,
    });
    await registry.settled();
    await requestProduction(name, '2', { archive_existing_versions: true });
    await bob.call('POST', 'transition-requests/approve', {
      name,
      version: '2',
      stage: 'Production',
      archive_existing_versions: true,
    });
    await registry.settled();
    expect([await stageOf(name, '1'), await stageOf(name, '2')]).toEqual(['Archived', 'Production']);
  });

  it("refuses an approval whose archive_existing_versions differs from the request's (400)", async () => {
    const name = await seed();
    await requestProduction(name, '1');
    await expectError(
      bob.call('POST', 'transition-requests/approve', {
        name,
        version: '1',
        stage: 'Production',
        archive_existing_versions: true,
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      /was created with archive_existing_versions=false/,
    );
    expect(await openOf(alice, name, '1')).toHaveLength(1);
  });

  it('requires archive_existing_versions on approve, as Databricks does', async () => {
    const name = await seed();
    await requestProduction(name, '1');
    await expectError(
      bob.call('POST', 'transition-requests/approve', { name, version: '1', stage: 'Production' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Missing value for required parameter 'archive_existing_versions'/,
    );
  });
});

describe('reject and delete (cancel)', () => {
  it('rejects with the comment as the reason, or a default reason when there is none', async () => {
    const name = await seed(2);
    await requestProduction(name, '1');
    const { activity } = await bob.call('POST', 'transition-requests/reject', {
      name,
      version: '1',
      stage: 'Production',
      comment: 'accuracy too low',
    });
    expect(activity).toMatchObject({
      activity_type: 'REJECTED_REQUEST',
      from_stage: 'None',
      to_stage: 'Production',
      user_id: BOB,
      comment: 'accuracy too low',
    });
    const second = await requestProduction(name, '2');
    const empty = await bob.call('POST', 'transition-requests/reject', {
      name,
      version: '2',
      stage: 'Production',
      comment: '',
    });
    expect(empty.activity.activity_type).toBe('REJECTED_REQUEST');
    expect(empty.activity.comment).toBeUndefined();
    // The registry records the default reason (it requires one).
    const native = await apiClient(registry.url, 'AKIAALICE')(
      'GET',
      `/models/${name}/transition-requests/${second.id}`,
    );
    expect(native.body.transition_request).toMatchObject({ status: 'REJECTED', reason: 'Rejected' });
    await registry.settled();
    expect(await openOf(alice, name, '1')).toEqual([]);
    expect(await openOf(alice, name, '2')).toEqual([]);
    expect([await stageOf(name, '1'), await stageOf(name, '2')]).toEqual(['None', 'None']);
  });

  it('lets only the requester delete (cancel) a request', async () => {
    const name = await seed();
    await requestProduction(name, '1');
    const fields = { name, version: '1', stage: 'Production', creator: ALICE };
    await expectError(
      bob.call('DELETE', 'transition-requests/delete', fields),
      403,
      'PERMISSION_DENIED',
      /Only the requester/,
    );
    await expectError(
      alice.call('DELETE', 'transition-requests/delete', { ...fields, creator: BOB }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      /No open transition request by .*AKIABOB/,
    );
    expect(
      await alice.call('DELETE', 'transition-requests/delete', { ...fields, comment: 'not yet' }),
    ).toEqual({});
    await registry.settled();
    expect(await openOf(alice, name, '1')).toEqual([]);
    expect(await stageOf(name, '1')).toBe('None');
    // The request is closed: a new one can be made.
    expect((await requestProduction(name, '1')).status).toBe('PENDING');
  });
});

describe('errors', () => {
  it('answers 404 RESOURCE_DOES_NOT_EXIST when the version has no open request for the stage', async () => {
    const name = await seed();
    const message = new RegExp(
      `No open transition request to move Model Version \\(name=${name}, version=1\\) to Production`,
    );
    const fields = { name, version: '1', stage: 'Production' };
    await expectError(
      bob.call('POST', 'transition-requests/approve', { ...fields, archive_existing_versions: false }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      message,
    );
    await expectError(
      bob.call('POST', 'transition-requests/reject', fields),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      message,
    );
    await expectError(
      alice.call('DELETE', 'transition-requests/delete', { ...fields, creator: ALICE }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      message,
    );
  });

  it('refuses a request for a stage that is not guarded (400, the version does not move)', async () => {
    const name = await seed();
    await expectError(
      alice.call('POST', 'transition-requests/create', { name, version: '1', stage: 'Staging' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Stage Staging is not guarded .*Use model-versions\/transition-stage/,
    );
    expect(await stageOf(name, '1')).toBe('None');
    expect(await openOf(alice, name, '1')).toEqual([]);
  });

  it('refuses a second request for the same version and stage', async () => {
    const name = await seed();
    await requestProduction(name, '1');
    await expectError(
      alice.call('POST', 'transition-requests/create', { name, version: '1', stage: 'Production' }),
      400,
      'INVALID_STATE',
      /already asks to move version 1/,
    );
  });

  it('answers 404 for a missing model or version, and 400 for a bad stage', async () => {
    const name = await seed();
    await expectError(
      alice.call('POST', 'transition-requests/create', { name, version: '9', stage: 'Production' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    await expectError(
      alice.call('GET', 'transition-requests/list', { name: `${name}-missing`, version: '1' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    await expectError(
      alice.call('POST', 'transition-requests/create', { name, version: '1', stage: 'Prod' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Invalid Model Version stage/,
    );
  });

  it('keeps answering transition-stage to a guarded stage with the 4xx naming the request, which list then shows', async () => {
    const name = await seed();
    const res = await alice.raw('POST', 'model-versions/transition-stage', {
      name,
      version: '1',
      stage: 'Production',
      archive_existing_versions: false,
    });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_STATE');
    const id = /transition request (tr-[\w-]+)/.exec(res.body.message)?.[1];
    expect(id, res.body.message).toBeDefined();
    await registry.settled();
    expect((await openOf(alice, name, '1')).map((r: { id: string }) => r.id)).toEqual([id]);
  });
});
