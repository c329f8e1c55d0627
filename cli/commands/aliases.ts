/** `mreg alias …`: named pointers to versions (models:/name@alias). */
import type { Command } from 'commander';
import { client, emit } from '../context';
import { versionDetails } from '../format';
import { modelCommand, versionNumber } from '../options';

export function registerAliasCommands(program: Command): void {
  const alias = program.command('alias').description('model aliases');

  modelCommand(alias, 'set', 'point an alias at a version')
    .argument('<alias>', 'alias name, e.g. champion')
    .argument('<version>', 'version number', versionNumber)
    .action(async (name: string, a: string, version: string, _o, cmd: Command) => {
      const res = await client(cmd).setRegisteredModelAlias(name, a, Number(version));
      emit(cmd, res, () =>
        res.transition_request
          ? `@${a} is a protected alias: transition request ${res.transition_request.id} waits for approval (mreg requests approve ${name} ${res.transition_request.id}).`
          : `${name}@${a} → version ${version}.`,
      );
    });

  modelCommand(alias, 'delete', 'delete an alias')
    .argument('<alias>', 'alias name')
    .action(async (name: string, a: string, _o, cmd: Command) => {
      await client(cmd).deleteRegisteredModelAlias(name, a);
      emit(cmd, {}, () => `Deleted alias ${name}@${a}.`);
    });

  modelCommand(alias, 'get', 'the version an alias points at')
    .argument('<alias>', 'alias name')
    .action(async (name: string, a: string, _o, cmd: Command) => {
      const v = await client(cmd).getModelVersionByAlias(name, a);
      emit(cmd, { model_version: v }, () => versionDetails(v));
    });
}
