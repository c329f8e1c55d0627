/** `mreg models …`: registered models. */
import type { Command } from 'commander';
import { client, emit, emitPages, type PageOptions, withPaging } from '../context';
import { modelDetails, modelsTable } from '../format';
import { collect, keyValues, modelCommand, type SearchOptions, searchQuery, withOrderBy } from '../options';

export function registerModelCommands(program: Command): void {
  const models = program.command('models').description('registered models');

  modelCommand(models, 'create', 'create a registered model')
    .option('--description <text>', 'what the model is for')
    .option('--tag <key=value>', 'tag (repeatable)', collect)
    .action(async (name: string, o: { description?: string; tag?: string[] }, cmd: Command) => {
      const tags = keyValues(o.tag, 'tag');
      const model = await client(cmd).createRegisteredModel(name, {
        ...(o.description !== undefined ? { description: o.description } : {}),
        ...(tags ? { tags } : {}),
      });
      emit(cmd, { registered_model: model }, () => `Created model ${model.name}.`);
    });

  modelCommand(models, 'get', 'show a registered model').action(async (name: string, _o, cmd: Command) => {
    const model = await client(cmd).getRegisteredModel(name);
    emit(cmd, { registered_model: model }, () => modelDetails(model));
  });

  const list = models
    .command('list')
    .description('list registered models (optionally filtered)')
    .option('--filter <filter>', 'MLflow filter, e.g. "name LIKE \'churn%\'"');
  withOrderBy(list, 'name ASC');
  withPaging(list).action(async (o: SearchOptions & PageOptions, cmd: Command) => {
    await emitPages(
      cmd,
      'registered_models',
      o,
      (page) => client(cmd).searchRegisteredModels({ ...searchQuery(o), ...page }),
      modelsTable,
    );
  });

  modelCommand(models, 'update', "set a registered model's description")
    .requiredOption('--description <text>', 'the new description')
    .action(async (name: string, o: { description: string }, cmd: Command) => {
      const model = await client(cmd).updateRegisteredModel(name, o.description);
      emit(cmd, { registered_model: model }, () => `Updated model ${model.name}.`);
    });

  modelCommand(models, 'rename', 'rename a registered model')
    .argument('<new-name>', 'the new name')
    .action(async (name: string, newName: string, _o, cmd: Command) => {
      const model = await client(cmd).renameRegisteredModel(name, newName);
      emit(cmd, { registered_model: model }, () => `Renamed model ${name} to ${model.name}.`);
    });

  modelCommand(models, 'delete', 'delete a registered model with its versions, tags and aliases').action(
    async (name: string, _o, cmd: Command) => {
      await client(cmd).deleteRegisteredModel(name);
      emit(cmd, {}, () => `Deleted model ${name}.`);
    },
  );

  modelCommand(models, 'tag', 'set a tag on a registered model')
    .argument('<key>', 'tag key')
    .argument('<value>', 'tag value')
    .action(async (name: string, key: string, value: string, _o, cmd: Command) => {
      await client(cmd).setRegisteredModelTag(name, key, value);
      emit(cmd, {}, () => `Tagged model ${name}: ${key}=${value}.`);
    });

  modelCommand(models, 'untag', 'delete a tag of a registered model')
    .argument('<key>', 'tag key')
    .action(async (name: string, key: string, _o, cmd: Command) => {
      await client(cmd).deleteRegisteredModelTag(name, key);
      emit(cmd, {}, () => `Removed tag ${key} from model ${name}.`);
    });
}
