/**
 * The smoke test a user runs against a registry after `cdk deploy` (or against `npm start`):
 *
 *   npm run smoke -- --endpoint <ApiUrl> --approver-profile <profile> [--profile <profile>]
 *                    [--events-queue <SmokeTestEventQueueUrl>] [--region <region>] [--timeout <s>] [--keep]
 *
 * Signs every request with the caller's AWS credentials (SigV4, through the SDK in sdk/): the
 * requester's from `--profile` (default: AWS_PROFILE or the default chain), the approver's from
 * `--approver-profile`, who must be another person to the registry (docs/identity.md). It
 * registers a model named `smoke-test-…`, uploads a file, waits for verification (READY),
 * requests Production, approves as the approver and waits for the workflow to apply it,
 * downloads the file and compares its bytes, checks that the events of all this reached the bus,
 * and deletes the model. It prints one row per step and exits 1 if any failed.
 *
 * Events: deployed, the construct's smoke-test rule copies every event of `smoke-test-…` models
 * to a queue (stack output SmokeTestEventQueueUrl), which this reads; the caller needs
 * sqs:ReceiveMessage and sqs:DeleteMessage on it. Locally (`npm start`) the local bus's event log
 * is read instead, filtered with the same pattern.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import {
  matchesPattern,
  SMOKE_TEST_MODEL_PREFIX,
  SMOKE_TEST_PATTERN,
} from '../functions/deployment/event-rules';
import type { EventType } from '../functions/domain/events';
import { RegistryClient } from '../sdk/client';
import { RegistryApiError } from '../sdk/errors';
import type { ModelVersion } from '../sdk/types';

export interface SmokeOptions {
  /** The API's base URL (stack output ApiUrl, or the local registry's URL). */
  readonly endpoint: string;
  /** The requester's profile (default: AWS_PROFILE, else the default credential chain). */
  readonly profile?: string;
  /** The approver's profile: another person than the requester. */
  readonly approverProfile: string;
  /** The smoke-test event queue's URL (stack output SmokeTestEventQueueUrl); needed when deployed. */
  readonly eventsQueue?: string;
  readonly region?: string;
  /** How long to wait for verification, the workflow and the events, each (default 300 s). */
  readonly timeoutSeconds?: number;
  /** Leave the model in place (to look at it). */
  readonly keep?: boolean;
}

export type StepResult = 'PASS' | 'FAIL' | 'SKIP';

export interface StepReport {
  readonly step: string;
  readonly result: StepResult;
  readonly ms: number;
  readonly detail: string;
}

/** The steps, in order; each is reported, and a failed one skips what depends on it. */
export const SMOKE_STEPS = [
  'register',
  'upload',
  'verify',
  'request Production',
  'approve',
  'download',
  'events',
  'cleanup',
] as const;
type Step = (typeof SMOKE_STEPS)[number];

