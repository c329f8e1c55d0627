/**
 * Governed promotion on the local engines: transition requests, quality gates, the approval state
 * machine (the deployed definition, run by aws-local-stepfunctions), separation of duties,
 * expiry, cancel, rollback, protected deletes, the audit log and the events, in order.
 */

import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_OPERATIONS } from '../../functions/api/routes';
import type { LocalRegistry } from '../../local/registry';
import { apiClient, documentClient, localRegistry, tableSnapshot } from '../support/engines';

let registry: LocalRegistry;
let alice: ReturnType<typeof apiClient>;
let bob: ReturnType<typeof apiClient>;
let carol: ReturnType<typeof apiClient>;
const ALICE = 'arn:aws:iam::000000000000:user/AKIAALICE';
const BOB = 'arn:aws:iam::000000000000:user/AKIABOB';

beforeAll(async () => {
  registry = await localRegistry(); // the default policy: Production guarded, 1 approver, not the requester
  alice = apiClient(registry.url, 'AKIAALICE');
  bob = apiClient(registry.url, 'AKIABOB');
  carol = apiClient(registry.url, 'AKIACAROL');
});
afterAll(async () => {
  await registry?.stop();
});

let n = 0;
const uniqueName = () => `governed-${++n}`;

async function modelWithVersions(
  name: string,
  metrics: Record<string, number>[],
  policy?: Record<string, unknown>,
) {
  expect((await alice('POST', '/models', { name })).status).toBe(201);
  if (policy) await setPolicy(name, policy);
  for (const m of metrics) {
    expect(
      (await alice('POST', `/models/${name}/versions`, { source: `s3://b/${name}`, metrics: m })).status,
    ).toBe(201);
  }
}

/** Sets a model's policy; a weakening change is approved by another policy admin (carol). */
async function setPolicy(name: string, policy: Record<string, unknown>) {
  const res = await alice('PUT', `/models/${name}/policy`, { policy });
  if (res.status === 202) {
    const id = res.body.policy_request.id;
    const approved = await carol('POST', `/models/${name}/policy-requests/${id}/approve`, {});
    expect(approved.status).toBe(200);
    expect(approved.body.policy_request.status).toBe('APPLIED');
  } else {
    expect(res.status).toBe(200);
  }
}

async function request(name: string, version: number, stage = 'Production', archive = false) {
  const res = await alice('POST', `/models/${name}/versions/${version}/stage`, {
    stage,
    archive_existing_versions: archive,
    comment: 'ship it',
  });
  expect(res.status).toBe(202);
  await registry.settled();
  return res.body.transition_request;
}

const getRequest = async (name: string, id: string) =>
  (await alice('GET', `/models/${name}/transition-requests/${id}`)).body.transition_request;
const stageOf = async (name: string, version: number) =>
  (await alice('GET', `/models/${name}/versions/${version}`)).body.model_version.current_stage;
const eventsOf = (name: string) =>
  registry.events
    .events()
    .filter((e) => e.detail.model?.name === name)
    .map((e) => `${e['detail-type']}${e.detail.version !== undefined ? ` v${e.detail.version}` : ''}`);

async function approveAs(who: ReturnType<typeof apiClient>, name: string, id: string, comment?: string) {
  const res = await who(
    'POST',
    `/models/${name}/transition-requests/${id}/approve`,
    comment ? { comment } : {},
  );
  await registry.settled();
  return res;
}

