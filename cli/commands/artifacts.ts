/** `download` (with verification) and `resolve`: models:/ URIs to files. */
import type { Command } from 'commander';
import type { DownloadResponse } from '../../sdk';
import { client, emit, progress } from '../context';
import { bytes, downloadSummary, versionDetails } from '../format';
import { positiveInt } from '../options';

const URI_HELP = 'models:/NAME/3, models:/NAME/Production, models:/NAME@alias or models:/NAME/latest';

export function registerArtifactCommands(program: Command): void {
  program
    .command('download')
    .description(`download and verify the files of a version (${URI_HELP})`)
    .argument('<uri>', 'the version to download, as a models:/ URI')
    .argument('<dir>', 'directory to write the files into')
    .option('--concurrency <n>', 'parallel downloads (default 4)', positiveInt)
    .action(async (uri: string, dir: string, o: { concurrency?: number }, cmd: Command) => {
      const bars = progress(cmd);
      let res: DownloadResponse;
      try {
        res = await client(cmd).downloadModel(uri, dir, {
          ...(o.concurrency ? { concurrency: o.concurrency } : {}),
          ...(bars.onProgress ? { onProgress: bars.onProgress } : {}),
        });
      } finally {
        bars.stop();
      }
      const d = res.download;
      emit(cmd, res, () =>
        d.files.length
          ? `Downloaded ${d.name} version ${d.version} (${d.files.length} file${d.files.length === 1 ? '' : 's'}, ${bytes(d.files.reduce((n, f) => n + f.size, 0))}) to ${dir}.`
          : `${d.name} version ${d.version} has an external source (${d.source}); there is nothing to download.`,
      );
    });

  program
    .command('resolve')
    .description('resolve a models:/ URI to its version and manifest')
    .argument('<uri>', URI_HELP)
    .action(async (uri: string, _o, cmd: Command) => {
      const res = await client(cmd).resolveModelUri(uri);
      emit(cmd, res, () => `${versionDetails(res.model_version)}\n\n${downloadSummary(res.download)}`);
    });
}
