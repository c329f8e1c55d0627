/** `openapi` (the API's own description) and `events` (a local registry's event log). */
import type { Command } from 'commander';
import { type LocalEvent, RegistryApiError, type RegistryClient } from '../../sdk';
import { client, emit, outputSettings, render, write } from '../context';
import { EVENT_HEADERS, eventRow, eventsTable, streamedRow } from '../format';
import { UsageError } from '../options';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--interval expects seconds > 0, got '${value}'.`);
  return n;
}

/** The event log, with a clear error when the endpoint is not a local registry. */
async function localEvents(c: RegistryClient, type: string | undefined): Promise<LocalEvent[]> {
  try {
    return (await c.listLocalEvents(type ? { type } : {})).events;
  } catch (err) {
    if (err instanceof RegistryApiError && err.status === 404) {
      throw new RegistryApiError(
        404,
        err.errorCode,
        `${c.endpoint.origin} has no event log (GET /local/events answered 404): mreg events reads the log of a local registry started with npm start.`,
        err.requestId,
      );
    }
    throw err;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function registerMetaCommands(program: Command): void {
  program
    .command('openapi')
    .description("print the API's OpenAPI document (JSON)")
    .action(async (_o, cmd: Command) => {
      const doc = await client(cmd).getOpenApiDocument();
      emit(cmd, doc, () => JSON.stringify(doc, null, 2));
    });

  program
    .command('events')
    .description("a local registry's event log (npm start), oldest first")
    .option('--type <detail-type>', 'only events of this type, e.g. ModelVersionStageChanged')
    .option('--follow', 'keep polling and print new events as they come, until Ctrl-C')
    .option('--interval <seconds>', 'seconds between polls with --follow (default 2)', seconds)
    .action(async (o: { type?: string; follow?: boolean; interval?: number }, cmd: Command) => {
      const c = client(cmd);
      if (!c.isLocal) {
        throw new UsageError(
          `mreg events reads the event log of a local registry (npm start); ${c.endpoint.origin} is not one. A deployed registry publishes its events to EventBridge.`,
        );
      }
      if (!o.follow) {
        const events = await localEvents(c, o.type);
        emit(cmd, { events }, () => eventsTable(events));
        return;
      }
      // Follow: one event at a time, as it comes. JSON is one compact object per line (a stream jq
      // reads), text and queries apply to each event, a table keeps fixed column widths.
      const settings = outputSettings(cmd);
      const asRows = settings.format === 'table' && !settings.query;
      if (asRows) write(streamedRow([...EVENT_HEADERS]));
      let seen = new Set<string>();
      for (;;) {
        const events = await localEvents(c, o.type);
        for (const e of events) {
          if (seen.has(e.detail.event_id)) continue;
          if (asRows) write(streamedRow(eventRow(e)));
          else if (settings.format === 'json') {
            write(JSON.stringify((settings.query ? settings.query(e) : e) ?? null));
          } else write(render(settings, e, () => undefined));
        }
        // Only ids still in the log can come back: the set stays as small as the log.
        seen = new Set(events.map((e) => e.detail.event_id));
        await sleep((o.interval ?? 2) * 1000);
      }
    });
}
