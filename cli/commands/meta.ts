/** `openapi`: the API's own description. */
import type { Command } from 'commander';
import { client, emit } from '../context';

export function registerMetaCommands(program: Command): void {
  program
    .command('openapi')
    .description("print the API's OpenAPI document (JSON)")
    .action(async (_o, cmd: Command) => {
      const doc = await client(cmd).getOpenApiDocument();
      emit(cmd, doc, () => JSON.stringify(doc, null, 2));
    });
}