class Skip extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the smoke test; never throws: every outcome is a row. */
export async function runSmoke(options: SmokeOptions): Promise<StepReport[]> {
  const timeoutMs = (options.timeoutSeconds ?? 300) * 1000;
  const common = { endpoint: options.endpoint, ...(options.region ? { region: options.region } : {}) };
  const requester = new RegistryClient({
    ...common,
    ...(options.profile ? { profile: options.profile } : {}),
  });
  const approver = new RegistryClient({ ...common, profile: options.approverProfile });
  const name = `${SMOKE_TEST_MODEL_PREFIX}${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const work = mkdtempSync(join(tmpdir(), 'registry-smoke-'));
  const file = join(work, 'model.bin');
  const content = randomBytes(256 * 1024);
  writeFileSync(file, content);

  const reports: StepReport[] = [];
  const failed = new Set<Step>();
  let registered = false;
  let version: ModelVersion | undefined;
  let requestId: string | undefined;
  const expected: EventType[] = ['RegisteredModelCreated'];

  const step = async (
    stepName: Step,
    needs: readonly Step[],
    body: () => Promise<string | { detail: string; ms: number }>,
  ): Promise<void> => {
    const start = Date.now();
    const blocker = needs.find((n) => failed.has(n));
    if (blocker) {
      failed.add(stepName);
      reports.push({ step: stepName, result: 'SKIP', ms: 0, detail: `not run: ${blocker} failed` });
      return;
    }
    try {
      const out = await body();
      const [detail, ms] = typeof out === 'string' ? [out, Date.now() - start] : [out.detail, out.ms];
      reports.push({ step: stepName, result: 'PASS', ms, detail });
    } catch (err) {
      if (err instanceof Skip) {
        reports.push({ step: stepName, result: 'SKIP', ms: Date.now() - start, detail: err.message });
        return;
      }
      failed.add(stepName);
      reports.push({ step: stepName, result: 'FAIL', ms: Date.now() - start, detail: describe(err) });
    }
  };

  try {
    await step('register', [], async () => {
      await requester.createRegisteredModel(name, { description: 'Smoke test (deleted at the end)' });
      registered = true;
      return name;
    });

    // One SDK call uploads and then waits for verification: its progress tells the two apart.
    let uploaded = 0;
    let uploadError: unknown;
    const uploadStart = Date.now();
    let verifyStart = 0;
    try {
      if (failed.has('register')) throw new Skip();
      version = await requester.uploadModel(name, file, {
        resume: false,
        metrics: { accuracy: 0.9 },
        timeoutMs,
        onProgress: (p) => {
          if (p.phase === 'uploading') uploaded = p.bytesDone;
          if (p.phase === 'verifying' && !verifyStart) verifyStart = Date.now();
        },
      });
    } catch (err) {
      uploadError = err;
    }
    const verifiedAt = Date.now();
    await step('upload', ['register'], async () => {
      if (uploadError && !verifyStart) throw uploadError;
      return { detail: `${uploaded.toLocaleString('en-US')} bytes`, ms: verifyStart - uploadStart };
    });
    expected.push('ModelVersionCreated', 'ModelVersionRegistrationSettled');
    await step('verify', ['upload'], async () => {
      if (uploadError) throw uploadError;
      if (version?.status !== 'READY') throw new Error(`version ${version?.version} is ${version?.status}`);
      return { detail: `version ${version.version} READY`, ms: verifiedAt - verifyStart };
    });

    await step('request Production', ['verify'], async () => {
      const outcome = await requester.transitionModelVersionStage(name, version!.version, {
        stage: 'Production',
      });
      if (outcome.transition_request) {
        requestId = outcome.transition_request.id;
        expected.push('TransitionRequested');
        return `request ${requestId} (${outcome.transition_request.status})`;
      }
      expected.push('ModelVersionStageChanged');
      return 'applied at once: Production is not guarded by the governance policy';
    });

    await step('approve', ['request Production'], async () => {
      if (!requestId) throw new Skip('nothing to approve: Production is not guarded');
      const deadline = Date.now() + timeoutMs;
      // The workflow checks the quality gates first; the request then waits for approvers.
      for (;;) {
        const request = await requester.getTransitionRequest(name, requestId);
        if (request.awaiting_approval || request.status !== 'PENDING') break;
        if (Date.now() > deadline)
          throw new Error(`request not waiting for approval after ${timeoutMs / 1000} s`);
        await sleep(250);
      }
      await approver.approveTransitionRequest(name, requestId, 'Smoke test');
      expected.push('TransitionApproved', 'ModelVersionStageChanged');
      for (;;) {
        const v = await requester.getModelVersion(name, version!.version);
        if (v.current_stage === 'Production')
          return `approved by ${options.approverProfile}; version in Production`;
        const request = await requester.getTransitionRequest(name, requestId);
        if (!['PENDING', 'APPROVED', 'APPLIED'].includes(request.status)) {
          throw new Error(
            `the request ended ${request.status}${request.reason ? `: ${request.reason}` : ''}`,
          );
        }
        if (Date.now() > deadline) throw new Error(`still ${v.current_stage} after ${timeoutMs / 1000} s`);
        await sleep(500);
      }
    });

    await step('download', ['approve'], async () => {
      const out = join(work, 'download');
      await requester.downloadModel(`models:/${name}/Production`, out);
      const got = readFileSync(join(out, 'model.bin'));
      if (!got.equals(content)) throw new Error(`downloaded ${got.length} bytes that differ from the upload`);
      return `${got.length.toLocaleString('en-US')} bytes, identical`;
    });

    await step('events', ['register'], async () => {
      const source = eventSource(requester, options);
      const seen = new Set<string>();
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const type of await source.read(name)) seen.add(type);
        const missing = expected.filter((t) => !seen.has(t));
        if (missing.length === 0)
          return `${expected.length} of ${expected.length} seen (${source.description})`;
        if (Date.now() > deadline) {
          throw new Error(
            `missing after ${timeoutMs / 1000} s: ${missing.join(', ')} (${source.description})`,
          );
        }
        await sleep(source.pollMs);
      }
    });
  } finally {
    await step('cleanup', [], async () => {
      if (!registered) throw new Skip('nothing was created');
      if (options.keep) throw new Skip(`kept ${name} (--keep)`);
      return cleanup(requester, approver, name, version, requestId);
    });
    rmSync(work, { recursive: true, force: true });
  }
  return reports;
}

/** Deletes the model: cancels an open request and archives a live version first (live versions are protected). */
async function cleanup(
  requester: RegistryClient,
  approver: RegistryClient,
  name: string,
  version: ModelVersion | undefined,
  requestId: string | undefined,
): Promise<string> {
  if (requestId) {
    const request = await requester.getTransitionRequest(name, requestId);
    if (request.status === 'PENDING')
      await requester.cancelTransitionRequest(name, requestId, 'Smoke test cleanup');
  }
  if (version) {
    const v = await requester.getModelVersion(name, version.version);
    if (v.current_stage !== 'None' && v.current_stage !== 'Archived') {
      const outcome = await requester.transitionModelVersionStage(name, version.version, {
        stage: 'Archived',
      });
      // A policy that guards Archived too: the approver approves the archive as well.
      if (outcome.transition_request) {
        await approver.approveTransitionRequest(name, outcome.transition_request.id, 'Smoke test cleanup');
        for (let i = 0; i < 120; i++) {
          if ((await requester.getModelVersion(name, version.version)).current_stage === 'Archived') break;
          await sleep(500);
        }
      }
    }
  }
  await requester.deleteRegisteredModel(name);
  return `deleted ${name}`;
}

interface EventSource {
  readonly description: string;
  readonly pollMs: number;
  /** Detail-types of the model's events seen since the last call (or all, for the local log). */
  read(modelName: string): Promise<string[]>;
}

function eventSource(client: RegistryClient, options: SmokeOptions): EventSource {
  if (options.eventsQueue) return queueSource(options.eventsQueue, options);
  if (client.isLocal) {
    return {
      description: 'the local event log',
      pollMs: 200,
      read: async (modelName) =>
        (await client.listLocalEvents()).events
          .filter(
            (e) =>
              matchesPattern(SMOKE_TEST_PATTERN, e as unknown as Record<string, unknown>) &&
              e.detail.model?.name === modelName,
          )
          .map((e) => e['detail-type']),
    };
  }
  throw new Error(
    'a deployed registry needs --events-queue <SmokeTestEventQueueUrl> (stack output) to see its events',
  );
}

/** The construct's smoke-test queue: messages of this model are read and deleted, others left. */
function queueSource(queueUrl: string, options: SmokeOptions): EventSource {
  const region = options.region ?? /^https:\/\/sqs\.([a-z0-9-]+)\./.exec(queueUrl)?.[1];
  const sqs = new SQSClient({
    ...(region ? { region } : {}),
    credentials: fromNodeProviderChain(options.profile ? { profile: options.profile } : {}),
  });
  return {
    description: 'the smoke-test queue',
    pollMs: 0,
    read: async (modelName) => {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 10 }),
      );
      const types: string[] = [];
      for (const message of out.Messages ?? []) {
        const event = JSON.parse(message.Body ?? '{}') as {
          'detail-type'?: string;
          detail?: { model?: { name?: string } };
        };
        // Another run's events stay for that run (visible again after the visibility timeout).
        if (event.detail?.model?.name !== modelName) continue;
        types.push(event['detail-type'] ?? '');
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
      return types;
    },
  };
}

function describe(err: unknown): string {
  if (err instanceof RegistryApiError) return `HTTP ${err.status} ${err.errorCode}: ${err.message}`;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${typeof code === 'string' ? ` ${code}` : ''}: ${err.message}`;
  }
  return String(err);
}

