/**
 * The `mreg` commands: one for every SDK method (see COMMAND_FOR_OPERATION), plus the high-level
 * artifact upload (`versions create --artifact`) and `download`.
 */
import { statSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  type GovernancePolicyOverride,
  type GovernancePolicyResponse,
  isLoopback,
  type ModelVersion,
  type PolicyChangeOutcome,
  type PolicyChangeRequest,
  RegistryClient,
  type SdkOperationId,
  type TransitionRequest,
} from '../sdk';
import {
  auditTable,
  bytes,
  filesTable,
  modelDetails,
  modelsTable,
  policyDetails,
  requestDetails,
  requestsTable,
  table,
  transitionsTable,
  versionDetails,
  versionsTable,
} from './format';
import { progressReporter } from './progress';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:5000';

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {}

/** The command that calls each SDK method (a test checks that every API operation has one). */
export const COMMAND_FOR_OPERATION: Record<SdkOperationId, string> = {
  createRegisteredModel: 'models create',
  searchRegisteredModels: 'models list',
  getRegisteredModel: 'models get',
  updateRegisteredModel: 'models update',
  deleteRegisteredModel: 'models delete',
  renameRegisteredModel: 'models rename',
  setRegisteredModelTag: 'models tag',
  deleteRegisteredModelTag: 'models untag',
  getLatestVersions: 'latest',
  setRegisteredModelAlias: 'alias set',
  deleteRegisteredModelAlias: 'alias delete',
  getModelVersionByAlias: 'alias get',
  createModelVersion: 'versions create',
  getUploadUrls: 'versions upload-urls',
  finalizeModelVersion: 'versions finalize',
  getModelVersionDownload: 'versions download-urls',
  resolveModelUri: 'resolve',
  listModelVersions: 'versions list',
  getModelVersion: 'versions get',
  updateModelVersion: 'versions update',
  deleteModelVersion: 'versions delete',
  setModelVersionTag: 'versions tag',
  deleteModelVersionTag: 'versions untag',
  transitionModelVersionStage: 'promote',
  listTransitions: 'transitions',
  listTransitionRequests: 'requests list',
  getTransitionRequest: 'requests get',
  approveTransitionRequest: 'requests approve',
  rejectTransitionRequest: 'requests reject',
  cancelTransitionRequest: 'requests cancel',
  rollbackProduction: 'rollback',
  getGovernancePolicy: 'policy get',
  setGovernancePolicy: 'policy set',
  deleteGovernancePolicy: 'policy delete',
  listPolicyChangeRequests: 'policy requests list',
  getPolicyChangeRequest: 'policy requests get',
  approvePolicyChangeRequest: 'policy requests approve',
  rejectPolicyChangeRequest: 'policy requests reject',
  cancelPolicyChangeRequest: 'policy requests cancel',
  listOpenTransitionRequests: 'requests inbox',
  breakGlassTransition: 'break-glass stage',
  breakGlassSetAlias: 'break-glass alias-set',
  breakGlassDeleteAlias: 'break-glass alias-delete',
  breakGlassDeleteModelVersion: 'break-glass delete-version',
  breakGlassDeleteRegisteredModel: 'break-glass delete-model',
  getAuditLog: 'audit',
  getStageHistory: 'stage-history',
  searchModelVersions: 'search',
  getOpenApiDocument: 'openapi',
};

interface GlobalOptions {
  endpoint: string;
  region?: string;
  profile?: string;
  json?: boolean;
}

// ------------------------------------------------------------------ option parsers

const collect = (value: string, previous: string[] = []) => [...previous, value];

function keyValues(values: readonly string[] | undefined, what: string): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`--${what} expects key=value, got '${v}'.`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

function numericValues(values: readonly string[] | undefined): Record<string, number> | undefined {
  const raw = keyValues(values, 'metric');
  if (!raw) return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw)) {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n))
      throw new UsageError(`--metric ${k} must be a number, got '${v}'.`);
    out[k] = n;
  }
  return out;
}

function instant(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected epoch milliseconds or an ISO 8601 date');
  return n;
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('expected a whole number ≥ 1');
  return Number(value);
}

function versionNumber(value: string): string {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a version number');
  return value;
}

/** `path` or `path:1,2,5-8` (part numbers of a multipart file). */
function fileParts(spec: string): { path: string; part_numbers?: number[] } {
  const m = /^(.*):(\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)$/.exec(spec);
  if (!m) return { path: spec };
  const numbers: number[] = [];
  for (const range of m[2]!.split(',')) {
    const [a, b = a] = range.split('-').map(Number) as [number, number?];
    if (b! < a) throw new UsageError(`Bad part range '${range}' in --file ${spec}.`);
    for (let n = a; n <= b!; n++) numbers.push(n);
  }
  return { path: m[1]!, part_numbers: numbers };
}

// ------------------------------------------------------------------ the program