describe('a transition into a guarded stage', () => {
  it('is rejected by failing quality gates, with the failing metrics in the reason and a tag', async () => {
    const name = uniqueName();
    await modelWithVersions(name, [{ accuracy: 0.85, f1: 0.9 }], {
      quality_gates: ['accuracy >= 0.9', 'f1 >= 0.88'],
    });
    const pending = await request(name, 1);
    expect(pending).toMatchObject({ status: 'PENDING', requester: ALICE, to_stage: 'Production' });
    const settled = await getRequest(name, pending.id);
    expect(settled.status).toBe('REJECTED');
    expect(settled.reason).toBe('Quality gates failed: accuracy = 0.85 (needs accuracy >= 0.9)');
    const version = (await alice('GET', `/models/${name}/versions/1`)).body.model_version;
    expect(version.current_stage).toBe('None');
    expect(version.tags.quality_gate).toBe('failed: accuracy = 0.85 (needs accuracy >= 0.9)');
    expect(eventsOf(name)).toEqual(
      expect.arrayContaining(['TransitionRequested v1', 'TransitionRejected v1']),
    );
    expect(eventsOf(name)).not.toContain('ApprovalRequested v1');
  });

  it('waits for an approver other than the requester, then applies and archives, with events in order', async () => {
    const name = uniqueName();
    await modelWithVersions(name, [{ accuracy: 0.95 }, { accuracy: 0.97 }], {
      quality_gates: ['accuracy >= 0.9'],
    });
    const first = await request(name, 1);
    expect((await getRequest(name, first.id)).awaiting_approval).toBe(true);
    expect((await approveAs(bob, name, first.id)).status).toBe(200);
    expect(await stageOf(name, 1)).toBe('Production');

    const second = await request(name, 2, 'Production', true);
    expect(await stageOf(name, 2)).toBe('None'); // nothing applied before approval
    const self = await approveAs(alice, name, second.id);
    expect(self.status).toBe(403);
    expect(self.body.error_code).toBe('PERMISSION_DENIED');
    expect(self.body.message).toContain('separation of duties');
    const approved = await approveAs(bob, name, second.id, 'metrics look good');
    expect(approved.status).toBe(200);
    expect(approved.body.transition_request.approvals).toEqual([
      expect.objectContaining({ principal: BOB, comment: 'metrics look good' }),
    ]);
    expect(await stageOf(name, 2)).toBe('Production');
    expect(await stageOf(name, 1)).toBe('Archived');
    expect((await getRequest(name, second.id)).status).toBe('APPLIED');

    const events = eventsOf(name);
    const tail = events.slice(events.lastIndexOf('TransitionRequested v2'));
    expect(tail).toEqual([
      'TransitionRequested v2',
      'ApprovalRequested v2',
      'TransitionApproved v2',
      'ModelVersionStageChanged v2',
      'ModelVersionStageChanged v1',
    ]);
    const changed = registry.events
      .events()
      .find(
        (e) =>
          e.detail.model?.name === name &&
          e['detail-type'] === 'ModelVersionStageChanged' &&
          e.detail.version === 2,
      )!;
    expect(changed.detail.data).toMatchObject({
      from_stage: 'None',
      to_stage: 'Production',
      archived_versions: [1],
      request_id: second.id,
      approved_by: [BOB],
    });
    expect(changed.detail.actor).toBe(ALICE);
  });

  it('needs the configured number of distinct approvers', async () => {
    const name = uniqueName();
    await modelWithVersions(name, [{}], { required_approvals: 2 });
    const pending = await request(name, 1);
    expect((await approveAs(bob, name, pending.id)).body.transition_request.status).toBe('PENDING');
    const twice = await approveAs(bob, name, pending.id);
    expect(twice.status).toBe(409);
    expect(twice.body.message).toContain('2 distinct approvers');
    expect(await stageOf(name, 1)).toBe('None');
    expect((await approveAs(carol, name, pending.id)).status).toBe(200);
    expect(await stageOf(name, 1)).toBe('Production');
  });

  it('lets the requester approve only when the policy says so', async () => {
    const name = uniqueName();
    await modelWithVersions(name, [{}], { requester_may_approve: true });
    const pending = await request(name, 1);
    expect((await approveAs(alice, name, pending.id)).status).toBe(200);
    expect(await stageOf(name, 1)).toBe('Production');
  });

  it('expires when nobody decides in time', async () => {
    const name = uniqueName();
    await modelWithVersions(name, [{}], { request_ttl_hours: 1.5 / 3600 });
    const pending = await request(name, 1);
    await new Promise((r) => setTimeout(r, 2500));
    await registry.settled();
    const expired = await getRequest(name, pending.id);
    expect(expired.status).toBe('EXPIRED');
    expect(eventsOf(name)).toContain('TransitionExpired v1');
    expect((await approveAs(bob, name, pending.id)).status).toBe(409);
    expect(await stageOf(name, 1)).toBe('None');
  });

  it('can be cancelled by its requester only, and is rejected with a reason', async () => {
    const name = uniqueName();
    await modelWithVersions(name, [{}, {}]);
    const first = await request(name, 1);
    const byOther = await bob('POST', `/models/${name}/transition-requests/${first.id}/cancel`, {});
    expect(byOther.status).toBe(403);
    const cancelled = await alice('POST', `/models/${name}/transition-requests/${first.id}/cancel`, {
      reason: 'wrong version',
    });
    expect(cancelled.body.transition_request.status).toBe('CANCELLED');
    await registry.settled();
    expect((await approveAs(bob, name, first.id)).status).toBe(409);

    const second = await request(name, 2);
    const noReason = await bob('POST', `/models/${name}/transition-requests/${second.id}/reject`, {
      reason: '',
    });
    expect(noReason.status).toBe(400);
    const rejected = await bob('POST', `/models/${name}/transition-requests/${second.id}/reject`, {
      reason: 'bias check missing',
    });
    expect(rejected.body.transition_request).toMatchObject({
      status: 'REJECTED',
      reason: 'bias check missing',
    });
    await registry.settled();
    expect(await stageOf(name, 1)).toBe('None');
    expect(await stageOf(name, 2)).toBe('None');
    expect(eventsOf(name)).toEqual(
      expect.arrayContaining(['TransitionCancelled v1', 'TransitionRejected v2']),
    );
    const list = await alice('GET', `/models/${name}/transition-requests?status=REJECTED`);
    expect(list.body.transition_requests.map((r: any) => r.id)).toEqual([second.id]);
  });

  it('refuses a second open request for the same version and stage', async () => {
    const name = uniqueName();
    await modelWithVersions(name, [{}]);
    const first = await request(name, 1);
    const again = await alice('POST', `/models/${name}/versions/1/stage`, { stage: 'production' });
    expect(again.status).toBe(409);
    expect(again.body.message).toContain(first.id);
  });
});