/** The report as a table. */
export function formatReport(reports: readonly StepReport[]): string {
  const rows = [
    ['step', 'result', 'time', 'detail'],
    ...reports.map((r) => [r.step, r.result, `${(r.ms / 1000).toFixed(1)} s`, r.detail]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) => row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  '))
    .join('\n');
}

const USAGE = `Usage: npm run smoke -- --endpoint <ApiUrl> --approver-profile <profile> [--profile <profile>]
         [--events-queue <SmokeTestEventQueueUrl>] [--region <region>] [--timeout <seconds>] [--keep]`;

export async function main(argv: readonly string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        endpoint: { type: 'string' },
        profile: { type: 'string' },
        'approver-profile': { type: 'string' },
        'events-queue': { type: 'string' },
        region: { type: 'string' },
        timeout: { type: 'string' },
        keep: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (!values.endpoint || !values['approver-profile'] || (timeout !== undefined && !(timeout > 0))) {
    console.error(USAGE);
    return 2;
  }
  const reports = await runSmoke({
    endpoint: String(values.endpoint),
    approverProfile: String(values['approver-profile']),
    ...(values.profile ? { profile: String(values.profile) } : {}),
    ...(values['events-queue'] ? { eventsQueue: String(values['events-queue']) } : {}),
    ...(values.region ? { region: String(values.region) } : {}),
    ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
    keep: values.keep === true,
  });
  console.log(formatReport(reports));
  const failedSteps = reports.filter((r) => r.result === 'FAIL').length;
  console.log(failedSteps === 0 ? '\nSmoke test passed.' : `\nSmoke test FAILED (${failedSteps} step(s)).`);
  return failedSteps === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
