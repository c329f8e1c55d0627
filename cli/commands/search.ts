/** `mreg search`: registered models, or versions, with MLflow's filter grammar. */
import type { Command } from 'commander';
import { client, emitPages, type PageOptions, withPaging } from '../context';
import { modelsTable, versionsTable } from '../format';
import { type SearchOptions, searchQuery, withOrderBy } from '../options';

export function registerSearchCommand(program: Command): void {
  const search = program
    .command('search')
    .description('search registered models (or versions, with --versions) with MLflow filter syntax')
    .argument('[filter]', 'MLflow filter, e.g. "name LIKE \'%churn%\'"')
    .option('--versions', 'search model versions instead of models');
  withOrderBy(search, 'name ASC');
  withPaging(search).action(
    async (
      filter: string | undefined,
      o: SearchOptions & PageOptions & { versions?: boolean },
      cmd: Command,
    ) => {
      const query = searchQuery({ ...o, ...(filter !== undefined ? { filter } : {}) });
      const c = client(cmd);
      if (o.versions) {
        await emitPages(
          cmd,
          'model_versions',
          o,
          (page) => c.searchModelVersions({ ...query, ...page }),
          versionsTable,
        );
      } else {
        await emitPages(
          cmd,
          'registered_models',
          o,
          (page) => c.searchRegisteredModels({ ...query, ...page }),
          modelsTable,
        );
      }
    },
  );
}
