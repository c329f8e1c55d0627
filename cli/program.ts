/**
 * The `mreg` program: global options and help, and the command groups (cli/commands/*), which
 * together have one command for every SDK method (see COMMAND_FOR_OPERATION), plus the high-level
 * artifact upload (`versions create --artifact`), `download`, `compare`, `events` and `webhooks`.
 */
import { Command, Help, type Option } from 'commander';
import type { SdkOperationId } from '../sdk';
import { registerAliasCommands } from './commands/aliases';
import { registerArtifactCommands } from './commands/artifacts';
import { registerCardCommands } from './commands/cards';
import { registerGovernanceCommands } from './commands/governance';
import { registerMetaCommands } from './commands/meta';
import { registerModelCommands } from './commands/models';
import { registerSearchCommand } from './commands/search';
import { registerStageCommands } from './commands/stages';
import { registerVersionCommands } from './commands/versions';
import { registerWebhookCommands } from './commands/webhooks';
import { globalOptions, outputSettings } from './context';

export { DEFAULT_ENDPOINT } from './context';
export { UsageError } from './options';

export const CLI_VERSION = '0.1.0';

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
  getModelCard: 'card get',
  putModelCard: 'card set',
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
  createWebhook: 'webhooks create',
  listWebhooks: 'webhooks list',
  getWebhook: 'webhooks get',
  updateWebhook: 'webhooks update',
  deleteWebhook: 'webhooks delete',
  testWebhook: 'webhooks test',
  listWebhookDeliveries: 'webhooks deliveries',
  redeliverWebhookDelivery: 'webhooks redeliver',
  getOpenApiDocument: 'openapi',
  replayEvents: 'events replay',
};

/** Gives every subcommand (at every depth) hidden copies of the global options. */
function acceptGlobalOptionsAnywhere(cmd: Command): void {
  for (const sub of cmd.commands) {
    for (const option of globalOptions(true)) sub.addOption(option);
    acceptGlobalOptionsAnywhere(sub);
  }
}

export function buildProgram(): Command {
  const program = new Command('mreg');
  // Settings that subcommands inherit must be made before the subcommands are added.
  program
    .description('Command-line client of the Serverless Model Registry.')
    // `-V, --version` is the program's option only before a subcommand, so `mreg audit NAME
    // --version 3` is the audit's version filter (as in mlflow's CLI), not the CLI's version.
    .enablePositionalOptions()
    .version(CLI_VERSION, '-V, --version', "print mreg's version (before any command)")
    .helpOption('-h, --help', 'show help for the command')
    .helpCommand('help [command]', 'show help for a command')
    .configureHelp({
      showGlobalOptions: true,
      // The global options of a subcommand's help: every program option but the version.
      visibleGlobalOptions(cmd: Command): Option[] {
        return Help.prototype.visibleGlobalOptions.call(this, cmd).filter((o) => o.long !== '--version');
      },
    })
    .exitOverride()
    .configureOutput({
      outputError: (message, write) => write(`mreg: ${message.replace(/^error: /, '')}`),
    })
    .showSuggestionAfterError(true);
  for (const option of globalOptions(false)) program.addOption(option);
  // A bad --output, --json/--output clash or --query is a usage error before any request is sent.
  program.hook('preAction', (_program, action) => {
    outputSettings(action);
  });

  registerModelCommands(program);
  registerVersionCommands(program);
  registerCardCommands(program);
  registerStageCommands(program);
  registerGovernanceCommands(program);
  registerAliasCommands(program);
  registerArtifactCommands(program);
  registerSearchCommand(program);
  registerWebhookCommands(program);
  registerMetaCommands(program);

  acceptGlobalOptionsAnywhere(program);
  return program;
}
