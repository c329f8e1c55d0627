/**
 * Model cards through the local registry (the same handlers as on Lambda, on DynamoDB Local):
 * the round trip over HTTP and the SDK, validation that refuses and writes nothing, the audited
 * edit and the bound on its event, the governance gate on required sections (at request time,
 * again when the approved request applies, and by rollback), the policy change that drops a
 * requirement, and the card going with its version and its model.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARD_LIMITS, type ModelCard } from '../../functions/domain/model-card';
import type { LocalRegistry } from '../../local/registry';
import { RegistryApiError } from '../../sdk';
import { clientAs } from '../console/support';
import { apiClient, documentClient, localRegistry, tableSnapshot } from '../support/engines';

let registry: LocalRegistry;
let alice: ReturnType<typeof apiClient>;
let bob: ReturnType<typeof apiClient>;
let carol: ReturnType<typeof apiClient>;
const ALICE = 'arn:aws:iam::000000000000:user/AKIAALICE';

beforeAll(async () => {
  registry = await localRegistry(); // the default policy: Production guarded, @champion protected
  alice = apiClient(registry.url, 'AKIAALICE');
  bob = apiClient(registry.url, 'AKIABOB');
  carol = apiClient(registry.url, 'AKIACAROL');
});
afterAll(async () => {
  await registry?.stop();
});

let n = 0;
const uniqueName = () => `carded-${++n}`;
const snapshot = () => tableSnapshot(documentClient(), registry.tableName);
const cardPath = (name: string, version: number) => `/models/${name}/versions/${version}/card`;

async function modelWithVersions(name: string, count: number) {
  expect((await alice('POST', '/models', { name })).status).toBe(201);
  for (let i = 0; i < count; i++) {
    expect((await alice('POST', `/models/${name}/versions`, { source: `s3://b/${name}/${i}` })).status).toBe(
      201,
    );
  }
}

async function putCard(name: string, version: number, card: unknown, who = alice) {
  return who('PUT', cardPath(name, version), { model_card: card });
}

const card: ModelCard = {
  model_details: {
    overview: 'Predicts churn within 30 days.',
    owners: [{ name: 'Growth ML', contact: 'ml@example.com' }],
    license: 'Apache-2.0',
  },
  intended_use: { primary_uses: 'Retention campaigns.', out_of_scope_uses: 'Credit decisions.' },
  training_data: { name: 'churn-2026-10', digest: 'sha256:aaa111', uri: 's3://data/churn/2026-10/' },
  metrics: [
    { name: 'recall', value: 0.81 },
    { name: 'recall', value: 0.78, slice: 'sex=female' },
  ],
  limitations: 'Trained on EU customers only.',
  ethical_considerations: [{ name: 'Fairness', mitigation: 'Recall checked per sex.' }],
};

const cardEvents = (name: string) =>
  registry.events
    .events()
    .filter((e) => e.detail.model?.name === name && e['detail-type'] === 'ModelCardUpdated');

async function cardItems(name: string): Promise<Record<string, unknown>[]> {
  const entries = (await alice('GET', `/models/${name}/audit?max_results=1`)).body.entries;
  const modelId = entries[0].model.id;
  const { Items } = await documentClient().send(
    new QueryCommand({
      TableName: registry.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :c)',
      ExpressionAttributeValues: { ':pk': `MID#${modelId}`, ':c': 'VC#' },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

describe('a model card', () => {
  it('is written and read back whole, and comes with the version (not with lists of versions)', async () => {
    const name = uniqueName();
    await modelWithVersions(name, 2);
    const none = await alice('GET', cardPath(name, 1));
    expect(none.status).toBe(404);
    expect(none.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(none.body.message).toContain('has no model card');

    const put = await putCard(name, 1, card);
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ model_card: card });
    expect((await bob('GET', cardPath(name, 1))).body).toEqual({ model_card: card });

    const version = (await alice('GET', `/models/${name}/versions/1`)).body.model_version;
    expect(version.model_card).toEqual(card);
    expect((await alice('GET', `/models/${name}/versions/2`)).body.model_version.model_card).toBeUndefined();
    const page = (await alice('GET', `/models/${name}/versions`)).body.model_versions;
    expect(page.map((v: any) => v.model_card)).toEqual([undefined, undefined]);
    const search = (await alice('GET', `/versions?filter=${encodeURIComponent(`name = '${name}'`)}`)).body;
    expect(search.model_versions.every((v: any) => v.model_card === undefined)).toBe(true);
    // MLflow's version shape has no card.
    const mlflow = await alice('GET', `/api/2.0/mlflow/model-versions/get?name=${name}&version=1`);
    expect(mlflow.status).toBe(200);
    expect(mlflow.body.model_version.model_card).toBeUndefined();

    // A PUT replaces the whole card; an empty card is a card.
    expect((await putCard(name, 1, { caveats: 'Retrain monthly.' })).body.model_card).toEqual({
      caveats: 'Retrain monthly.',
    });
    expect((await putCard(name, 2, {})).status).toBe(200);
    expect((await alice('GET', cardPath(name, 2))).body).toEqual({ model_card: {} });
  });

  it('is read and written through the SDK', async () => {
    const name = uniqueName();
    await modelWithVersions(name, 1);
    const sdk = clientAs(registry, 'AKIAALICE');
    await expect(sdk.getModelCard(name, 1)).rejects.toMatchObject({
      status: 404,
      errorCode: 'RESOURCE_DOES_NOT_EXIST',
    });
    expect(await sdk.putModelCard(name, 1, card)).toEqual(card);
    expect(await sdk.getModelCard(name, '1')).toEqual(card);
    expect((await sdk.getModelVersion(name, 1)).model_card).toEqual(card);
    const refused = await sdk.putModelCard(name, 1, { colour: 'red' } as ModelCard).catch((e) => e);
    expect(refused).toBeInstanceOf(RegistryApiError);
    expect(refused.errorCode).toBe('INVALID_PARAMETER_VALUE');
  });

  it('is reached for a model whose name a path cannot carry (the name in the query)', async () => {
    const name = `team/${uniqueName()}?v=1`;
    expect((await alice('POST', '/models', { name })).status).toBe(201);
    const sdk = clientAs(registry, 'AKIAALICE');
    await sdk.createModelVersion(name, { source: 's3://b/m' });
    expect(await sdk.putModelCard(name, 1, card)).toEqual(card);
    const byQuery = await alice('GET', `/models/~/versions/1/card?name=${encodeURIComponent(name)}`);
    expect(byQuery.body).toEqual({ model_card: card });
    expect((await sdk.getModelVersion(name, 1)).model_card).toEqual(card);
  });

  it('keeps numbers DynamoDB could not store as numbers exactly', async () => {
    const name = uniqueName();
    await modelWithVersions(name, 1);
    const tiny: ModelCard = {
      metrics: [
        { name: 'false positive rate', value: 1e-200 },
        { name: 'loss', value: 1.7976931348623157e308 },
        { name: 'delta', value: -0.1 + 0.3 },
      ],
    };
    expect((await putCard(name, 1, tiny)).status).toBe(200);
    expect((await alice('GET', cardPath(name, 1))).body.model_card).toEqual(tiny);
  });

  it('needs an existing model and version', async () => {
    const name = uniqueName();
    await modelWithVersions(name, 1);
    const before = await snapshot();
    const missingVersion = await putCard(name, 7, card);
    expect(missingVersion.status).toBe(404);
    expect(missingVersion.body.message).toBe(`Model Version (name=${name}, version=7) not found`);
    expect((await putCard('no-such-model', 1, card)).status).toBe(404);
    expect((await alice('GET', cardPath(name, 7))).status).toBe(404);
    expect((await alice('GET', cardPath(name, 0))).status).toBe(400);
    expect(await snapshot()).toEqual(before);
  });
});

describe('a card that is refused', () => {
  it('gets a 4xx with a stable code and a message naming the field, and changes nothing', async () => {
    const name = uniqueName();
    await modelWithVersions(name, 1);
    expect((await putCard(name, 1, card)).status).toBe(200);
    const before = await snapshot();
    const emoji = '😀'.repeat(10_000); // within each string's bound, 40,000 UTF-8 bytes
    const cases: [unknown, number, string, string | RegExp][] = [
      [{ colour: 'red' }, 400, 'INVALID_PARAMETER_VALUE', "unknown field(s) 'colour' in body.model_card"],
      [
        { intended_use: { primary_uses: 'x', audience: 'y' } },
        400,
        'INVALID_PARAMETER_VALUE',
        "unknown field(s) 'audience' in body.model_card.intended_use",
      ],
      [
        { metrics: [{ name: 'auc', value: 0.9, group: 'a' }] },
        400,
        'INVALID_PARAMETER_VALUE',
        "unknown field(s) 'group' in body.model_card.metrics.0",
      ],
      [JSON.parse('{"__proto__": {"x": 1}}'), 400, 'INVALID_PARAMETER_VALUE', /__proto__/],
      [
        { metrics: [{ name: 'auc', value: '0.9' }] },
        400,
        'INVALID_PARAMETER_VALUE',
        'model_card.metrics.0.value',
      ],
      [{ metrics: [{ value: 0.9 }] }, 400, 'INVALID_PARAMETER_VALUE', 'model_card.metrics.0.name'],
      [{ limitations: 'x'.repeat(20_001) }, 400, 'INVALID_PARAMETER_VALUE', 'at most 20,000 characters'],
      [
        { model_details: { references: Array.from({ length: 51 }, (_, i) => `r${i}`) } },
        400,
        'INVALID_PARAMETER_VALUE',
        'at most 50 references',
      ],
      [
        {
          limitations: emoji,
          known_failure_modes: emoji,
          caveats: emoji,
          intended_use: { primary_uses: emoji },
        },
        400,
        'LIMIT_EXCEEDED',
        /160,0\d\d bytes as UTF-8 JSON; the limit is 131,072 bytes/,
      ],
      ['a card', 400, 'INVALID_PARAMETER_VALUE', 'body.model_card'],
      [null, 400, 'INVALID_PARAMETER_VALUE', 'body.model_card'],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await putCard(name, 1, body);
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error_code).toBe(code);
      if (typeof message === 'string') expect(res.body.message).toContain(message);
      else expect(res.body.message).toMatch(message);
    }
    const raw = [
      ['no card', {}, 'INVALID_PARAMETER_VALUE'],
      ['an extra field', { model_card: {}, comment: 'x' }, 'INVALID_PARAMETER_VALUE'],
      [
        'an infinite number',
        '{"model_card": {"metrics": [{"name": "a", "value": 1e400}]}}',
        'INVALID_PARAMETER_VALUE',
      ],
      ['malformed JSON', '{"model_card": {', 'MALFORMED_REQUEST'],
    ] as const;
    for (const [what, body, code] of raw) {
      const res = await alice('PUT', cardPath(name, 1), body);
      expect(res.status, what).toBe(400);
      expect(res.body.error_code, what).toBe(code);
    }
    const huge = await putCard(name, 1, { limitations: 'x'.repeat(300_000) });
    expect(huge.status).toBe(413);
    expect(huge.body.error_code).toBe('PAYLOAD_TOO_LARGE');
    expect(await snapshot()).toEqual(before);
    expect((await alice('GET', cardPath(name, 1))).body.model_card).toEqual(card);
  });
});

describe('an edit of a card', () => {
  it('is audited with who made it, the sections it changed and their before and after', async () => {
    const name = uniqueName();
    await modelWithVersions(name, 1);
    await putCard(name, 1, card);
    const edited: ModelCard = {
      ...card,
      limitations: 'Trained on EU and US customers.',
      caveats: 'Monthly.',
    };
    await putCard(name, 1, edited, bob);
    await registry.settled();
    const [created, edit] = cardEvents(name);
    expect(created!.detail).toMatchObject({
      actor: ALICE,
      version: 1,
      data: {
        created: true,
        changed_sections: [
          'model_details',
          'intended_use',
          'training_data',
          'metrics',
          'limitations',
          'ethical_considerations',
        ],
      },
    });
    expect(edit!.detail).toMatchObject({
      actor: 'arn:aws:iam::000000000000:user/AKIABOB',
      person: 'arn:aws:iam::000000000000:user/AKIABOB',
      version: 1,
      data: {
        created: false,
        changed_sections: ['limitations', 'caveats'],
        changes: [
          {
            section: 'limitations',
            recorded: 'values',
            before: 'Trained on EU customers only.',
            after: 'Trained on EU and US customers.',
          },
          { section: 'caveats', recorded: 'values', before: null, after: 'Monthly.' },
        ],
        card_bytes: Buffer.byteLength(JSON.stringify(edited)),
      },
    });
    // The same card again (keys in another order) changes nothing and records nothing.
    const reordered = Object.fromEntries(Object.entries(edited).reverse());
    expect((await putCard(name, 1, reordered)).status).toBe(200);
    await registry.settled();
    expect(cardEvents(name)).toHaveLength(2);
    // The audit log shows the edit.
    const audit = (await alice('GET', `/models/${name}/audit?version=1&max_results=1`)).body.entries[0];
    expect(audit).toMatchObject({
      event_type: 'ModelCardUpdated',
      person: 'arn:aws:iam::000000000000:user/AKIABOB',
      data: { changed_sections: ['limitations', 'caveats'] },
    });
  });

  it('of a card near the size limit stays far below the event limit: values over budget become digests', async () => {
    const name = uniqueName();
    await modelWithVersions(name, 1);
    // Six prose sections of 2-byte characters (21,500 bytes each, the last 14,000): about 122 KB.
    const prose = (c: string) => c.repeat(10_000) + 'a'.repeat(1_500);
    const big: ModelCard = {
      model_details: { overview: prose('é') },
      intended_use: { primary_uses: prose('ü') },
      limitations: prose('ö'),
      known_failure_modes: prose('ä'),
      caveats: prose('ß'),
      training_data: { description: prose('ñ').slice(0, 7000) },
    };
    const bytes = Buffer.byteLength(JSON.stringify(big));
    expect(bytes).toBeGreaterThan(120_000);
    expect(bytes).toBeLessThanOrEqual(CARD_LIMITS.bytes);
    expect((await putCard(name, 1, big)).status).toBe(200);
    const rewritten: ModelCard = {
      model_details: { overview: prose('ø') },
      intended_use: { primary_uses: prose('å') },
      limitations: prose('ç'),
      known_failure_modes: prose('è'),
      caveats: prose('ì'),
      training_data: { description: prose('ò').slice(0, 7000) },
    };
    expect((await putCard(name, 1, rewritten)).status).toBe(200);
    await registry.settled();
    const edit = cardEvents(name)[1]!;
    const entry = { source: edit.source, 'detail-type': edit['detail-type'], detail: edit.detail };
    expect(Buffer.byteLength(JSON.stringify(entry))).toBeLessThan(80 * 1024);
    const changes = edit.detail.data.changes as {
      section: string;
      recorded: string;
      after_sha256?: string;
    }[];
    expect(changes.map((c) => c.section)).toEqual([
      'model_details',
      'intended_use',
      'training_data',
      'limitations',
      'known_failure_modes',
      'caveats',
    ]);
    expect(changes.filter((c) => c.recorded === 'values').length).toBeGreaterThan(0);
    expect(changes.filter((c) => c.recorded === 'digests').length).toBeGreaterThan(0);
    const digest = changes.find((c) => c.recorded === 'digests')!;
    expect(digest.after_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('from concurrent writers all apply, one after another, each recording what it replaced', async () => {
    const name = uniqueName();
    await modelWithVersions(name, 1);
    const texts = ['one', 'two', 'three', 'four'];
    const results = await Promise.all(texts.map((t) => putCard(name, 1, { limitations: t })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await registry.settled();
    const events = [...cardEvents(name)].sort((a, b) => (a.detail.event_id < b.detail.event_id ? -1 : 1));
    expect(events).toHaveLength(4);
    const changes = events.map((e) => (e.detail.data.changes as { before: unknown; after: unknown }[])[0]!);
    expect(changes[0]!.before).toBeNull();
    for (let i = 1; i < changes.length; i++) expect(changes[i]!.before).toBe(changes[i - 1]!.after);
    const last = changes.at(-1)!.after;
    expect((await alice('GET', cardPath(name, 1))).body.model_card).toEqual({ limitations: last });
  });
});

describe('required card sections in the governance policy', () => {
  async function governedModel(name: string) {
    await modelWithVersions(name, 1);
    // Adding a requirement makes the policy stricter: it applies at once.
    const set = await alice('PUT', `/models/${name}/policy`, {
      policy: { required_card_sections: ['limitations', 'intended_use'] },
    });
    expect(set.status).toBe(200);
    expect(set.body.effective.required_card_sections).toEqual(['intended_use', 'limitations']);
  }
  async function request(name: string) {
    const res = await alice('POST', `/models/${name}/versions/1/stage`, { stage: 'Production' });
    expect(res.status).toBe(202);
    await registry.settled();
    return (await alice('GET', `/models/${name}/transition-requests/${res.body.transition_request.id}`)).body
      .transition_request;
  }

  it('refuses a Production request as a failed gate naming the missing sections, and accepts it once filled in', async () => {
    const name = uniqueName();
    await governedModel(name);
    const noCard = await request(name);
    expect(noCard.status).toBe('REJECTED');
    expect(noCard.reason).toBe(
      'Quality gates failed: model card is missing (needs intended_use, limitations filled in)',
    );
    await putCard(name, 1, { intended_use: { primary_uses: 'Retention.' }, limitations: '   ' });
    const partial = await request(name);
    expect(partial.status).toBe('REJECTED');
    expect(partial.reason).toBe(
      'Quality gates failed: model card lacks limitations (needs required_card_sections filled in)',
    );
    const version = (await alice('GET', `/models/${name}/versions/1`)).body.model_version;
    expect(version.tags.quality_gate).toBe(
      'failed: model card lacks limitations (needs required_card_sections filled in)',
    );
    const rejected = registry.events
      .events()
      .filter((e) => e.detail.model?.name === name && e['detail-type'] === 'TransitionRejected')
      .at(-1)!;
    expect(rejected.detail.data.quality_gate_failures).toEqual([
      'model card lacks limitations (needs required_card_sections filled in)',
    ]);

    await putCard(name, 1, card);
    const filled = await request(name);
    expect(filled).toMatchObject({ status: 'PENDING', awaiting_approval: true });
    const approved = await bob('POST', `/models/${name}/transition-requests/${filled.id}/approve`, {});
    expect(approved.status).toBe(200);
    await registry.settled();
    expect((await alice('GET', `/models/${name}/versions/1`)).body.model_version.current_stage).toBe(
      'Production',
    );
  });

  it('is checked again when the approved request applies', async () => {
    const name = uniqueName();
    await governedModel(name);
    await putCard(name, 1, card);
    const pending = await request(name);
    expect(pending.awaiting_approval).toBe(true);
    // The card loses a required section while the request waits.
    await putCard(name, 1, { ...card, limitations: undefined });
    await bob('POST', `/models/${name}/transition-requests/${pending.id}/approve`, {});
    await registry.settled();
    const failed = (await alice('GET', `/models/${name}/transition-requests/${pending.id}`)).body
      .transition_request;
    expect(failed.status).toBe('FAILED');
    expect(failed.reason).toContain('model card lacks limitations');
    expect((await alice('GET', `/models/${name}/versions/1`)).body.model_version.current_stage).toBe('None');
  });

  it('is checked by rollback: a previous version whose card lacks a section is not re-promoted', async () => {
    const name = uniqueName();
    await governedModel(name);
    expect((await alice('POST', `/models/${name}/versions`, { source: `s3://b/${name}/2` })).status).toBe(
      201,
    );
    for (const v of [1, 2]) {
      await putCard(name, v, card);
      const res = await alice('POST', `/models/${name}/versions/${v}/stage`, {
        stage: 'Production',
        archive_existing_versions: true,
      });
      expect(res.status).toBe(202);
      await registry.settled();
      const id = res.body.transition_request.id;
      expect((await bob('POST', `/models/${name}/transition-requests/${id}/approve`, {})).status).toBe(200);
      await registry.settled();
    }
    const stageOf = async (v: number) =>
      (await alice('GET', `/models/${name}/versions/${v}`)).body.model_version.current_stage;
    expect([await stageOf(1), await stageOf(2)]).toEqual(['Archived', 'Production']);
    await putCard(name, 1, { ...card, intended_use: undefined });
    const before = await snapshot();
    const refused = await carol('POST', `/models/${name}/rollback`, { comment: 'latency regression' });
    expect(refused.status).toBe(409);
    expect(refused.body.error_code).toBe('INVALID_STATE');
    expect(refused.body.message).toContain('model card lacks intended_use');
    expect(await snapshot()).toEqual(before);
    await putCard(name, 1, card);
    const rolled = await carol('POST', `/models/${name}/rollback`, { comment: 'latency regression' });
    expect(rolled.status).toBe(200);
    expect([await stageOf(1), await stageOf(2)]).toEqual(['Production', 'Archived']);
  });

  it('guards a protected alias the same way', async () => {
    const name = uniqueName();
    await governedModel(name);
    const res = await alice('PUT', `/models/${name}/aliases/champion`, { version: 1 });
    expect(res.status).toBe(202);
    await registry.settled();
    const req = (await alice('GET', `/models/${name}/transition-requests/${res.body.transition_request.id}`))
      .body.transition_request;
    expect(req.status).toBe('REJECTED');
    expect(req.reason).toContain('model card is missing');
  });

  it('is dropped only through a policy change request that another person approves', async () => {
    const name = uniqueName();
    await governedModel(name);
    const drop = await alice('PUT', `/models/${name}/policy`, {
      policy: { required_card_sections: ['intended_use'] },
      comment: 'limitations are in the design doc',
    });
    expect(drop.status).toBe(202);
    expect(drop.body.policy_request.weakenings).toEqual([
      'model card section limitations no longer required',
    ]);
    const approve = `/models/${name}/policy-requests/${drop.body.policy_request.id}/approve`;
    const own = await alice('POST', approve, {});
    expect(own.status).toBe(403);
    expect(own.body.error_code).toBe('PERMISSION_DENIED');
    expect((await alice('GET', `/models/${name}/policy`)).body.effective.required_card_sections).toEqual([
      'intended_use',
      'limitations',
    ]);
    expect((await carol('POST', approve, {})).body.policy_request.status).toBe('APPLIED');
    expect((await alice('GET', `/models/${name}/policy`)).body.effective.required_card_sections).toEqual([
      'intended_use',
    ]);
    const bad = await alice('PUT', `/models/${name}/policy`, {
      policy: { required_card_sections: ['bias'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain("'bias' is not a model card section");
  });
});

describe('a card is deleted', () => {
  it('with its version, and with its model', async () => {
    const name = uniqueName();
    await modelWithVersions(name, 2);
    const tagged = await alice('POST', `/models/${name}/versions/1/tags`, { key: 'k', value: 'v' });
    expect(tagged.status).toBe(200);
    await putCard(name, 1, card);
    await putCard(name, 2, card);
    expect((await cardItems(name)).map((i) => i.sk)).toEqual(['VC#0000000001', 'VC#0000000002']);
    expect((await alice('DELETE', `/models/${name}/versions/1`)).status).toBe(200);
    expect((await cardItems(name)).map((i) => i.sk)).toEqual(['VC#0000000002']);
    expect((await alice('GET', cardPath(name, 1))).status).toBe(404);
    const modelId = (await alice('GET', `/models/${name}/audit?max_results=1`)).body.entries[0].model.id;
    expect((await alice('DELETE', `/models/${name}`)).status).toBe(200);
    const { Items } = await documentClient().send(
      new QueryCommand({
        TableName: registry.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `MID#${modelId}` },
        ConsistentRead: true,
      }),
    );
    // What stays of a deleted model is its history: the audit log (A#) and nothing of its cards.
    expect(Items!.filter((i) => String(i.sk).startsWith('VC#'))).toEqual([]);
    expect(Items!.filter((i) => String(i.sk).startsWith('A#')).map((i) => i.type)).toContain(
      'ModelCardUpdated',
    );
  });
});