export function buildProgram(): Command {
  const program = new Command('mreg');
  program
    .description('Command-line client of the Serverless Model Registry.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      outputError: (message, write) => write(`mreg: ${message.replace(/^error: /, '')}`),
    })
    .addOption(
      new Option('--endpoint <url>', 'registry API base URL').env('MREG_ENDPOINT').default(DEFAULT_ENDPOINT),
    )
    .option('--region <region>', 'signing region (default: AWS_REGION, else us-east-1)')
    .option('--profile <profile>', 'AWS profile for credentials (sets AWS_PROFILE)')
    .option('--json', 'machine-readable output: the API JSON on stdout, nothing else')
    .showSuggestionAfterError(true);

  const global = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions;
  let cached: RegistryClient | undefined;
  const client = (cmd: Command) => {
    if (cached) return cached;
    const opts = global(cmd);
    if (opts.profile) process.env.AWS_PROFILE = opts.profile;
    let url: URL;
    try {
      url = new URL(opts.endpoint);
    } catch {
      throw new UsageError(`--endpoint is not a URL: '${opts.endpoint}'.`);
    }
    // Local mode needs no instance metadata; do not wait for it when looking for credentials.
    if (isLoopback(url.hostname)) process.env.AWS_EC2_METADATA_DISABLED ??= 'true';
    cached = new RegistryClient({ endpoint: opts.endpoint, ...(opts.region ? { region: opts.region } : {}) });
    return cached;
  };
  const output = (cmd: Command, json: unknown, human: () => string | undefined) => {
    if (global(cmd).json) {
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      return;
    }
    const text = human();
    if (text) process.stdout.write(`${text}\n`);
  };
  const pageHint = (token: string | undefined) => (token ? `\n(more: --page-token ${token})` : '');
  const progress = (cmd: Command) => progressReporter(Boolean(process.stderr.isTTY) && !global(cmd).json);

  // ---------------------------------------------------------------- models
  const models = program.command('models').description('registered models');

  models
    .command('create')
    .description('create a registered model')
    .argument('<name>')
    .option('--description <text>')
    .option('--tag <key=value>', 'tag (repeatable)', collect)
    .action(async (name: string, o: { description?: string; tag?: string[] }, cmd: Command) => {
      const tags = keyValues(o.tag, 'tag');
      const model = await client(cmd).createRegisteredModel(name, {
        ...(o.description !== undefined ? { description: o.description } : {}),
        ...(tags ? { tags } : {}),
      });
      output(cmd, { registered_model: model }, () => `Created model ${model.name}.`);
    });

  models
    .command('get')
    .description('show a registered model')
    .argument('<name>')
    .action(async (name: string, _o, cmd: Command) => {
      const model = await client(cmd).getRegisteredModel(name);
      output(cmd, { registered_model: model }, () => modelDetails(model));
    });

  models
    .command('list')
    .description('list registered models (optionally filtered)')
    .option('--filter <filter>', 'e.g. "name LIKE \'churn%\'"')
    .option('--order-by <clause>', 'e.g. "name ASC" (repeatable)', collect)
    .option('--max-results <n>', 'page size', positiveInt)
    .option('--page-token <token>')
    .action(async (o: SearchOptions, cmd: Command) => {
      const page = await client(cmd).searchRegisteredModels(searchParams(o));
      output(cmd, page, () => modelsTable(page.registered_models) + pageHint(page.next_page_token));
    });

  models
    .command('update')
    .description("set a registered model's description")
    .argument('<name>')
    .requiredOption('--description <text>')
    .action(async (name: string, o: { description: string }, cmd: Command) => {
      const model = await client(cmd).updateRegisteredModel(name, o.description);
      output(cmd, { registered_model: model }, () => `Updated model ${model.name}.`);
    });

  models
    .command('rename')
    .description('rename a registered model')
    .argument('<name>')
    .argument('<new-name>')
    .action(async (name: string, newName: string, _o, cmd: Command) => {
      const model = await client(cmd).renameRegisteredModel(name, newName);
      output(cmd, { registered_model: model }, () => `Renamed model ${name} to ${model.name}.`);
    });

  models
    .command('delete')
    .description('delete a registered model with its versions, tags and aliases')
    .argument('<name>')
    .action(async (name: string, _o, cmd: Command) => {
      await client(cmd).deleteRegisteredModel(name);
      output(cmd, {}, () => `Deleted model ${name}.`);
    });

  models
    .command('tag')
    .description('set a tag on a registered model')
    .argument('<name>')
    .argument('<key>')
    .argument('<value>')
    .action(async (name: string, key: string, value: string, _o, cmd: Command) => {
      await client(cmd).setRegisteredModelTag(name, key, value);
      output(cmd, {}, () => `Tagged model ${name}: ${key}=${value}.`);
    });

  models
    .command('untag')
    .description('delete a tag of a registered model')
    .argument('<name>')
    .argument('<key>')
    .action(async (name: string, key: string, _o, cmd: Command) => {
      await client(cmd).deleteRegisteredModelTag(name, key);
      output(cmd, {}, () => `Removed tag ${key} from model ${name}.`);
    });

  // ---------------------------------------------------------------- versions
  const versions = program.command('versions').description('model versions');

  versions
    .command('create')
    .description('register a version: upload files (--artifact) or point at them (--source)')
    .argument('<name>')
    .option('--artifact <path>', 'file or directory to upload into the registry')
    .option('--source <uri>', 'where the model lives (s3://…, runs:/…) when not uploading')
    .option('--run-id <id>')
    .option('--run-link <url>')
    .option('--metric <key=value>', 'numeric metric (repeatable)', collect)
    .option('--param <key=value>', 'parameter (repeatable)', collect)
    .option('--tag <key=value>', 'tag (repeatable)', collect)
    .option('--description <text>')
    .option('--dataset-name <name>')
    .option('--dataset-digest <digest>')
    .option('--dataset-uri <uri>')
    .option('--client-token <token>', 'idempotency token of the create')
    .option('--concurrency <n>', 'parallel transfers (default 4)', positiveInt)
    .option('--no-resume', 'do not resume an interrupted upload of the same files')
    .action(async (name: string, o: CreateVersionOptions, cmd: Command) => {
      if (Boolean(o.artifact) === Boolean(o.source)) {
        throw new UsageError('Give exactly one of --artifact PATH or --source URI.');
      }
      const metrics = numericValues(o.metric);
      const parameters = keyValues(o.param, 'param');
      const tags = keyValues(o.tag, 'tag');
      const dataset =
        o.datasetName || o.datasetDigest || o.datasetUri
          ? {
              ...(o.datasetName ? { name: o.datasetName } : {}),
              ...(o.datasetDigest ? { digest: o.datasetDigest } : {}),
              ...(o.datasetUri ? { uri: o.datasetUri } : {}),
            }
          : undefined;
      const common = {
        ...(metrics ? { metrics } : {}),
        ...(parameters ? { parameters } : {}),
        ...(tags ? { tags } : {}),
        ...(dataset ? { dataset } : {}),
        ...(o.description !== undefined ? { description: o.description } : {}),
      };
      let version: ModelVersion;
      if (o.artifact) {
        try {
          statSync(o.artifact);
        } catch {
          throw new UsageError(`--artifact: no such file or directory: ${o.artifact}`);
        }
        const bars = progress(cmd);
        try {
          version = await client(cmd).uploadModel(name, o.artifact, {
            ...common,
            ...(o.runId !== undefined ? { runId: o.runId } : {}),
            ...(o.runLink !== undefined ? { runLink: o.runLink } : {}),
            ...(o.clientToken ? { clientToken: o.clientToken } : {}),
            ...(o.concurrency ? { concurrency: o.concurrency } : {}),
            resume: o.resume,
            ...(bars.onProgress ? { onProgress: bars.onProgress } : {}),
          });
        } finally {
          bars.stop();
        }
      } else {
        const created = await client(cmd).createModelVersion(name, {
          ...common,
          source: o.source!,
          ...(o.runId !== undefined ? { run_id: o.runId } : {}),
          ...(o.runLink !== undefined ? { run_link: o.runLink } : {}),
          ...(o.clientToken ? { client_token: o.clientToken } : {}),
        });
        version = created.model_version;
      }
      output(cmd, { model_version: version }, () => {
        const files = version.files ?? [];
        const size = files.length
          ? `, ${files.length} file${files.length === 1 ? '' : 's'}, ${bytes(files.reduce((n, f) => n + f.size, 0))}`
          : '';
        return `Registered ${version.name} version ${version.version} (${version.status}${size}).`;
      });
    });

  versions
    .command('get')
    .description('show a model version')
    .argument('<name>')
    .argument('<version>', 'version number', versionNumber)
    .action(async (name: string, version: string, _o, cmd: Command) => {
      const v = await client(cmd).getModelVersion(name, version);
      output(cmd, { model_version: v }, () => versionDetails(v));
    });

  versions
    .command('list')
    .description('list the versions of a model')
    .argument('<name>')
    .option('--order-by <clause>', 'e.g. "version_number DESC" (repeatable)', collect)
    .option('--max-results <n>', 'page size', positiveInt)
    .option('--page-token <token>')
    .action(async (name: string, o: SearchOptions, cmd: Command) => {
      const { filter: _, ...params } = searchParams(o);
      const page = await client(cmd).listModelVersions(name, params);
      output(cmd, page, () => versionsTable(page.model_versions) + pageHint(page.next_page_token));
    });

  versions
    .command('update')
    .description("set a version's description")
    .argument('<name>')
    .argument('<version>', 'version number', versionNumber)
    .requiredOption('--description <text>')
    .action(async (name: string, version: string, o: { description: string }, cmd: Command) => {
      const v = await client(cmd).updateModelVersion(name, version, o.description);
      output(cmd, { model_version: v }, () => `Updated ${v.name} version ${v.version}.`);
    });

  versions
    .command('delete')
    .description('delete a version (and the aliases pointing at it)')
    .argument('<name>')
    .argument('<version>', 'version number', versionNumber)
    .action(async (name: string, version: string, _o, cmd: Command) => {
      await client(cmd).deleteModelVersion(name, version);
      output(cmd, {}, () => `Deleted ${name} version ${version}.`);
    });

  versions
    .command('tag')
    .description('set a tag on a version')
    .argument('<name>')
    .argument('<version>', 'version number', versionNumber)
    .argument('<key>')
    .argument('<value>')
    .action(async (name: string, version: string, key: string, value: string, _o, cmd: Command) => {
      await client(cmd).setModelVersionTag(name, version, key, value);
      output(cmd, {}, () => `Tagged ${name} version ${version}: ${key}=${value}.`);
    });

  versions
    .command('untag')
    .description('delete a tag of a version')
    .argument('<name>')
    .argument('<version>', 'version number', versionNumber)
    .argument('<key>')
    .action(async (name: string, version: string, key: string, _o, cmd: Command) => {
      await client(cmd).deleteModelVersionTag(name, version, key);
      output(cmd, {}, () => `Removed tag ${key} from ${name} version ${version}.`);
    });

  versions
    .command('upload-urls')
    .description(
      'fresh presigned upload URLs of a pending version (low level; see versions create --artifact)',
    )
    .argument('<name>')
    .argument('<version>', 'version number', versionNumber)
    .option(
      '--file <path[:parts]>',
      'a file, optionally with part numbers, e.g. big.bin:1-3,7 (repeatable)',
      collect,
    )
    .action(async (name: string, version: string, o: { file?: string[] }, cmd: Command) => {
      const files = o.file?.map(fileParts);
      const res = await client(cmd).getUploadUrls(name, version, files ? { files } : {});
      output(cmd, res, () => {
        const rows = res.upload.files.flatMap((f) =>
          f.method === 'PUT'
            ? [[f.path, 'PUT', '', f.url ?? '']]
            : (f.parts ?? []).map((p) => [f.path, 'PART', String(p.part_number), p.url]),
        );
        return `expires ${new Date(res.upload.expires_at).toISOString()}\n${table(['PATH', 'METHOD', 'PART', 'URL'], rows)}`;
      });
    });

  versions
    .command('finalize')
    .description('complete the upload of a pending version and start its verification (low level)')
    .argument('<name>')
    .argument('<version>', 'version number', versionNumber)
    .option('--parts <json>', 'multipart ETags: {"path": [{"part_number": 1, "etag": "…"}]}')
    .action(async (name: string, version: string, o: { parts?: string }, cmd: Command) => {
      let parts: Record<string, { part_number: number; etag: string }[]> | undefined;
      if (o.parts) {
        try {
          parts = JSON.parse(o.parts);
        } catch {
          throw new UsageError('--parts must be JSON.');
        }
      }
      const v = await client(cmd).finalizeModelVersion(name, version, parts ? { parts } : {});
      output(cmd, { model_version: v }, () => versionDetails(v));
    });

  versions
    .command('download-urls')
    .description('presigned download URLs and manifest of a READY version (low level; see download)')
    .argument('<name>')
    .argument('<version>', 'version number', versionNumber)
    .action(async (name: string, version: string, _o, cmd: Command) => {
      const res = await client(cmd).getModelVersionDownload(name, version);
      output(cmd, res, () => downloadSummary(res.download));
    });

  // ---------------------------------------------------------------- stages
  program
    .command('promote')
    .alias('transition')
    .description('move a version to a stage (None, Staging, Production, Archived)')
    .argument('<name>')
    .argument('<version>', 'version number', versionNumber)
    .requiredOption('--stage <stage>', 'target stage')
    .option('--archive-existing', 'archive the versions already in that stage')
    .option('--comment <text>')
    .action(
      async (
        name: string,
        version: string,
        o: { stage: string; archiveExisting?: boolean; comment?: string },
        cmd: Command,
      ) => {
        const outcome = await client(cmd).transitionModelVersionStage(name, version, {
          stage: o.stage,
          ...(o.archiveExisting ? { archive_existing_versions: true } : {}),
          ...(o.comment !== undefined ? { comment: o.comment } : {}),
        });
        output(cmd, outcome, () => {
          const v = outcome.model_version;
          if (v) return `${v.name} version ${v.version} is now in ${v.current_stage}.`;
          const r = outcome.transition_request!;
          return `${r.to_stage} is guarded: requested the transition of ${r.name} version ${r.version} (request ${r.id}, ${r.required_approvals} approval${r.required_approvals === 1 ? '' : 's'} needed). See: mreg requests get ${r.name} ${r.id}`;
        });
      },
    );

  program
    .command('transitions')
    .description("a model's stage transitions, newest first")
    .argument('<name>')
    .option('--version <n>', 'only this version', versionNumber)
    .option('--max-results <n>', 'page size', positiveInt)
    .option('--page-token <token>')
    .action(
      async (
        name: string,
        o: { version?: string; maxResults?: number; pageToken?: string },
        cmd: Command,
      ) => {
        const page = await client(cmd).listTransitions(name, {
          ...pageQuery(o),
        });
        output(cmd, page, () => transitionsTable(page.transitions) + pageHint(page.next_page_token));
      },
    );

  program
    .command('latest')
    .description('the highest version in each stage (or in the given ones)')
    .argument('<name>')
    .option('--stage <stage>', 'stage (repeatable)', collect)
    .action(async (name: string, o: { stage?: string[] }, cmd: Command) => {
      const list = await client(cmd).getLatestVersions(name, o.stage);
      output(cmd, { model_versions: list }, () => versionsTable(list));
    });

  // ---------------------------------------------------------------- governance
  const requests = program.command('requests').description('transition requests into guarded stages');
  requests
    .command('list')
    .description("a model's transition requests, newest first")
    .argument('<name>')
    .option('--status <status>', 'PENDING, APPROVED, REJECTED, EXPIRED, CANCELLED, APPLIED or FAILED')
    .option('--version <n>', 'only this version', versionNumber)
    .option('--max-results <n>', 'page size', positiveInt)
    .option('--page-token <token>')
    .action(
      async (
        name: string,
        o: { status?: string; version?: string; maxResults?: number; pageToken?: string },
        cmd: Command,
      ) => {
        const page = await client(cmd).listTransitionRequests(name, {
          ...(o.status ? { status: o.status.toUpperCase() as TransitionRequest['status'] } : {}),
          ...pageQuery(o),
        });
        output(cmd, page, () => requestsTable(page.transition_requests) + pageHint(page.next_page_token));
      },
    );
  requests
    .command('inbox')
    .description('open transition requests across every model (the approval inbox)')
    .option('--status <status>', 'PENDING or APPROVED (default: both)')
    .option('--max-results <n>', 'page size', positiveInt)
    .option('--page-token <token>', 'the next page of a previous answer')
    .action(async (o: { status?: string; maxResults?: number; pageToken?: string }, cmd: Command) => {
      const page = await client(cmd).listOpenTransitionRequests({
        ...(o.status ? { status: o.status.toUpperCase() as 'PENDING' | 'APPROVED' } : {}),
        ...pageQuery(o),
      });
      output(cmd, page, () => requestsTable(page.transition_requests) + pageHint(page.next_page_token));
    });
  const showRequest = (cmd: Command, r: TransitionRequest, verb?: string) =>
    output(cmd, { transition_request: r }, () =>
      verb
        ? `${verb} request ${r.id} (${r.name} version ${r.version} → ${r.to_stage}): ${r.status}.`
        : requestDetails(r),
    );
  requests
    .command('get')
    .description('show a transition request')
    .argument('<name>')
    .argument('<request-id>')
    .action(async (name: string, id: string, _o, cmd: Command) => {
      showRequest(cmd, await client(cmd).getTransitionRequest(name, id));
    });
  requests
    .command('approve')
    .description('approve a pending request')
    .argument('<name>')
    .argument('<request-id>')
    .option('--comment <text>')
    .action(async (name: string, id: string, o: { comment?: string }, cmd: Command) => {
      showRequest(cmd, await client(cmd).approveTransitionRequest(name, id, o.comment), 'Approved');
    });
  requests
    .command('reject')
    .description('reject a pending request')
    .argument('<name>')
    .argument('<request-id>')
    .requiredOption('--reason <text>')
    .action(async (name: string, id: string, o: { reason: string }, cmd: Command) => {
      showRequest(cmd, await client(cmd).rejectTransitionRequest(name, id, o.reason), 'Rejected');
    });
  requests
    .command('cancel')
    .description('withdraw your own pending request')
    .argument('<name>')
    .argument('<request-id>')
    .option('--reason <text>')
    .action(async (name: string, id: string, o: { reason?: string }, cmd: Command) => {
      showRequest(cmd, await client(cmd).cancelTransitionRequest(name, id, o.reason), 'Cancelled');
    });

  program
    .command('rollback')
    .description('re-promote the previous Production version and archive the current one')
    .argument('<name>')
    .option('--comment <text>')
    .action(async (name: string, o: { comment?: string }, cmd: Command) => {
      const v = await client(cmd).rollbackProduction(name, o.comment);
      output(
        cmd,
        { model_version: v },
        () => `Rolled ${name} back: version ${v.version} is in ${v.current_stage}.`,
      );
    });

  const policy = program.command('policy').description("a model's governance policy");
  policy
    .command('get')
    .description("the effective policy and this model's overrides")
    .argument('<name>')
    .action(async (name: string, _o, cmd: Command) => {
      const res = await client(cmd).getGovernancePolicy(name);
      output(cmd, res, () => policyDetails(res));
    });
  const showPolicyOutcome = (cmd: Command, res: PolicyChangeOutcome) =>
    output(cmd, res, () =>
      res.policy_request
        ? `The change weakens the policy (${res.policy_request.weakenings.join('; ')}): policy change request ${res.policy_request.id} waits for ${res.policy_request.required_approvals} approval(s) by other policy admins.`
        : policyDetails(res as GovernancePolicyResponse),
    );
  policy
    .command('set')
    .description(
      "override the deployment's policy for this model (JSON object); a weakening change becomes a request",
    )
    .argument('<name>')
    .argument('<policy-json>', 'e.g. \'{"guarded_stages": ["Production"], "required_approvals": 2}\'')
    .option('--comment <text>', 'why (recorded in the audit log)')
    .action(async (name: string, text: string, o: { comment?: string }, cmd: Command) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new UsageError('The policy must be JSON: an object of the fields to override.');
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new UsageError(
          'The policy must be a JSON object (remove the overrides with `mreg policy delete`).',
        );
      }
      showPolicyOutcome(
        cmd,
        await client(cmd).setGovernancePolicy(name, parsed as GovernancePolicyOverride, o.comment),
      );
    });
  policy
    .command('delete')
    .description("remove this model's overrides (a request when that weakens its policy)")
    .argument('<name>')
    .option('--comment <text>', 'why (recorded in the audit log)')
    .action(async (name: string, o: { comment?: string }, cmd: Command) => {
      showPolicyOutcome(cmd, await client(cmd).deleteGovernancePolicy(name, o.comment));
    });
  const policyRequests = policy.command('requests').description('policy change requests');
  const showPolicyRequest = (cmd: Command, r: PolicyChangeRequest) =>
    output(cmd, { policy_request: r }, () =>
      [
        `${r.id} (${r.name}): ${r.status}${r.reason ? ` (${r.reason})` : ''}`,
        `  weakens: ${r.weakenings.join('; ')}`,
        `  before: ${JSON.stringify(r.before)}`,
        `  after:  ${JSON.stringify(r.after)}`,
        `  approvals: ${r.approvals.length} of ${r.required_approvals}${r.approvals.length ? ` (${r.approvals.map((a) => a.person).join(', ')})` : ''}`,
        `  requester: ${r.requester_person}`,
      ].join('\n'),
    );
  policyRequests
    .command('list')
    .description("a model's policy change requests, newest first")
    .argument('<name>')
    .option('--status <status>', 'only requests in this status')
    .action(async (name: string, o: { status?: string }, cmd: Command) => {
      const page = await client(cmd).listPolicyChangeRequests(name, {
        ...(o.status ? { status: o.status.toUpperCase() as PolicyChangeRequest['status'] } : {}),
      });
      output(cmd, page, () =>
        table(
          ['ID', 'STATUS', 'WEAKENS', 'APPROVALS', 'REQUESTER'],
          page.policy_requests.map((r) => [
            r.id,
            r.status,
            r.weakenings.join('; '),
            `${r.approvals.length}/${r.required_approvals}`,
            r.requester_person,
          ]),
        ),
      );
    });
  policyRequests
    .command('get')
    .description('show a policy change request')
    .argument('<name>')
    .argument('<request-id>')
    .action(async (name: string, id: string, _o, cmd: Command) => {
      showPolicyRequest(cmd, await client(cmd).getPolicyChangeRequest(name, id));
    });
  policyRequests
    .command('approve')
    .description('approve a policy change request (not your own)')
    .argument('<name>')
    .argument('<request-id>')
    .option('--comment <text>', 'why')
    .action(async (name: string, id: string, o: { comment?: string }, cmd: Command) => {
      showPolicyRequest(cmd, await client(cmd).approvePolicyChangeRequest(name, id, o.comment));
    });
  policyRequests
    .command('reject')
    .description('reject a policy change request')
    .argument('<name>')
    .argument('<request-id>')
    .requiredOption('--reason <text>', 'why (required)')
    .action(async (name: string, id: string, o: { reason: string }, cmd: Command) => {
      showPolicyRequest(cmd, await client(cmd).rejectPolicyChangeRequest(name, id, o.reason));
    });
  policyRequests
    .command('cancel')
    .description('withdraw your own policy change request')
    .argument('<name>')
    .argument('<request-id>')
    .option('--reason <text>', 'why')
    .action(async (name: string, id: string, o: { reason?: string }, cmd: Command) => {
      showPolicyRequest(cmd, await client(cmd).cancelPolicyChangeRequest(name, id, o.reason));
    });

  // ---------------------------------------------------------------- break glass
  const breakGlass = program
    .command('break-glass')
    .description('changes that bypass approval, with a reason (for a break-glass role only; audited)');
  breakGlass
    .command('stage')
    .description('move a version to a stage now, bypassing the policy')
    .argument('<name>')
    .argument('<version>', 'version number', versionNumber)
    .requiredOption('--stage <stage>', 'target stage')
    .requiredOption('--reason <text>', 'why the request flow could not be used (required)')
    .option('--archive-existing', 'archive the versions now in the target stage')
    .action(
      async (
        name: string,
        version: string,
        o: { stage: string; reason: string; archiveExisting?: boolean },
        cmd: Command,
      ) => {
        const v = await client(cmd).breakGlassTransition(name, version, {
          stage: o.stage,
          reason: o.reason,
          archive_existing_versions: Boolean(o.archiveExisting),
        });
        output(
          cmd,
          { model_version: v },
          () => `Break glass: ${name} version ${v.version} is in ${v.current_stage}.`,
        );
      },
    );
  breakGlass
    .command('alias-set')
    .description('point any alias (protected ones too) at a version now')
    .argument('<name>')
    .argument('<alias>')
    .argument('<version>', 'version number', versionNumber)
    .requiredOption('--reason <text>', 'why (required)')
    .action(async (name: string, a: string, version: string, o: { reason: string }, cmd: Command) => {
      await client(cmd).breakGlassSetAlias(name, a, version, o.reason);
      output(cmd, {}, () => `Break glass: ${name}@${a} → version ${version}.`);
    });
  breakGlass
    .command('alias-delete')
    .description('delete any alias (protected ones too) now')
    .argument('<name>')
    .argument('<alias>')
    .requiredOption('--reason <text>', 'why (required)')
    .action(async (name: string, a: string, o: { reason: string }, cmd: Command) => {
      await client(cmd).breakGlassDeleteAlias(name, a, o.reason);
      output(cmd, {}, () => `Break glass: deleted ${name}@${a}.`);
    });
  breakGlass
    .command('delete-version')
    .description('delete a version even if it is live')
    .argument('<name>')
    .argument('<version>', 'version number', versionNumber)
    .requiredOption('--reason <text>', 'why (required)')
    .action(async (name: string, version: string, o: { reason: string }, cmd: Command) => {
      await client(cmd).breakGlassDeleteModelVersion(name, version, o.reason);
      output(cmd, {}, () => `Break glass: deleted ${name} version ${version}.`);
    });
  breakGlass
    .command('delete-model')
    .description('delete a model even if it has live versions')
    .argument('<name>')
    .requiredOption('--reason <text>', 'why (required)')
    .action(async (name: string, o: { reason: string }, cmd: Command) => {
      await client(cmd).breakGlassDeleteRegisteredModel(name, o.reason);
      output(cmd, {}, () => `Break glass: deleted ${name}.`);
    });

  program
    .command('audit')
    .description("a model's audit log, newest first")
    .argument('<name>')
    .option('--version <n>', 'only this version', versionNumber)
    .option('--max-results <n>', 'page size', positiveInt)
    .option('--page-token <token>')
    .action(
      async (
        name: string,
        o: { version?: string; maxResults?: number; pageToken?: string },
        cmd: Command,
      ) => {
        const page = await client(cmd).getAuditLog(name, {
          ...pageQuery(o),
        });
        output(cmd, page, () => auditTable(page.entries) + pageHint(page.next_page_token));
      },
    );

  program
    .command('stage-history')
    .description('which versions were in a stage at a given time')
    .argument('<name>')
    .requiredOption('--stage <stage>')
    .option('--at <time>', 'epoch milliseconds or an ISO 8601 date (default: now)', instant)
    .action(async (name: string, o: { stage: string; at?: number }, cmd: Command) => {
      const res = await client(cmd).getStageHistory(name, o.stage, o.at ?? Date.now());
      output(
        cmd,
        res,
        () =>
          `${res.stage} at ${new Date(res.at).toISOString()}: ${res.versions.length ? res.versions.join(', ') : '(none)'}`,
      );
    });

  // ---------------------------------------------------------------- aliases
  const alias = program.command('alias').description('model aliases');
  alias
    .command('set')
    .description('point an alias at a version')
    .argument('<name>')
    .argument('<alias>')
    .argument('<version>', 'version number', versionNumber)
    .action(async (name: string, a: string, version: string, _o, cmd: Command) => {
      const res = await client(cmd).setRegisteredModelAlias(name, a, Number(version));
      output(cmd, res, () =>
        res.transition_request
          ? `@${a} is a protected alias: transition request ${res.transition_request.id} waits for approval (mreg requests approve ${name} ${res.transition_request.id}).`
          : `${name}@${a} → version ${version}.`,
      );
    });
  alias
    .command('delete')
    .description('delete an alias')
    .argument('<name>')
    .argument('<alias>')
    .action(async (name: string, a: string, _o, cmd: Command) => {
      await client(cmd).deleteRegisteredModelAlias(name, a);
      output(cmd, {}, () => `Deleted alias ${name}@${a}.`);
    });
  alias
    .command('get')
    .description('the version an alias points at')
    .argument('<name>')
    .argument('<alias>')
    .action(async (name: string, a: string, _o, cmd: Command) => {
      const v = await client(cmd).getModelVersionByAlias(name, a);
      output(cmd, { model_version: v }, () => versionDetails(v));
    });

  // ---------------------------------------------------------------- artifacts
  program
    .command('download')
    .description(
      'download and verify the files of models:/name/3, models:/name/Production, models:/name@alias, …',
    )
    .argument('<uri>')
    .argument('<dir>')
    .option('--concurrency <n>', 'parallel downloads (default 4)', positiveInt)
    .action(async (uri: string, dir: string, o: { concurrency?: number }, cmd: Command) => {
      const bars = progress(cmd);
      let res: Awaited<ReturnType<RegistryClient['downloadModel']>>;
      try {
        res = await client(cmd).downloadModel(uri, dir, {
          ...(o.concurrency ? { concurrency: o.concurrency } : {}),
          ...(bars.onProgress ? { onProgress: bars.onProgress } : {}),
        });
      } finally {
        bars.stop();
      }
      const d = res.download;
      output(cmd, res, () =>
        d.files.length
          ? `Downloaded ${d.name} version ${d.version} (${d.files.length} file${d.files.length === 1 ? '' : 's'}, ${bytes(d.files.reduce((n, f) => n + f.size, 0))}) to ${dir}.`
          : `${d.name} version ${d.version} has an external source (${d.source}); there is nothing to download.`,
      );
    });

  program
    .command('resolve')
    .description('resolve a models:/ URI to its version and manifest')
    .argument('<uri>')
    .action(async (uri: string, _o, cmd: Command) => {
      const res = await client(cmd).resolveModelUri(uri);
      output(cmd, res, () => `${versionDetails(res.model_version)}\n\n${downloadSummary(res.download)}`);
    });

  // ---------------------------------------------------------------- search
  program
    .command('search')
    .description('search registered models (or versions, with --versions) with MLflow filter syntax')
    .argument('[filter]', 'e.g. "name LIKE \'%churn%\'"')
    .option('--versions', 'search model versions instead of models')
    .option('--order-by <clause>', 'repeatable', collect)
    .option('--max-results <n>', 'page size', positiveInt)
    .option('--page-token <token>')
    .action(async (filter: string | undefined, o: SearchOptions & { versions?: boolean }, cmd: Command) => {
      const params = searchParams({ ...o, ...(filter !== undefined ? { filter } : {}) });
      if (o.versions) {
        const page = await client(cmd).searchModelVersions(params);
        output(cmd, page, () => versionsTable(page.model_versions) + pageHint(page.next_page_token));
      } else {
        const page = await client(cmd).searchRegisteredModels(params);
        output(cmd, page, () => modelsTable(page.registered_models) + pageHint(page.next_page_token));
      }
    });

  program
    .command('openapi')
    .description("print the API's OpenAPI document")
    .action(async (_o, cmd: Command) => {
      const doc = await client(cmd).getOpenApiDocument();
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    });

  return program;
}

interface SearchOptions {
  filter?: string;
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
}

interface CreateVersionOptions {
  artifact?: string;
  source?: string;
  runId?: string;
  runLink?: string;
  metric?: string[];
  param?: string[];
  tag?: string[];
  description?: string;
  datasetName?: string;
  datasetDigest?: string;
  datasetUri?: string;
  clientToken?: string;
  concurrency?: number;
  resume: boolean;
}

/** The paging (and version) query of a listing command, from its options. */
function pageQuery(o: { version?: string; maxResults?: number; pageToken?: string }) {
  return {
    ...(o.version ? { version: o.version } : {}),
    ...(o.maxResults ? { max_results: o.maxResults } : {}),
    ...(o.pageToken ? { page_token: o.pageToken } : {}),
  };
}

function searchParams(o: SearchOptions) {
  return {
    ...(o.filter !== undefined ? { filter: o.filter } : {}),
    ...(o.orderBy?.length ? { order_by: o.orderBy } : {}),
    ...pageQuery(o),
  };
}

function downloadSummary(d: {
  name: string;
  version: number;
  source: string;
  files: { path: string; size: number; sha256: string }[];
}) {
  return d.files.length ? filesTable(d.files) : `(external source ${d.source}: no registry-managed files)`;
}