describe('rollback, protected deletes and the audit log', () => {
  it('rolls Production back to the previous version at once, archiving the current one, audited', async () => {
    const name = uniqueName();
    await modelWithVersions(name, [{}, {}, {}]);
    for (const v of [1, 2]) {
      const pending = await request(name, v, 'Production', true);
      await approveAs(bob, name, pending.id);
    }
    expect(await stageOf(name, 2)).toBe('Production');
    const before = Date.now();
    const rolled = await carol('POST', `/models/${name}/rollback`, { comment: 'latency regression' });
    expect(rolled.status).toBe(200);
    expect(rolled.body.model_version).toMatchObject({ version: 1, current_stage: 'Production' });
    expect(await stageOf(name, 2)).toBe('Archived');
    await registry.settled();
    const audit = (await alice('GET', `/models/${name}/audit?version=1&max_results=5`)).body.entries;
    expect(audit[0]).toMatchObject({
      event_type: 'ModelVersionStageChanged',
      actor: 'arn:aws:iam::000000000000:user/AKIACAROL',
      reason: 'latency regression',
      data: expect.objectContaining({ rollback: true, from_stage: 'Archived', to_stage: 'Production' }),
    });
    // Which version was in Production just before the rollback, and now?
    const at = async (t: number) =>
      (await alice('GET', `/models/${name}/stage-history?stage=Production&at=${t}`)).body.versions;
    expect(await at(before)).toEqual([2]);
    expect(await at(Date.now())).toEqual([1]);
    expect(await at(0)).toEqual([]);
  });

  it('answers who approved the version in Production, newest first, paginated', async () => {
    const name = uniqueName();
    await modelWithVersions(name, [{}]);
    const pending = await request(name, 1);
    await approveAs(bob, name, pending.id, 'LGTM');
    const page1 = await alice('GET', `/models/${name}/audit?version=1&max_results=2`);
    expect(page1.body.entries).toHaveLength(2);
    expect(page1.body.next_page_token).toBeTruthy();
    const all = [...page1.body.entries];
    let token = page1.body.next_page_token;
    while (token) {
      const page = await alice(
        'GET',
        `/models/${name}/audit?version=1&max_results=2&page_token=${encodeURIComponent(token)}`,
      );
      all.push(...page.body.entries);
      token = page.body.next_page_token;
    }
    const timestamps = all.map((e: any) => e.timestamp);
    expect(timestamps).toEqual([...timestamps].sort((a, b) => b - a));
    const approval = all.find((e: any) => e.event_type === 'TransitionApproved');
    expect(approval).toMatchObject({
      actor: BOB,
      reason: 'LGTM',
      data: expect.objectContaining({ request_id: pending.id }),
    });
    expect(all.map((e: any) => e.event_type)).toEqual(
      expect.arrayContaining([
        'ModelVersionCreated',
        'TransitionRequested',
        'ApprovalRequested',
        'ModelVersionStageChanged',
      ]),
    );
  });

  it('refuses to delete a version in Production, or with an alias, and its model', async () => {
    const name = uniqueName();
    await modelWithVersions(name, [{}, {}]);
    const pending = await request(name, 1);
    await approveAs(bob, name, pending.id);
    const del = await alice('DELETE', `/models/${name}/versions/1`);
    expect(del.status).toBe(409);
    expect(del.body.message).toContain('is in Production');
    await alice('PUT', `/models/${name}/aliases/challenger`, { version: 2 });
    const aliased = await alice('DELETE', `/models/${name}/versions/2`);
    expect(aliased.status).toBe(409);
    expect(aliased.body.message).toContain('@challenger');
    expect((await alice('DELETE', `/models/${name}`)).status).toBe(409);
    expect((await alice('GET', `/models/${name}/versions/1`)).status).toBe(200);
  });

  it('behaves as MLflow with every guard off: transitions apply at once and still emit events', async () => {
    const name = uniqueName();
    await modelWithVersions(name, [{}, {}], { guarded_stages: [], protect_live_versions: false });
    const res = await alice('POST', `/models/${name}/versions/1/stage`, { stage: 'Production' });
    expect(res.status).toBe(200);
    expect(res.body.model_version.current_stage).toBe('Production');
    expect((await alice('DELETE', `/models/${name}/versions/1`)).status).toBe(200);
    await registry.settled();
    expect(eventsOf(name)).toEqual(
      expect.arrayContaining(['ModelVersionStageChanged v1', 'ModelVersionDeleted v1']),
    );
  });

  it('keeps the audit log append-only: no route changes it, and it outlives a deleted model', async () => {
    const writes = ALL_OPERATIONS.filter((o) => o.path.includes('audit') && o.method !== 'GET');
    expect(writes).toEqual([]);
    const name = uniqueName();
    await modelWithVersions(name, [{}], { guarded_stages: [], protect_live_versions: false });
    const modelId = (await alice('GET', `/models/${name}/audit`)).body.entries[0].model.id;
    expect((await alice('DELETE', `/models/${name}`)).status).toBe(200);
    const { Items } = await documentClient().send(
      new QueryCommand({
        TableName: registry.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :a)',
        ExpressionAttributeValues: { ':pk': `MID#${modelId}`, ':a': 'A#' },
      }),
    );
    expect(Items!.map((i) => i.type)).toEqual([
      'RegisteredModelCreated',
      'PolicyChangeRequested',
      'PolicyChangeApproved',
      'GovernancePolicyChanged',
      'ModelVersionCreated',
      'RegisteredModelDeleted',
    ]);
  });

  it('validates policies and shows the effective one', async () => {
    const name = uniqueName();
    await modelWithVersions(name, []);
    const before = await tableSnapshot(documentClient(), registry.tableName);
    const bad = await alice('PUT', `/models/${name}/policy`, { policy: { quality_gates: ['accuracy ~ 3'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain("Invalid quality gate 'accuracy ~ 3'");
    const unknown = await alice('PUT', `/models/${name}/policy`, { policy: { approvers: 3 } });
    expect(unknown.status).toBe(400);
    expect(await tableSnapshot(documentClient(), registry.tableName)).toEqual(before);
    const ok = await alice('PUT', `/models/${name}/policy`, {
      policy: { guarded_stages: ['staging', 'Production'], required_approvals: 2 },
    });
    expect(ok.body.effective).toMatchObject({
      guarded_stages: ['Staging', 'Production'],
      required_approvals: 2,
      requester_may_approve: false,
    });
    expect((await alice('POST', `/models/${name}/versions`, { source: 's3://b/x' })).status).toBe(201);
    expect((await alice('POST', `/models/${name}/versions/1/stage`, { stage: 'Staging' })).status).toBe(202);
    // Removing the overrides weakens the policy (2 approvers → 1, Staging unguarded): a request.
    const cleared = await alice('DELETE', `/models/${name}/policy`);
    expect(cleared.status).toBe(202);
    expect(cleared.body.policy_request.weakenings).toEqual([
      'stage Staging no longer guarded',
      'required_approvals 2 → 1',
    ]);
    // It needs as many approvers as the policy it weakens (2), neither of them the requester.
    const decide = `/models/${name}/policy-requests/${cleared.body.policy_request.id}/approve`;
    expect((await carol('POST', decide, {})).body.policy_request.status).toBe('PENDING');
    expect((await alice('GET', `/models/${name}/policy`)).body.override).toBeDefined();
    expect((await bob('POST', decide, {})).body.policy_request.status).toBe('APPLIED');
    expect((await alice('GET', `/models/${name}/policy`)).body.override).toBeUndefined();
  });
});
