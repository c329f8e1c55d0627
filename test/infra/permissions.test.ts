/**
 * The roles allow what the code really does. A representative workload runs through the local
 * registry's HTTP API (the same handlers as on Lambda, on DynamoDB Local and the local S3); every
 * AWS SDK command each function sends is recorded, mapped to its IAM actions with
 * `iamActionsFor` (lib/iam-actions.ts), and checked against that function's role in the
 * synthesized template: the action, and the resource (table vs. index ARN, artifact object ARN).
 *
 * Two calls cannot be observed locally and are checked on the template instead: the approve
 * function resumes the workflow in-process (no SendTaskSuccess/SendTaskFailure call) and the relay
 * publishes to the local bus (no PutEvents call).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, type FunctionName, iamActionsFor } from '../../lib/iam-actions';
import { ModelRegistryStack } from '../../lib/model-registry-stack';
import type { LocalFunction, LocalRegistry } from '../../local/registry';
import { apiClient, localRegistry } from '../support/engines';
import { list, logicalId, render } from '../support/template';

// ------------------------------------------------------------------ the synthesized roles
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new ModelRegistryStack(app, 'Permissions', {
  env: { account: '123456789012', region: 'eu-west-1' },
});
const registryConstruct = stack.registry;
const resources = Template.fromStack(stack).toJSON().Resources as Record<string, any>;

/** The role of a function, as the local registry names its functions (`webhooks`: the delivery function). */
function roleOf(fn: LocalFunction) {
  return fn === 'webhooks'
    ? registryConstruct.webhooks.deliveryFunction.role
    : registryConstruct.functions[fn as FunctionName]?.role;
}

/** action → resource patterns (rendered) the role allows. Only plain Allow statements are expected. */
function roleGrants(fn: LocalFunction): Map<string, string[]> {
  const roleId = logicalId(roleOf(fn)!);
  const out = new Map<string, string[]>();
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::IAM::Policy' || !list(r.Properties.Roles).some((x: any) => x.Ref === roleId))
      continue;
    for (const s of r.Properties.PolicyDocument.Statement) {
      expect(s.Effect).toBe('Allow');
      expect(s.Condition).toBeUndefined();
      for (const action of list<string>(s.Action)) {
        out.set(action, [...(out.get(action) ?? []), ...list(s.Resource).map(render)]);
      }
    }
  }
  return out;
}

const globMatches = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(value);

function allows(fn: LocalFunction, action: string, resource: string): boolean {
  return (roleGrants(fn).get(action) ?? []).some((pattern) => globMatches(pattern, resource));
}

const TABLE = `<${logicalId(registryConstruct.table)}.Arn>`;
const BUCKET = `<${logicalId(registryConstruct.artifactBucket)}.Arn>`;

// ------------------------------------------------------------------ the recording
interface Recorded {
  readonly fn: LocalFunction;
  readonly command: string;
  readonly input: any;
}
const calls: Recorded[] = [];
let registry: LocalRegistry;
let alice: ReturnType<typeof apiClient>;
let bob: ReturnType<typeof apiClient>;

/**
 * The deployed ARNs (as the template renders them) a recorded call touches: the local table and
 * bucket stand for the stack's table and artifact bucket.
 */
