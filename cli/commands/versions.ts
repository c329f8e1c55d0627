/** `mreg versions …`: model versions, their upload (high and low level) and their tags. */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import type { ModelVersion } from '../../sdk';
import { client, emit, emitPages, type PageOptions, progress, withPaging } from '../context';
import { bytes, downloadSummary, table, time, versionDetails, versionsTable } from '../format';
import {
  collect,
  fileParts,
  keyValues,
  modelCommand,
  numericValues,
  positiveInt,
  type SearchOptions,
  searchQuery,
  UsageError,
  versionCommand,
  withOrderBy,
} from '../options';

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

export function registerVersionCommands(program: Command): void {
  const versions = program.command('versions').description('model versions');

  modelCommand(
    versions,
    'create',
    'register a version: upload files (--artifact) or point at them (--source)',
  )
    .option('--artifact <path>', 'file or directory to upload into the registry')
    .option('--source <uri>', 'where the model lives (s3://…, runs:/…) when not uploading')
    .option('--run-id <id>', 'id of the training run that produced it')
    .option('--run-link <url>', 'link to the training run')
    .option('--metric <key=value>', 'numeric metric (repeatable)', collect)
    .option('--param <key=value>', 'parameter (repeatable)', collect)
    .option('--tag <key=value>', 'tag (repeatable)', collect)
    .option('--description <text>', 'what changed in this version')
    .option('--dataset-name <name>', 'name of the training dataset')
    .option('--dataset-digest <digest>', 'digest of the training dataset, e.g. sha256:…')
    .option('--dataset-uri <uri>', 'where the training dataset lives')
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
      emit(cmd, { model_version: version }, () => {
        const files = version.files ?? [];
        const size = files.length
          ? `, ${files.length} file${files.length === 1 ? '' : 's'}, ${bytes(files.reduce((n, f) => n + f.size, 0))}`
          : '';
        return `Registered ${version.name} version ${version.version} (${version.status}${size}).`;
      });
    });

  versionCommand(versions, 'get', 'show a model version').action(
    async (name: string, version: string, _o, cmd: Command) => {
      const v = await client(cmd).getModelVersion(name, version);
      emit(cmd, { model_version: v }, () => versionDetails(v));
    },
  );

  const list = modelCommand(versions, 'list', 'list the versions of a model');
  withOrderBy(list, 'version_number DESC');
  withPaging(list).action(async (name: string, o: SearchOptions & PageOptions, cmd: Command) => {
    await emitPages(
      cmd,
      'model_versions',
      o,
      (page) => client(cmd).listModelVersions(name, { ...searchQuery(o), ...page }),
      versionsTable,
    );
  });

  versionCommand(versions, 'update', "set a version's description")
    .requiredOption('--description <text>', 'the new description')
    .action(async (name: string, version: string, o: { description: string }, cmd: Command) => {
      const v = await client(cmd).updateModelVersion(name, version, o.description);
      emit(cmd, { model_version: v }, () => `Updated ${v.name} version ${v.version}.`);
    });

  versionCommand(versions, 'delete', 'delete a version (and the aliases pointing at it)').action(
    async (name: string, version: string, _o, cmd: Command) => {
      await client(cmd).deleteModelVersion(name, version);
      emit(cmd, {}, () => `Deleted ${name} version ${version}.`);
    },
  );

  versionCommand(versions, 'tag', 'set a tag on a version')
    .argument('<key>', 'tag key')
    .argument('<value>', 'tag value')
    .action(async (name: string, version: string, key: string, value: string, _o, cmd: Command) => {
      await client(cmd).setModelVersionTag(name, version, key, value);
      emit(cmd, {}, () => `Tagged ${name} version ${version}: ${key}=${value}.`);
    });

  versionCommand(versions, 'untag', 'delete a tag of a version')
    .argument('<key>', 'tag key')
    .action(async (name: string, version: string, key: string, _o, cmd: Command) => {
      await client(cmd).deleteModelVersionTag(name, version, key);
      emit(cmd, {}, () => `Removed tag ${key} from ${name} version ${version}.`);
    });

  versionCommand(
    versions,
    'upload-urls',
    'fresh presigned upload URLs of a pending version (low level; see versions create --artifact)',
  )
    .option(
      '--file <path[:parts]>',
      'a file, optionally with part numbers, e.g. big.bin:1-3,7 (repeatable)',
      collect,
    )
    .action(async (name: string, version: string, o: { file?: string[] }, cmd: Command) => {
      const files = o.file?.map(fileParts);
      const res = await client(cmd).getUploadUrls(name, version, files ? { files } : {});
      emit(cmd, res, () => {
        const rows = res.upload.files.flatMap((f) =>
          f.method === 'PUT'
            ? [[f.path, 'PUT', '', f.url ?? '']]
            : (f.parts ?? []).map((p) => [f.path, 'PART', String(p.part_number), p.url]),
        );
        return `expires ${time(res.upload.expires_at)}\n${table(['PATH', 'METHOD', 'PART', 'URL'], rows, { keep: ['PATH'], flex: ['URL'] })}`;
      });
    });

  versionCommand(
    versions,
    'finalize',
    'complete the upload of a pending version and start its verification (low level)',
  )
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
      emit(cmd, { model_version: v }, () => versionDetails(v));
    });

  versionCommand(
    versions,
    'download-urls',
    'presigned download URLs and manifest of a READY version (low level; see download)',
  ).action(async (name: string, version: string, _o, cmd: Command) => {
    const res = await client(cmd).getModelVersionDownload(name, version);
    emit(cmd, res, () => downloadSummary(res.download));
  });
}
