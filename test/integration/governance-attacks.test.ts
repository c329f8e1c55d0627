/**
 * Governance under attack, on the local engines (DynamoDB Local, the approval state machine under
 * aws-local-stepfunctions, the local front). One `describe` per finding of the governance review;
 * each test is the attack, named by the rule that defeats it. Callers present the identities API
 * Gateway reports for each kind of principal through the local front's `X-Local-Identity` header.
 *
 * The only fault injected is the documented one: `wrapApprovalWorkflow` makes resuming the
 * approval workflow fail, as a timed-out task token, throttling or a restart would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { audienceOf, OPERATIONS } from '../../functions/api/contract';
import { ALL_OPERATIONS } from '../../functions/api/routes';
import type { GatewayIdentity } from '../../functions/domain/identity';
import { buildApiHandler } from '../../functions/handlers/api-factory';
import type { ApprovalWorkflow } from '../../functions/use-cases/ports';
import { lambdaContext } from '../../local/lambda-context';
import type { LocalRegistry, LocalRegistryOptions } from '../../local/registry';
import { documentClient, localRegistry, tableSnapshot } from '../support/engines';
import {
  type Client,
  clientAs,
  cognitoGuest,
  cognitoUser,
  iamUser,
  identityCenterUser,
  roleSession,
} from '../support/identities';

// ------------------------------------------------------------------ callers

const ALICE = iamUser('alice');
const BOB = iamUser('bob');
const CAROL = iamUser('carol');
const DAN = iamUser('dan');
const ERIN = iamUser('erin');
/** Two sessions of one role: the caller names each session (`--role-session-name`). */
const ENGINEER_1 = roleSession('MlEngineer', 'alice');
const ENGINEER_2 = roleSession('MlEngineer', 'bob-approver');
const MALLORY_1 = roleSession('Approvers', 'mallory-1');
const MALLORY_2 = roleSession('Approvers', 'mallory-2');
const COGNITO_1 = cognitoUser('11111111-aaaa-4bbb-8ccc-000000000001');
const COGNITO_2 = cognitoUser('22222222-aaaa-4bbb-8ccc-000000000002');
const ROLE_PERSON = (role: string) => `arn:aws:iam::000000000000:role/${role}`;

// ------------------------------------------------------------------ the registry

/** Fault injection: when set, resuming the approval workflow fails (SendTaskSuccess throws). */
const faults = { failResume: false };
/** Every start of an approval workflow execution, with what it did. */
const starts: { requestId: string; outcome: 'started' | 'exists' }[] = [];

function faultyWorkflow(workflow: ApprovalWorkflow): ApprovalWorkflow {
  return {
    async start(execution) {
      const outcome = await workflow.start(execution);
      starts.push({ requestId: execution.requestId, outcome });
      return outcome;
    },
    status: (id) => workflow.status(id),
    async succeed(token, output) {
      if (faults.failResume) {
        throw Object.assign(new Error('Task Timed Out: the task token is no longer valid'), {
          name: 'TaskTimedOut',
        });
      }
      return workflow.succeed(token, output);
    },
    fail: (token, error, cause) => workflow.fail(token, error, cause),
  };
}

/** The reconciler looks at requests left alone for a second, and runs only when asked. */
const GOVERNED: Partial<LocalRegistryOptions> = {
  env: { RECONCILE_AFTER_SECONDS: '1' },
  reconcileIntervalMs: 0,
  wrapApprovalWorkflow: faultyWorkflow,
};

let registry: LocalRegistry;
const as = (identity: GatewayIdentity): Client => clientAs(registry.url, identity);

beforeAll(async () => {
  registry = await localRegistry(GOVERNED); // the default policy: Production guarded, @champion protected
});
afterAll(async () => {
  await registry?.stop();
});

// ------------------------------------------------------------------ helpers

let n = 0;
const uniqueName = (what: string) => `attack-${what}-${++n}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Longer than RECONCILE_AFTER_SECONDS: the reconciler takes over what is left this long. */
const pastReconcileBound = () => sleep(1_100);

/** Applies a policy change; a weakening one is approved by two policy admins who did not propose it. */
async function setPolicy(name: string, policy: Record<string, unknown>) {
  const res = await as(ERIN)('PUT', `/models/${name}/policy`, { policy });
  if (res.status === 202) {
    for (const admin of [CAROL, DAN]) {
      const approved = await as(admin)(
        'POST',
        `/models/${name}/policy-requests/${res.body.policy_request.id}/approve`,
        {},
      );
      expect(approved.status).toBe(200);
      if (approved.body.policy_request.status === 'APPLIED') return;
    }
    throw new Error(`policy change request for ${name} was not applied`);
  }
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

/** A model owned by alice with one version per metrics object (v1, v2, …), under `policy`. */
async function newModel(what: string, versions: Record<string, number>[], policy?: Record<string, unknown>) {
  const name = uniqueName(what);
  expect((await as(ALICE)('POST', '/models', { name })).status).toBe(201);
  if (policy) await setPolicy(name, policy);
  for (const metrics of versions) {
    const res = await as(ALICE)('POST', `/models/${name}/versions`, {
      source: `s3://models/${name}`,
      metrics,
    });
    expect(res.status).toBe(201);
  }
  return name;
}

