/** `mreg card …`: a version's model card (read; write from a JSON file). */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ModelCard } from '../../sdk';
import { client, emit } from '../context';
import { cardDetails } from '../format';
import { UsageError, versionCommand } from '../options';

/**
 * The card in a JSON file (`-`: standard input): the card itself, or `{"model_card": {…}}` as
 * `mreg card get --output json` prints it, so a card can be fetched, edited and written back.
 */
export function readCardFile(path: string): ModelCard {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch {
    throw new UsageError(`--file: cannot read ${path}.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`--file ${path} is not JSON: give the card as a JSON object.`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`--file ${path} must hold a JSON object: the card, or {"model_card": {…}}.`);
  }
  const keys = Object.keys(parsed);
  return (
    keys.length === 1 && keys[0] === 'model_card' ? (parsed as { model_card: unknown }).model_card : parsed
  ) as ModelCard;
}

export function registerCardCommands(program: Command): void {
  const card = program.command('card').description("a version's model card");

  versionCommand(card, 'get', "show a version's model card").action(
    async (name: string, version: string, _o, cmd: Command) => {
      const c = await client(cmd).getModelCard(name, version);
      emit(cmd, { model_card: c }, () => cardDetails(c));
    },
  );

  versionCommand(card, 'set', "write a version's model card (the whole card: it replaces the stored one)")
    .requiredOption(
      '--file <path>',
      'JSON file with the card, or {"model_card": …} as `card get --output json` prints it (- reads stdin)',
    )
    .action(async (name: string, version: string, o: { file: string }, cmd: Command) => {
      const c = await client(cmd).putModelCard(name, version, readCardFile(o.file));
      emit(cmd, { model_card: c }, () => `Saved the model card of ${name} version ${version}.`);
    });
}
