/** Stages: `promote`, `transitions`, `latest`, `rollback`, `stage-history`, and `compare`. */
import type { Command } from 'commander';
import { client, emit, emitPages, type PageOptions, withPaging } from '../context';
import { compareVersions, comparisonTable, time, transitionsTable, versionsTable } from '../format';
import {
  collect,
  instant,
  modelCommand,
  versionCommand,
  versionNumber,
  versionQuery,
  withVersionFilter,
} from '../options';

export function registerStageCommands(program: Command): void {
  versionCommand(program, 'promote', 'move a version to a stage (None, Staging, Production, Archived)')
    .alias('transition')
    .requiredOption('--stage <stage>', 'target stage')
    .option('--archive-existing', 'archive the versions already in that stage')
    .option('--comment <text>', 'why, recorded with the transition')
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
        emit(cmd, outcome, () => {
          const v = outcome.model_version;
          if (v) return `${v.name} version ${v.version} is now in ${v.current_stage}.`;
          const r = outcome.transition_request!;
          return `${r.to_stage} is guarded: requested the transition of ${r.name} version ${r.version} (request ${r.id}, ${r.required_approvals} approval${r.required_approvals === 1 ? '' : 's'} needed). See: mreg requests get ${r.name} ${r.id}`;
        });
      },
    );

  const transitions = modelCommand(program, 'transitions', "a model's stage transitions, newest first");
  withVersionFilter(transitions);
  withPaging(transitions).action(
    async (name: string, o: { version?: string } & PageOptions, cmd: Command) => {
      await emitPages(
        cmd,
        'transitions',
        o,
        (page) => client(cmd).listTransitions(name, { ...versionQuery(o), ...page }),
        transitionsTable,
      );
    },
  );

  modelCommand(program, 'latest', 'the highest version in each stage (or in the given ones)')
    .option('--stage <stage>', 'only this stage (repeatable)', collect)
    .action(async (name: string, o: { stage?: string[] }, cmd: Command) => {
      const list = await client(cmd).getLatestVersions(name, o.stage);
      emit(cmd, { model_versions: list }, () => versionsTable(list));
    });

  modelCommand(program, 'compare', 'two versions side by side: metrics, parameters, lineage, stage')
    .argument('<v1>', 'first version number', versionNumber)
    .argument('<v2>', 'second version number (differences are v2 − v1)', versionNumber)
    .action(async (name: string, v1: string, v2: string, _o, cmd: Command) => {
      const c = client(cmd);
      const [a, b] = await Promise.all([c.getModelVersion(name, v1), c.getModelVersion(name, v2)]);
      const comparison = compareVersions(a, b);
      emit(cmd, comparison, () => comparisonTable(comparison));
    });

  modelCommand(program, 'rollback', 're-promote the previous Production version and archive the current one')
    .option('--comment <text>', 'why, recorded with the transitions')
    .action(async (name: string, o: { comment?: string }, cmd: Command) => {
      const v = await client(cmd).rollbackProduction(name, o.comment);
      emit(
        cmd,
        { model_version: v },
        () => `Rolled ${name} back: version ${v.version} is in ${v.current_stage}.`,
      );
    });

  modelCommand(program, 'stage-history', 'which versions were in a stage at a given time')
    .requiredOption('--stage <stage>', 'the stage')
    .option('--at <time>', 'epoch milliseconds or an ISO 8601 date (default: now)', instant)
    .action(async (name: string, o: { stage: string; at?: number }, cmd: Command) => {
      const res = await client(cmd).getStageHistory(name, o.stage, o.at ?? Date.now());
      emit(
        cmd,
        res,
        () => `${res.stage} at ${time(res.at)}: ${res.versions.length ? res.versions.join(', ') : '(none)'}`,
      );
    });
}