/** Files a stage transition that needs approval, and waits until it waits for one (or ended). */
async function requestStage(
  by: Client,
  name: string,
  version: number,
  stage = 'Production',
  archive = false,
) {
  const res = await by('POST', `/models/${name}/versions/${version}/stage`, {
    stage,
    archive_existing_versions: archive,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  await registry.settled();
  return res.body.transition_request as { id: string; [k: string]: any };
}

/** Files a move of a protected alias, and waits until it waits for approval (or ended). */
async function requestAlias(by: Client, name: string, alias: string, version: number) {
  const res = await by('PUT', `/models/${name}/aliases/${alias}`, { version });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  await registry.settled();
  return res.body.transition_request as { id: string; [k: string]: any };
}

async function approve(by: Client, name: string, id: string) {
  const res = await by('POST', `/models/${name}/transition-requests/${id}/approve`, {});
  await registry.settled();
  return res;
}

const requestOf = async (name: string, id: string) =>
  (await as(ALICE)('GET', `/models/${name}/transition-requests/${id}`)).body.transition_request;
const stageOf = async (name: string, version: number) =>
  (await as(ALICE)('GET', `/models/${name}/versions/${version}`)).body.model_version.current_stage;
const resolve = (name: string, ref: string) =>
  as(ALICE)('GET', `/resolve?uri=${encodeURIComponent(`models:/${name}${ref}`)}`);

/** The model's id (events and requests follow it through renames). */
async function modelIdOf(name: string): Promise<string> {
  const res = await as(ALICE)('GET', `/models/${name}/audit?max_results=1`);
  expect(res.status).toBe(200);
  return res.body.entries[0].model.id;
}

/** The events of a model (by id) on the local bus, as delivered. */
function busEvents(modelId: string, type?: string) {
  return registry.events
    .events()
    .filter((e) => e.detail.model?.id === modelId && (!type || e['detail-type'] === type));
}

/** Every audit entry of a model, oldest first. */
async function auditOf(name: string) {
  const entries: any[] = [];
  let token: string | undefined;
  do {
    const page = await as(ALICE)(
      'GET',
      `/models/${name}/audit?max_results=100${token ? `&page_token=${encodeURIComponent(token)}` : ''}`,
    );
    expect(page.status).toBe(200);
    entries.push(...page.body.entries);
    token = page.body.next_page_token;
  } while (token);
  return entries.reverse();
}

/** Did any change ever put `version` into Production? */
async function everInProduction(name: string, version: number) {
  return (await auditOf(name)).some(
    (e) =>
      e.event_type === 'ModelVersionStageChanged' &&
      e.version === version &&
      e.data.to_stage === 'Production',
  );
}

// ================================================================== 1

describe('1. Separation of duties compares people, not session names', () => {
  it('refuses the requester approving from a second session of the same role (403 PERMISSION_DENIED)', async () => {
    const name = await newModel('sod-session', [{}]);
    const pending = await requestStage(as(ENGINEER_1), name, 1);
    expect(pending.requester_person).toBe(ROLE_PERSON('MlEngineer'));

    const self = await approve(as(ENGINEER_2), name, pending.id);
    expect(self.status).toBe(403);
    expect(self.body.error_code).toBe('PERMISSION_DENIED');
    expect(self.body.message).toContain('separation of duties');
    expect((await requestOf(name, pending.id)).status).toBe('PENDING');
    expect(await stageOf(name, 1)).toBe('None');
  });

  it('refuses an Identity Center user approving their own request under another permission set', async () => {
    const name = await newModel('sod-sso', [{}]);
    const pending = await requestStage(as(identityCenterUser('alice@example.com', 'DataScientist')), name, 1);
    const self = await approve(
      as(identityCenterUser('Alice@Example.com', 'AdministratorAccess')),
      name,
      pending.id,
    );
    expect(self.status).toBe(403);
    expect(self.body.error_code).toBe('PERMISSION_DENIED');
    expect(await stageOf(name, 1)).toBe('None');
  });

  it('counts two sessions of one role as one approver: the second is refused', async () => {
    const name = await newModel('sod-two-sessions', [{}], { required_approvals: 2 });
    const pending = await requestStage(as(ALICE), name, 1);

    const first = await approve(as(MALLORY_1), name, pending.id);
    expect(first.status).toBe(200);
    expect(first.body.transition_request).toMatchObject({ status: 'PENDING', required_approvals: 2 });
    const second = await approve(as(MALLORY_2), name, pending.id);
    expect(second.status).toBe(409);
    expect(second.body.message).toContain('already approved');
    expect((await requestOf(name, pending.id)).approvals).toHaveLength(1);
    expect(await stageOf(name, 1)).toBe('None');

    expect((await approve(as(CAROL), name, pending.id)).body.transition_request.status).toBe('APPROVED');
    expect(await stageOf(name, 1)).toBe('Production');
  });

  it('counts every guest of a Cognito identity pool as one approver', async () => {
    const name = await newModel('sod-guests', [{}], { required_approvals: 2 });
    const pending = await requestStage(as(ALICE), name, 1);
    expect((await approve(as(cognitoGuest('eu-west-1:guest-1')), name, pending.id)).status).toBe(200);
    const again = await approve(as(cognitoGuest('eu-west-1:guest-2')), name, pending.id);
    expect(again.status).toBe(409);
    expect(again.body.message).toContain('already approved');
    expect(await stageOf(name, 1)).toBe('None');
  });

  it('lets the requester cancel from another session of the same role', async () => {
    const name = await newModel('sod-cancel', [{}]);
    const pending = await requestStage(as(ENGINEER_1), name, 1);
    const byOther = await as(BOB)('POST', `/models/${name}/transition-requests/${pending.id}/cancel`, {});
    expect(byOther.status).toBe(403);
    const cancelled = await as(ENGINEER_2)(
      'POST',
      `/models/${name}/transition-requests/${pending.id}/cancel`,
      {
        reason: 'filed from the wrong terminal',
      },
    );
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.transition_request.status).toBe('CANCELLED');
  });

  it('counts two Cognito users of one pool (one role, one session name) as two approvers', async () => {
    const name = await newModel('sod-cognito', [{}], { required_approvals: 2 });
    const pending = await requestStage(as(ALICE), name, 1);
    expect((await approve(as(COGNITO_1), name, pending.id)).body.transition_request.status).toBe('PENDING');
    const second = await approve(as(COGNITO_2), name, pending.id);
    expect(second.status).toBe(200);
    expect(await stageOf(name, 1)).toBe('Production');
    const applied = await requestOf(name, pending.id);
    expect(applied.status).toBe('APPLIED');
    expect(new Set(applied.approvals.map((a: any) => a.person)).size).toBe(2);
    expect(applied.approvals.map((a: any) => a.principal)).toEqual([COGNITO_1.userArn, COGNITO_2.userArn]);
  });
});

// ================================================================== 2

describe('2. A requester cannot change the policy that judges their own requests', () => {
  it('turns weakening the policy into a policy change request: a gate-failing version still never reaches Production', async () => {
    const name = await newModel('policy-weaken', [{ accuracy: 0.5 }], { quality_gates: ['accuracy >= 0.9'] });
    const attacker = as(ENGINEER_1);
    const policy = async () => (await attacker('GET', `/models/${name}/policy`)).body.effective;

    // Step 1 of the attack: unguard Production. Not applied: a request for other people.
    // PUT replaces the model's overrides: the attacker keeps the gates and drops the guard.
    const gates = ['accuracy >= 0.9'];
    const unguard = await attacker('PUT', `/models/${name}/policy`, {
      policy: { quality_gates: gates, guarded_stages: [] },
    });
    expect(unguard.status).toBe(202);
    expect(unguard.body.policy_request).toMatchObject({
      status: 'PENDING',
      weakenings: ['stage Production no longer guarded'],
      required_approvals: 1,
    });
    const mayApprove = await attacker('PUT', `/models/${name}/policy`, {
      policy: { requester_may_approve: true },
    });
    expect(mayApprove.status).toBe(202);
    const ungated = await attacker('PUT', `/models/${name}/policy`, { policy: { quality_gates: [] } });
    expect(ungated.status).toBe(202);
    expect(ungated.body.policy_request.weakenings).toEqual([
      "quality gate 'accuracy >= 0.9' removed or loosened",
    ]);
    expect(await policy()).toMatchObject({
      guarded_stages: ['Production'],
      requester_may_approve: false,
      quality_gates: ['accuracy >= 0.9'],
    });

    // Step 2: promote the failing version. Still a request, and the gates reject it.
    const promote = await attacker('POST', `/models/${name}/versions/1/stage`, { stage: 'Production' });
    expect(promote.status).toBe(202);
    await registry.settled();
    expect(await requestOf(name, promote.body.transition_request.id)).toMatchObject({
      status: 'REJECTED',
      reason: expect.stringContaining('accuracy = 0.5'),
    });

    // The requester cannot approve their own policy requests, from any session.
    for (const request of [unguard, mayApprove, ungated]) {
      for (const session of [ENGINEER_1, ENGINEER_2]) {
        const self = await as(session)(
          'POST',
          `/models/${name}/policy-requests/${request.body.policy_request.id}/approve`,
          {},
        );
        expect(self.status).toBe(403);
        expect(self.body.error_code).toBe('PERMISSION_DENIED');
      }
    }
    // Step 3, "restore the policy": there is nothing to restore.
    expect(await policy()).toMatchObject({
      guarded_stages: ['Production'],
      quality_gates: ['accuracy >= 0.9'],
    });
    expect(await stageOf(name, 1)).toBe('None');
    expect(await everInProduction(name, 1)).toBe(false);
  });

  it('does not let a weakening slip through by first turning policy approvals off', async () => {
    const name = await newModel('policy-meta', [{}]);
    const off = await as(ENGINEER_1)('PUT', `/models/${name}/policy`, {
      policy: { policy_changes_need_approval: false },
    });
    expect(off.status).toBe(202);
    expect(off.body.policy_request.weakenings).toEqual(['policy_changes_need_approval true → false']);
    const unguard = await as(ENGINEER_1)('PUT', `/models/${name}/policy`, { policy: { guarded_stages: [] } });
    expect(unguard.status).toBe(202);
  });

  it('judges an open request by the stricter policy: raising required_approvals after filing raises what it needs', async () => {
    const name = await newModel('policy-raise', [{}]);
    const pending = await requestStage(as(ALICE), name, 1);
    expect(pending.required_approvals).toBe(1);
    // Raising the bar is not a weakening: it applies at once, and to the open request.
    const raise = await as(ERIN)('PUT', `/models/${name}/policy`, { policy: { required_approvals: 3 } });
    expect(raise.status).toBe(200);
    expect((await requestOf(name, pending.id)).required_approvals).toBe(3);

    expect((await approve(as(BOB), name, pending.id)).body.transition_request.status).toBe('PENDING');
    expect((await approve(as(CAROL), name, pending.id)).body.transition_request.status).toBe('PENDING');
    expect(await stageOf(name, 1)).toBe('None');
    expect((await approve(as(DAN), name, pending.id)).body.transition_request.status).toBe('APPROVED');
    expect(await stageOf(name, 1)).toBe('Production');
  });

  it('keeps what an open request needs when the policy is lowered after it was filed', async () => {
    const name = await newModel('policy-lower', [{}], { required_approvals: 2 });
    const pending = await requestStage(as(ALICE), name, 1);
    await setPolicy(name, { required_approvals: 1 }); // a weakening, approved by two policy admins
    expect((await as(ALICE)('GET', `/models/${name}/policy`)).body.effective.required_approvals).toBe(1);
    expect((await requestOf(name, pending.id)).required_approvals).toBe(2);
    expect((await approve(as(BOB), name, pending.id)).body.transition_request.status).toBe('PENDING');
    expect(await stageOf(name, 1)).toBe('None');
  });

  it('serves policy changes on routes of their own audience (policy-admin), not the registrants’', () => {
    const policyRoutes = OPERATIONS.filter((o) => o.path.includes('/policy') && o.method !== 'GET');
    expect(policyRoutes.map((o) => o.operationId).sort()).toEqual([
      'approvePolicyChangeRequest',
      'cancelPolicyChangeRequest',
      'deleteGovernancePolicy',
      'rejectPolicyChangeRequest',
      'setGovernancePolicy',
    ]);
    for (const op of policyRoutes) expect(audienceOf(op), op.operationId).toBe('policy-admin');
  });
});

// ================================================================== 3

describe('3. Every path that changes what a model serves is governed', () => {
  it('files a request for a move of @champion: the gates reject a failing version and the alias still serves the earlier one', async () => {
    const name = await newModel('alias', [{ accuracy: 0.95 }, { accuracy: 0.5 }], {
      quality_gates: ['accuracy >= 0.9'],
    });
    // No champion yet: nothing resolves.
    const none = await resolve(name, '@champion');
    expect(none.status).toBe(400); // as MLflow answers an alias that does not exist
    expect(none.body.message).toContain('alias champion not found');

    const first = await requestAlias(as(ALICE), name, 'champion', 1);
    expect(first).toMatchObject({ kind: 'alias', alias: 'champion', previous_version: null });
    expect((await resolve(name, '@champion')).status).toBe(400); // not before approval
    expect((await approve(as(BOB), name, first.id)).status).toBe(200);
    expect((await resolve(name, '@champion')).body.model_version.version).toBe(1);

    // The attack: point @champion at the version that fails the gates.
    const attack = await requestAlias(as(ALICE), name, 'champion', 2);
    expect(await requestOf(name, attack.id)).toMatchObject({
      status: 'REJECTED',
      reason: expect.stringContaining('accuracy = 0.5'),
    });
    const served = await resolve(name, '@champion');
    expect(served.status).toBe(200);
    expect(served.body.model_version.version).toBe(1);

    // Through MLflow's route too: the same rule, answered in MLflow's terms.
    const mlflow = await as(ALICE)('POST', '/api/2.0/mlflow/registered-models/alias', {
      name,
      alias: 'champion',
      version: '2',
    });
    expect(mlflow.status).toBeGreaterThanOrEqual(400);
    expect(mlflow.body.message).toContain('@champion is a protected alias');
    await registry.settled();
    expect((await resolve(name, '@champion')).body.model_version.version).toBe(1);

    // Nor can it be removed outside a request.
    const removed = await as(ALICE)('DELETE', `/models/${name}/aliases/champion`);
    expect(removed.status).toBe(409);
    expect((await resolve(name, '@champion')).body.model_version.version).toBe(1);
  });

  it('files a request for an unguarded transition that would archive other versions into a guarded Archived stage', async () => {
    const name = await newModel('archive-side-effect', [{}, {}], {
      guarded_stages: ['Production', 'Archived'],
    });
    expect((await as(ALICE)('POST', `/models/${name}/versions/1/stage`, { stage: 'Staging' })).status).toBe(
      200,
    );
    // Staging is not guarded, but archiving v1 moves it into Archived, which is.
    const pending = await requestStage(as(ALICE), name, 2, 'Staging', true);
    expect(pending).toMatchObject({ to_stage: 'Staging', archive_existing_versions: true });
    expect(await stageOf(name, 1)).toBe('Staging');
    expect((await approve(as(BOB), name, pending.id)).status).toBe(200);
    expect(await stageOf(name, 2)).toBe('Staging');
    expect(await stageOf(name, 1)).toBe('Archived');
    const archived = (await auditOf(name)).find(
      (e) => e.event_type === 'ModelVersionStageChanged' && e.version === 1 && e.data.to_stage === 'Archived',
    );
    expect(archived.data).toMatchObject({ request_id: pending.id, approved_by: [BOB.userArn] });
    // Without other versions to archive, the same transition applies at once.
    expect((await as(ALICE)('POST', `/models/${name}/versions/2/stage`, { stage: 'None' })).status).toBe(200);
    const alone = await as(ALICE)('POST', `/models/${name}/versions/2/stage`, {
      stage: 'Staging',
      archive_existing_versions: true,
    });
    expect(alone.status).toBe(200);
  });

  it('refuses a rollback to a version that fails today’s gates (409), and leaves Production as it is', async () => {
    const name = await newModel('rollback', [{ accuracy: 0.91 }, { accuracy: 0.97 }], {
      quality_gates: ['accuracy >= 0.9'],
    });
    for (const v of [1, 2]) {
      const pending = await requestStage(as(ALICE), name, v, 'Production', true);
      expect((await approve(as(BOB), name, pending.id)).status).toBe(200);
    }
    expect(await stageOf(name, 2)).toBe('Production');
    await setPolicy(name, { quality_gates: ['accuracy >= 0.95'] }); // v1 fails today's gates

    const rollback = await as(CAROL)('POST', `/models/${name}/rollback`, { comment: 'latency regression' });
    expect(rollback.status).toBe(409);
    expect(rollback.body.message).toContain("fails today's quality gates");
    expect(await stageOf(name, 2)).toBe('Production');
    expect(await stageOf(name, 1)).toBe('Archived');
  });

  it('serves rollback on its own route, for operators only', () => {
    const routes = ALL_OPERATIONS.filter((o) => o.path.endsWith('/rollback'));
    expect(routes.map((o) => `${o.method} ${o.path} ${o.operationId}`)).toEqual([
      'POST /models/{name}/rollback rollbackProduction',
    ]);
    expect(audienceOf(routes[0]!)).toBe('operator');
  });
});

// ================================================================== 4

describe('4. An approved request is always applied or visibly failed', () => {
  it('applies a request whose workflow could not be resumed, through the reconciler', async () => {
    const name = await newModel('resume-lost', [{}]);
    const id = await modelIdOf(name);
    const pending = await requestStage(as(ALICE), name, 1);
    faults.failResume = true;
    try {
      const approved = await approve(as(BOB), name, pending.id);
      expect(approved.status).toBe(200);
      expect(approved.body.transition_request.status).toBe('APPROVED');
    } finally {
      faults.failResume = false;
    }
    expect(await stageOf(name, 1)).toBe('None'); // the resume was lost

    await pastReconcileBound();
    await registry.reconcile();
    await registry.settled();
    expect(await stageOf(name, 1)).toBe('Production');
    expect((await requestOf(name, pending.id)).status).toBe('APPLIED');
    const changes = busEvents(id, 'ModelVersionStageChanged');
    expect(changes).toHaveLength(1);
    expect(changes[0]!.detail.data).toMatchObject({
      to_stage: 'Production',
      request_id: pending.id,
      approved_by: [BOB.userArn],
    });
  });

  it('applies, at the next start, a request approved just before the registry stopped', async () => {
    // A registry process stops: its executions and waiting tasks are gone, its data (the table on
    // the engine, the event log and the outbox checkpoint in its data directory) stays.
    const dataDir = await mkdtemp(join(tmpdir(), 'registry-restart-'));
    const onDisk: Partial<LocalRegistryOptions> = {
      ...GOVERNED,
      dataDir,
      tableName: `restart-${Date.now()}`,
    };
    let own: LocalRegistry | undefined = await localRegistry(onDisk);
    try {
      const call = (identity: GatewayIdentity) => clientAs(own!.url, identity);
      expect((await call(ALICE)('POST', '/models', { name: 'restarted' })).status).toBe(201);
      expect((await call(ALICE)('POST', '/models/restarted/versions', { source: 's3://m/r' })).status).toBe(
        201,
      );
      const filed = await call(ALICE)('POST', '/models/restarted/versions/1/stage', { stage: 'Production' });
      expect(filed.status).toBe(202);
      await own.settled();
      faults.failResume = true;
      const approved = await call(BOB)(
        'POST',
        `/models/restarted/transition-requests/${filed.body.transition_request.id}/approve`,
        {},
      );
      faults.failResume = false;
      expect(approved.body.transition_request.status).toBe('APPROVED');
      await own.stop();
      own = undefined;

      own = await localRegistry(onDisk);
      await own.settled();
      const version = (await call(ALICE)('GET', '/models/restarted/versions/1')).body.model_version;
      expect(version.current_stage).toBe('Production');
      const request = (
        await call(ALICE)('GET', `/models/restarted/transition-requests/${filed.body.transition_request.id}`)
      ).body.transition_request;
      expect(request.status).toBe('APPLIED');
      const audit = (await call(ALICE)('GET', '/models/restarted/audit?version=1')).body.entries;
      expect(audit.filter((e: any) => e.event_type === 'ModelVersionStageChanged')).toEqual([
        expect.objectContaining({ data: expect.objectContaining({ request_id: request.id }) }),
      ]);
    } finally {
      faults.failResume = false;
      await own?.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('applies an approved request whose approval task times out before the resume lands, instead of expiring it', async () => {
    // A shorter request lifetime is not a weakening: it applies at once.
    const name = await newModel('expiry', [{}], { request_ttl_hours: 3 / 3600 });
    const id = await modelIdOf(name);
    const pending = await requestStage(as(ALICE), name, 1);
    faults.failResume = true;
    try {
      expect((await approve(as(BOB), name, pending.id)).body.transition_request.status).toBe('APPROVED');
    } finally {
      faults.failResume = false;
    }
    await sleep(Math.max(0, pending.expiration_timestamp - Date.now()) + 700);
    await registry.settled();
    expect((await requestOf(name, pending.id)).status).toBe('APPLIED');
    expect(await stageOf(name, 1)).toBe('Production');
    expect(busEvents(id, 'TransitionExpired')).toEqual([]);
    expect(busEvents(id, 'ModelVersionStageChanged')[0]!.detail.data.request_id).toBe(pending.id);
  });

  it('checks an approved request again when its timed-out approval task applies it, and ends it FAILED quietly', async () => {
    const ttl = { request_ttl_hours: 3 / 3600 };
    const name = await newModel('expiry-recheck', [{ accuracy: 0.95 }], {
      ...ttl,
      quality_gates: ['accuracy >= 0.9'],
    });
    const pending = await requestStage(as(ALICE), name, 1);
    faults.failResume = true;
    try {
      expect((await approve(as(BOB), name, pending.id)).body.transition_request.status).toBe('APPROVED');
    } finally {
      faults.failResume = false;
    }
    await setPolicy(name, { ...ttl, quality_gates: ['accuracy >= 0.99'] });
    const errors = vi.spyOn(console, 'error');
    try {
      await sleep(Math.max(0, pending.expiration_timestamp - Date.now()) + 700);
      await registry.settled();
      expect(await requestOf(name, pending.id)).toMatchObject({
        status: 'FAILED',
        reason: expect.stringContaining('quality gates fail: accuracy = 0.95 (needs accuracy >= 0.99)'),
      });
      expect(await stageOf(name, 1)).toBe('None');
      // The state machine ends in Failed, as designed: the request says why; nothing is logged as an error.
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
  });

  it('runs one execution per request however often TransitionRequested is delivered, and applies it once', async () => {
    const name = await newModel('duplicate', [{}]);
    const id = await modelIdOf(name);
    const pending = await requestStage(as(ALICE), name, 1);
    const requested = busEvents(id, 'TransitionRequested');
    expect(requested).toHaveLength(1);
    const redeliver = () =>
      registry.events.publish([{ type: 'TransitionRequested', detail: requested[0]!.detail }]);

    await redeliver();
    await redeliver();
    await registry.settled();
    expect(starts.filter((s) => s.requestId === pending.id).map((s) => s.outcome)).toEqual([
      'started',
      'exists',
      'exists',
    ]);
    expect(busEvents(id, 'ApprovalRequested')).toHaveLength(1);

    // The approval resumes the one execution there is: applied at once, no reconciler needed.
    expect((await approve(as(BOB), name, pending.id)).status).toBe(200);
    expect(await stageOf(name, 1)).toBe('Production');
    await redeliver();
    await registry.settled();
    expect(busEvents(id, 'ModelVersionStageChanged')).toHaveLength(1);
    expect(busEvents(id, 'ApprovalRequested')).toHaveLength(1);
  });

  it('follows a rename: a request filed before it is approved and applied under the new name', async () => {
    const name = await newModel('rename', [{}]);
    const id = await modelIdOf(name);
    const pending = await requestStage(as(ALICE), name, 1);
    const renamed = `${name}-renamed`;
    expect((await as(ALICE)('POST', `/models/${name}/rename`, { new_name: renamed })).status).toBe(200);

    expect((await approve(as(BOB), name, pending.id)).status).toBe(404); // the old name is gone
    expect((await requestOf(renamed, pending.id)).name).toBe(renamed);
    expect((await approve(as(BOB), renamed, pending.id)).status).toBe(200);
    expect(await stageOf(renamed, 1)).toBe('Production');
    expect((await requestOf(renamed, pending.id)).status).toBe('APPLIED');
    const [change] = busEvents(id, 'ModelVersionStageChanged');
    expect(change!.detail.model?.name).toBe(renamed);
    expect(change!.detail.data.request_id).toBe(pending.id);
  });

  it('cancels the open requests of a version that is archived, with the reason, and refuses their approval (409)', async () => {
    const name = await newModel('archive', [{}]);
    const id = await modelIdOf(name);
    const pending = await requestStage(as(ALICE), name, 1);
    const archived = await as(ALICE)('POST', `/models/${name}/versions/1/stage`, { stage: 'Archived' });
    expect(archived.status).toBe(200);
    const cancelled = await requestOf(name, pending.id);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.reason).toContain('moved to Archived');
    await registry.settled();
    expect(busEvents(id, 'TransitionCancelled').map((e) => e.detail.data)).toEqual([
      expect.objectContaining({ request_id: pending.id, reason: cancelled.reason }),
    ]);
    const late = await approve(as(BOB), name, pending.id);
    expect(late.status).toBe(409);
    expect(await stageOf(name, 1)).toBe('Archived');
  });

  it('cancels the open requests of a version that moves to another stage', async () => {
    const name = await newModel('move', [{}]);
    const pending = await requestStage(as(ALICE), name, 1); // None → Production
    expect((await as(ALICE)('POST', `/models/${name}/versions/1/stage`, { stage: 'Staging' })).status).toBe(
      200,
    );
    expect((await requestOf(name, pending.id)).status).toBe('CANCELLED');
    expect((await approve(as(BOB), name, pending.id)).status).toBe(409);
    expect(await stageOf(name, 1)).toBe('Staging');
  });

  it('cancels the open requests of a deleted version, with the reason, and refuses their approval (409)', async () => {
    const name = await newModel('delete-version', [{}, {}]);
    const id = await modelIdOf(name);
    const stage = await requestStage(as(ALICE), name, 1);
    const alias = await requestAlias(as(ALICE), name, 'champion', 1);
    expect((await as(ALICE)('DELETE', `/models/${name}/versions/1`)).status).toBe(200);
    for (const request of [stage, alias]) {
      expect(await requestOf(name, request.id)).toMatchObject({
        status: 'CANCELLED',
        reason: 'Version 1 was deleted.',
      });
      expect((await approve(as(BOB), name, request.id)).status).toBe(409);
    }
    await registry.settled();
    expect(
      busEvents(id, 'TransitionCancelled')
        .map((e) => e.detail.data.request_id)
        .sort(),
    ).toEqual([stage.id, alias.id].sort());
    expect(busEvents(id, 'TransitionFailed')).toEqual([]);
  });

  it('cancels the open requests of a deleted model', async () => {
    const name = await newModel('delete-model', [{}]);
    const id = await modelIdOf(name);
    const pending = await requestStage(as(ALICE), name, 1);
    expect((await as(ALICE)('DELETE', `/models/${name}`)).status).toBe(200);
    await registry.settled();
    expect(busEvents(id, 'TransitionCancelled').map((e) => e.detail.data)).toEqual([
      expect.objectContaining({ request_id: pending.id, reason: `Registered Model ${name} was deleted.` }),
    ]);
    expect((await approve(as(BOB), name, pending.id)).status).toBe(404);
  });

  it('fails, with the reason, an approved request whose gates were tightened before it applied', async () => {
    const name = await newModel('recheck-gates', [{ accuracy: 0.95 }], {
      quality_gates: ['accuracy >= 0.9'],
    });
    const id = await modelIdOf(name);
    const pending = await requestStage(as(ALICE), name, 1);
    faults.failResume = true;
    try {
      expect((await approve(as(BOB), name, pending.id)).body.transition_request.status).toBe('APPROVED');
    } finally {
      faults.failResume = false;
    }
    await setPolicy(name, { quality_gates: ['accuracy >= 0.99'] });
    await pastReconcileBound();
    await registry.reconcile();
    await registry.settled();
    const failed = await requestOf(name, pending.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.reason).toContain('quality gates fail: accuracy = 0.95 (needs accuracy >= 0.99)');
    expect(await stageOf(name, 1)).toBe('None');
    expect(busEvents(id, 'TransitionFailed').map((e) => e.detail.data.reason)).toEqual([failed.reason]);
  });

  it('fails an approved request when the policy now needs more approvals than it has', async () => {
    const name = await newModel('recheck-approvals', [{}]);
    const pending = await requestStage(as(ALICE), name, 1);
    faults.failResume = true;
    try {
      expect((await approve(as(BOB), name, pending.id)).body.transition_request.status).toBe('APPROVED');
    } finally {
      faults.failResume = false;
    }
    await setPolicy(name, { required_approvals: 2 });
    await pastReconcileBound();
    await registry.reconcile();
    await registry.settled();
    expect(await requestOf(name, pending.id)).toMatchObject({
      status: 'FAILED',
      reason: expect.stringContaining('the policy now needs 2 approvals and the request has 1'),
    });
    expect(await stageOf(name, 1)).toBe('None');
  });

  it('fails an approved alias move when the alias moved after the request was filed', async () => {
    const name = await newModel('recheck-alias', [{}, {}]);
    const pending = await requestAlias(as(ALICE), name, 'champion', 1);
    faults.failResume = true;
    try {
      expect((await approve(as(BOB), name, pending.id)).body.transition_request.status).toBe('APPROVED');
    } finally {
      faults.failResume = false;
    }
    const moved = await as(CAROL)('PUT', `/break-glass/models/${name}/aliases/champion`, {
      version: 2,
      reason: 'incident 7',
    });
    expect(moved.status).toBe(200);
    await pastReconcileBound();
    await registry.reconcile();
    await registry.settled();
    expect(await requestOf(name, pending.id)).toMatchObject({
      status: 'FAILED',
      reason: expect.stringContaining('@champion moved from nothing to 2'),
    });
    expect((await resolve(name, '@champion')).body.model_version.version).toBe(2);
  });
});

// ================================================================== 5

describe('5. Quality gates and policies are validated input', () => {
  it('answers a 6,000-character gate with 400 promptly, while other requests are answered meanwhile', async () => {
    const name = await newModel('dos', [{}]);
    const gate = `${'a'.repeat(3000)}${' '.repeat(2999)}>`;
    const timed = async <T>(work: Promise<T>) => {
      const started = Date.now();
      const result = await work;
      return { result, ms: Date.now() - started };
    };
    const [one, many, other] = await Promise.all([
      timed(as(ERIN)('PUT', `/models/${name}/policy`, { policy: { quality_gates: [gate] } })),
      timed(as(ERIN)('PUT', `/models/${name}/policy`, { policy: { quality_gates: Array(40).fill(gate) } })),
      timed(as(ALICE)('GET', `/models/${name}`)),
    ]);
    expect(one.result.status).toBe(400);
    expect(one.result.body.message).toContain('at most 300 characters');
    expect(many.result.status).toBe(400);
    expect(other.result.status).toBe(200);
    // A backtracking parser took 8 s on one such gate and stalled every route meanwhile.
    for (const { ms } of [one, many, other]) expect(ms).toBeLessThan(2_000);
  });

  it.each([
    ['__proto__', '{"policy": {"__proto__": {"guarded_stages": []}}}', "unknown field '__proto__'"],
    [
      'constructor',
      '{"policy": {"constructor": {"prototype": {"guarded_stages": []}}}}',
      "unknown field 'constructor'",
    ],
    ['null', '{"policy": null}', 'policy must be an object'],
    ['an empty object', '{"policy": {}}', 'policy is empty'],
    ['an array', '{"policy": [{"guarded_stages": []}]}', 'policy must be an object'],
    ['a wrong type', '{"policy": {"required_approvals": "0"}}', 'policy.required_approvals'],
    ['an out-of-range value', '{"policy": {"required_approvals": 0}}', 'policy.required_approvals'],
  ])('refuses %s as a policy with 400 naming it, and changes nothing', async (_what, body, message) => {
    const name = await newModel('bad-policy', [{}]);
    await registry.settled();
    const before = await tableSnapshot(documentClient(), registry.tableName);
    const res = await as(ERIN)('PUT', `/models/${name}/policy`, body);
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(res.body.message).toContain(message);
    expect(await tableSnapshot(documentClient(), registry.tableName)).toEqual(before);
    expect((await as(ALICE)('GET', `/models/${name}/policy`)).body.effective.guarded_stages).toEqual([
      'Production',
    ]);
  });
});

// ================================================================== break glass

describe('Break glass bypasses approval only on its own routes, with a reason, on the record', () => {
  it('applies a break-glass transition at once, needs a reason, and records break_glass: true', async () => {
    const name = await newModel('break-glass', [{ accuracy: 0.2 }], { quality_gates: ['accuracy >= 0.9'] });
    const id = await modelIdOf(name);
    const pending = await requestStage(as(ALICE), name, 1);
    expect((await requestOf(name, pending.id)).status).toBe('REJECTED');
    const route = `/break-glass/models/${name}/versions/1/stage`;

    for (const body of [{ stage: 'Production' }, { stage: 'Production', reason: '' }]) {
      const refused = await as(CAROL)('POST', route, body);
      expect(refused.status).toBe(400);
    }
    const blank = await as(CAROL)('POST', route, { stage: 'Production', reason: '   ' });
    expect(blank.status).toBe(400);
    expect(blank.body.message).toContain('needs a reason');
    expect(await stageOf(name, 1)).toBe('None');

    const res = await as(CAROL)('POST', route, { stage: 'Production', reason: 'incident 42: v0 leaks PII' });
    expect(res.status).toBe(200);
    expect(res.body.model_version.current_stage).toBe('Production');
    await registry.settled();
    expect(busEvents(id, 'ModelVersionStageChanged').map((e) => e.detail.data)).toEqual([
      expect.objectContaining({
        to_stage: 'Production',
        break_glass: true,
        break_glass_reason: 'incident 42: v0 leaks PII',
      }),
    ]);
    const [entry] = (await auditOf(name)).filter((e) => e.event_type === 'ModelVersionStageChanged');
    expect(entry).toMatchObject({
      actor: CAROL.userArn,
      data: expect.objectContaining({ break_glass: true }),
    });
  });

  it('puts every break-glass route under /break-glass, for the break-glass audience only', () => {
    const bypass = ALL_OPERATIONS.filter((o) => audienceOf(o) === 'break-glass');
    expect(bypass.length).toBeGreaterThanOrEqual(5);
    for (const op of bypass) expect(op.path, op.operationId).toMatch(/^\/break-glass\//);
    for (const op of ALL_OPERATIONS.filter((o) => o.path.startsWith('/break-glass/'))) {
      expect(audienceOf(op), op.operationId).toBe('break-glass');
    }
  });
});

// ================================================================== 6

describe('6. A deployed caller is who API Gateway authenticated, whatever the request says', () => {
  it('ignores X-Local-Identity in a deployed handler: identity comes from requestContext only', async () => {
    const handler = buildApiHandler('write', registry.env, { validateResponses: true });
    const name = uniqueName('forged');
    const event = {
      resource: '/models',
      path: '/models',
      httpMethod: 'POST',
      headers: { 'content-type': 'application/json', 'X-Local-Identity': JSON.stringify(BOB) },
      multiValueHeaders: {
        'content-type': ['application/json'],
        'X-Local-Identity': [JSON.stringify(BOB)],
      },
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      body: JSON.stringify({ name }),
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'abc123',
        httpMethod: 'POST',
        path: '/prod/models',
        protocol: 'HTTP/1.1',
        stage: 'prod',
        requestId: 'forged-identity-test',
        requestTimeEpoch: Date.now(),
        resourceId: 'r1',
        resourcePath: '/models',
        authorizer: undefined,
        identity: {
          ...ALICE,
          apiKey: null,
          apiKeyId: null,
          clientCert: null,
          principalOrgId: null,
          sourceIp: '192.0.2.1',
          userAgent: 'attacker',
        },
      },
    } as unknown as APIGatewayProxyEvent;
    const res = await handler(event, lambdaContext('write'));
    expect(res.statusCode).toBe(201);
    expect(JSON.parse(res.body).registered_model.created_by).toBe(ALICE.userArn);
    await registry.settled();
    const [created] = (await auditOf(name)).filter((e) => e.event_type === 'RegisteredModelCreated');
    expect(created).toMatchObject({ actor: ALICE.userArn, person: ALICE.userArn });
  });
});