function resourcesOf(call: Recorded): string[] {
  const i = call.input ?? {};
  const table = (name: unknown, index?: unknown) => {
    expect(name, `${call.fn} ${call.command} table`).toBe(registry.tableName);
    return index ? `${TABLE}/index/${index}` : TABLE;
  };
  const object = (bucket: unknown, key: unknown) => {
    expect(bucket, `${call.fn} ${call.command} bucket`).toBe(registry.env.ARTIFACT_BUCKET);
    expect(typeof key).toBe('string');
    return `${BUCKET}/${key}`;
  };
  if (i.TransactItems) {
    return i.TransactItems.map((item: any) => table((Object.values(item)[0] as any).TableName));
  }
  if (i.RequestItems) return Object.keys(i.RequestItems).map((name) => table(name));
  if (i.TableName) return [table(i.TableName, i.IndexName)];
  if (i.Bucket && i.Delete?.Objects) return i.Delete.Objects.map((o: any) => object(i.Bucket, o.Key));
  if (i.Bucket) return [object(i.Bucket, i.Key)];
  if (call.command === 'InvokeCommand') {
    expect(i.FunctionName).toBe(registry.env.VERIFY_FUNCTION_NAME);
    return [`<${logicalId(registryConstruct.functions.verify)}.Arn>`];
  }
  throw new Error(`Which resource does ${call.fn} ${call.command} touch? Teach resourcesOf.`);
}

// ------------------------------------------------------------------ the workload
const MiB = 1024 ** 2;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const enc = encodeURIComponent;

async function ok(res: Promise<{ status: number; body: any }>, status = 200) {
  const r = await res;
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  return r.body;
}

/** A transition into Production: a request (the default policy guards Production), approved by bob. */
async function promote(name: string, version: number, archive = false) {
  const req = await ok(
    alice('POST', `/models/${name}/versions/${version}/stage`, {
      stage: 'Production',
      archive_existing_versions: archive,
    }),
    202,
  );
  await registry.settled();
  const id = req.transition_request.id;
  await ok(bob('POST', `/models/${name}/transition-requests/${id}/approve`, { comment: 'LGTM' }));
  await registry.settled();
  return id;
}

async function workload() {
  const name = 'perm-model';
  // Models: create, get, search, update, tags, policy (with a required model card section).
  await ok(alice('POST', '/models', { name, description: 'permissions workload' }), 201);
  await ok(alice('GET', `/models/${name}`));
  await ok(alice('GET', `/models?filter=${enc(`name LIKE 'perm-%'`)}&max_results=5`));
  await ok(alice('PATCH', `/models/${name}`, { description: 'updated' }));
  await ok(alice('POST', `/models/${name}/tags`, { key: 'team', value: 'fraud' }));
  await ok(alice('DELETE', `/models/${name}/tags?key=team`));
  await ok(alice('GET', `/models/${name}/policy`));
  await ok(
    alice('PUT', `/models/${name}/policy`, {
      policy: { quality_gates: ['accuracy >= 0.5'], required_card_sections: ['limitations'] },
    }),
  );

  // Versions with a source, with metrics for the quality gate.
  for (const accuracy of [0.9, 0.95, 0.97]) {
    await ok(
      alice('POST', `/models/${name}/versions`, { source: `s3://elsewhere/${name}`, metrics: { accuracy } }),
      201,
    );
  }
  await ok(alice('GET', `/models/${name}/versions`));
  await ok(alice('GET', `/models/${name}/versions/1`));
  await ok(alice('PATCH', `/models/${name}/versions/1`, { description: 'first' }));
  await ok(alice('POST', `/models/${name}/versions/1/tags`, { key: 'k', value: 'v' }));
  await ok(alice('DELETE', `/models/${name}/versions/1/tags?key=k`));
  // Model cards (the policy requires limitations of the versions requested below).
  for (const v of [1, 2, 3]) {
    await ok(alice('PUT', `/models/${name}/versions/${v}/card`, { model_card: { limitations: 'EU only.' } }));
  }
  await ok(alice('GET', `/models/${name}/versions/1/card`));
  await ok(alice('GET', `/versions?filter=${enc(`name = '${name}'`)}`));

  // A version with registry-managed files: one single PUT, one multipart; renewed URLs; finalize;
  // the verify function runs; presigned downloads and models:/ resolution.
  const contents: Record<string, Buffer> = {
    'model.pkl': randomBytes(1000),
    'weights.bin': randomBytes(6 * MiB),
  };
  const files = Object.entries(contents).map(([path, body]) => ({
    path,
    size: body.length,
    sha256: sha256(body),
  }));
  const created = await ok(alice('POST', `/models/${name}/versions`, { files }), 201);
  const version = created.model_version.version as number;
  const renewed = await ok(alice('POST', `/models/${name}/versions/${version}/upload-urls`, {}));
  const parts: Record<string, { part_number: number; etag: string }[]> = {};
  for (const file of renewed.upload.files) {
    const body = contents[file.path]!;
    if (file.method === 'PUT') {
      const res = await fetch(file.url, { method: 'PUT', body, headers: file.headers });
      expect(res.status).toBe(200);
      continue;
    }
    parts[file.path] = [];
    for (const part of file.parts) {
      const start = (part.part_number - 1) * file.part_size;
      const res = await fetch(part.url, {
        method: 'PUT',
        body: body.subarray(start, start + file.part_size),
      });
      expect(res.status).toBe(200);
      parts[file.path]!.push({ part_number: part.part_number, etag: res.headers.get('etag') ?? '' });
    }
  }
  expect(Object.keys(parts)).toEqual(['weights.bin']);
  await ok(alice('POST', `/models/${name}/versions/${version}/finalize`, { parts }));
  await registry.settled();
  expect((await ok(alice('GET', `/models/${name}/versions/${version}`))).model_version.status).toBe('READY');
  const download = await ok(alice('GET', `/models/${name}/versions/${version}/download`));
  expect(download.download.files).toHaveLength(2);
  await ok(alice('GET', `/resolve?uri=${enc(`models:/${name}/${version}`)}`));

  // Aliases.
  await ok(alice('PUT', `/models/${name}/aliases/challenger`, { version: 1 }));
  await ok(alice('GET', `/models/${name}/aliases/challenger`));
  await ok(alice('GET', `/resolve?uri=${enc(`models:/${name}@challenger`)}`));
  await ok(alice('DELETE', `/models/${name}/aliases/challenger`));

  // Governed promotion: request (202) → quality gates → approval by bob → applied by the workflow.
  await promote(name, 1);
  await promote(name, 2, true);
  await ok(alice('GET', `/models/${name}/latest-versions`));
  await ok(alice('GET', `/resolve?uri=${enc(`models:/${name}/Production`)}`));
  // A rejected and a cancelled request.
  const toReject = await ok(alice('POST', `/models/${name}/versions/3/stage`, { stage: 'Production' }), 202);
  await registry.settled();
  await ok(
    bob('POST', `/models/${name}/transition-requests/${toReject.transition_request.id}/reject`, {
      reason: 'no',
    }),
  );
  const toCancel = await ok(alice('POST', `/models/${name}/versions/3/stage`, { stage: 'Production' }), 202);
  await registry.settled();
  await ok(alice('POST', `/models/${name}/transition-requests/${toCancel.transition_request.id}/cancel`, {}));
  await registry.settled();
  await ok(alice('GET', `/models/${name}/transition-requests`));
  await ok(alice('GET', `/models/${name}/transition-requests/${toReject.transition_request.id}`));
  await ok(alice('GET', `/models/${name}/transitions`));
  // Rollback to the previous Production version, then the audit trail and stage history.
  await ok(bob('POST', `/models/${name}/rollback`, { comment: 'regression' }));
  await registry.settled();
  await ok(alice('GET', `/models/${name}/audit?max_results=5`));
  await ok(alice('GET', `/models/${name}/stage-history?stage=Production&at=${Date.now()}`));

  // An expiring request (the workflow's expire step).
  const expiring = 'perm-expiring';
  await ok(alice('POST', '/models', { name: expiring }), 201);
  await ok(alice('PUT', `/models/${expiring}/policy`, { policy: { request_ttl_hours: 1 / 3600 } }));
  await ok(alice('POST', `/models/${expiring}/versions`, { source: 's3://elsewhere/x' }), 201);
  await ok(alice('POST', `/models/${expiring}/versions/1/stage`, { stage: 'Production' }), 202);
  await registry.settled();
  await new Promise((r) => setTimeout(r, 2000));
  await registry.settled();

  // MLflow's REST API.
  const mlflow = '/api/2.0/mlflow';
  await ok(alice('GET', `${mlflow}/registered-models/get?name=${enc(name)}`));
  await ok(alice('GET', `${mlflow}/registered-models/search?max_results=5`));
  await ok(alice('POST', `${mlflow}/registered-models/get-latest-versions`, { name }));
  await ok(alice('GET', `${mlflow}/model-versions/get?name=${enc(name)}&version=1`));
  await ok(alice('GET', `${mlflow}/model-versions/search?filter=${enc(`name='${name}'`)}`));
  await ok(alice('GET', `${mlflow}/model-versions/get-download-uri?name=${enc(name)}&version=${version}`));
  await ok(alice('POST', `${mlflow}/registered-models/set-tag`, { name, key: 'via', value: 'mlflow' }));
  await ok(alice('POST', `${mlflow}/registered-models/create`, { name: 'perm-mlflow' }));
  await ok(alice('DELETE', `${mlflow}/registered-models/delete`, { name: 'perm-mlflow' }));

  // Rename and deletes (the version in neither a guarded stage nor an alias).
  await ok(alice('POST', `/models/${name}/rename`, { new_name: `${name}-renamed` }));
  await ok(alice('DELETE', `/models/${name}-renamed/versions/3`));
  await ok(alice('DELETE', `/models/${expiring}/versions/1`));
  await ok(alice('DELETE', `/models/${expiring}`));
  await ok(alice('GET', '/openapi.json'));
  await registry.settled();

  // Webhooks: a receiver that always fails, so deliveries are retried, redelivered and tested.
  const receiver = createServer((_req, res) => {
    res.writeHead(500);
    res.end('down');
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  try {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const { webhook } = await ok(
      alice('POST', `${mlflow}/webhooks`, {
        name: 'perm-hook',
        url,
        events: [{ entity: 'REGISTERED_MODEL', action: 'CREATED' }],
        secret: 'shh',
      }),
    );
    await ok(alice('POST', '/models', { name: 'perm-hooked' }), 201);
    await registry.settled();
    await new Promise((r) => setTimeout(r, 50));
    await registry.retryWebhooks();
    const { deliveries } = await ok(alice('GET', `/webhooks/${webhook.webhook_id}/deliveries`));
    await ok(
      alice('POST', `/webhooks/${webhook.webhook_id}/deliveries/${deliveries[0].delivery_id}/redeliver`),
    );
    await ok(alice('POST', `${mlflow}/webhooks/${webhook.webhook_id}/test`, {}));
    await ok(alice('PATCH', `${mlflow}/webhooks/${webhook.webhook_id}`, { secret: 'new' }));
    await ok(alice('GET', `${mlflow}/webhooks`));
    await ok(alice('GET', `${mlflow}/webhooks/${webhook.webhook_id}`));
    await ok(alice('DELETE', `${mlflow}/webhooks/${webhook.webhook_id}`));
    await registry.settled();
  } finally {
    receiver.close();
  }
}

beforeAll(async () => {
  registry = await localRegistry({
    // Small multipart thresholds: a 6 MiB file goes up in two parts.
    env: {
      MULTIPART_THRESHOLD_BYTES: String(5 * MiB),
      MULTIPART_PART_SIZE_BYTES: String(5 * MiB),
      WEBHOOK_RETRY_BASE_MS: '10',
    },
    observeSdkCalls: (fn, call) => calls.push({ fn, command: call.command, input: call.input }),
  });
  alice = apiClient(registry.url, 'AKIAALICE');
  bob = apiClient(registry.url, 'AKIABOB');
  await workload();
}, 180_000);
afterAll(async () => {
  await registry?.stop();
});

describe('the synthesized roles allow every AWS SDK call the functions make', () => {
  it('recorded the calls of every function the workload exercises', () => {
    const fns = new Set(calls.map((c) => c.fn));
    // relay: publishes to the local bus without an SDK call (checked on the template below).
    for (const fn of [
      'read',
      'write',
      'upload',
      'download',
      'approve',
      'verify',
      'workflow',
      'webhooks',
    ] as const) {
      expect(fns.has(fn), `no SDK call recorded for ${fn}`).toBe(true);
    }
    const commands = new Set(calls.map((c) => `${c.fn} ${c.command}`));
    for (const expected of [
      'upload CreateMultipartUploadCommand',
      'upload UploadPartCommand',
      'upload CompleteMultipartUploadCommand',
      'upload PutObjectCommand',
      'download GetObjectCommand',
      'verify GetObjectCommand',
      'approve TransactWriteItemsCommand',
      'workflow TransactWriteItemsCommand',
    ]) {
      expect(commands.has(expected), expected).toBe(true);
    }
  });

  it('every function that made a call has its own role in the template', () => {
    for (const fn of new Set(calls.map((c) => c.fn))) {
      expect([...FUNCTION_NAMES, 'webhooks'] as readonly string[], fn).toContain(fn);
      const role = roleOf(fn);
      expect(role, fn).toBeDefined();
      expect(resources[logicalId(role!)]?.Type, fn).toBe('AWS::IAM::Role');
    }
  });

  it("each recorded call's IAM actions are allowed on its resources by that function's role", () => {
    const denied: string[] = [];
    const seen = new Set<string>();
    for (const call of calls) {
      const actions = iamActionsFor(call.command, call.input);
      for (const resource of resourcesOf(call)) {
        for (const action of actions) {
          const key = `${call.fn} ${action} ${resource}`;
          if (seen.has(key)) continue;
          seen.add(key);
          if (!allows(call.fn, action, resource)) denied.push(key);
        }
      }
    }
    expect(denied).toEqual([]);
    expect(seen.size).toBeGreaterThan(20);
  });

  it('uses the indexes through Query only, on their own index ARNs', () => {
    const indexed = calls.filter((c) => c.input?.IndexName);
    expect(indexed.length).toBeGreaterThan(0);
    for (const call of indexed) {
      expect(iamActionsFor(call.command, call.input)).toEqual(['dynamodb:Query']);
      expect(allows(call.fn, 'dynamodb:Query', `${TABLE}/index/${call.input.IndexName}`)).toBe(true);
      // The table grant alone would not cover an index.
      expect(globMatches(TABLE, `${TABLE}/index/${call.input.IndexName}`)).toBe(false);
    }
  });

  it('(template) approve and reconcile may drive the approval task and relay may publish: calls the local engines make in-process', () => {
    const stateMachine = `<${logicalId(registryConstruct.approvalWorkflow)}>`;
    for (const command of ['SendTaskSuccessCommand', 'SendTaskFailureCommand']) {
      for (const action of iamActionsFor(command, {})) {
        for (const fn of ['approve', 'reconcile'] as const)
          expect(allows(fn, action, stateMachine), action).toBe(true);
        for (const other of FUNCTION_NAMES.filter((f) => f !== 'approve' && f !== 'reconcile')) {
          expect(roleGrants(other).has(action), `${other} ${action}`).toBe(false);
        }
      }
    }
    expect(allows('reconcile', 'states:StartExecution', stateMachine)).toBe(true);
    const bus = `<${logicalId(registryConstruct.eventBus)}.Arn>`;
    expect(iamActionsFor('PutEventsCommand', {})).toEqual(['events:PutEvents']);
    expect(allows('relay', 'events:PutEvents', bus)).toBe(true);
    // Lambda polls the stream with the relay's role.
    const stream = `<${logicalId(registryConstruct.table)}.StreamArn>`;
    for (const action of ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator']) {
      expect(allows('relay', action, stream), action).toBe(true);
    }
  });
});
