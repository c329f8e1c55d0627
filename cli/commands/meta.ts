/** `openapi` (the API's own description) and `events` (a local registry's event log). */
import type { Command } from 'commander';
import { type LocalEvent, RegistryApiError, type RegistryClient, type ReplayEventsPage } from '../../sdk';
import { client, emit, outputSettings, render, write } from '../context';
import { EVENT_HEADERS, eventRow, eventsTable, replayTable, streamedRow } from '../format';
import { instant, positiveSeconds, UsageError } from '../options';

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

  const events = program
    .command('events')
    .description("a local registry's event log (npm start), oldest first; `events replay` republishes events")
    .option('--type <detail-type>', 'only events of this type, e.g. ModelVersionStageChanged')
    .option('--follow', 'keep polling and print new events as they come, until Ctrl-C')
    .option(
      '--interval <seconds>',
      'seconds between polls with --follow (default 2)',
      positiveSeconds('--interval'),
    )
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

  events
    .command('replay')
    .description(
      'publish again the events recorded in a time range (from the audit log), each with its original event id, to close a gap in what reached the bus (operators)',
    )
    .requiredOption('--from <time>', 'start of the range, inclusive (ISO 8601 or epoch ms)', instant)
    .requiredOption('--to <time>', 'end of the range, exclusive (ISO 8601 or epoch ms)', instant)
    .option('--model <name>', "only this model's events")
    .option('--model-id <id>', "only this model id's events (a deleted or renamed model's too)")
    .option('--dry-run', 'list the events that would be published; publish nothing')
    .action(
      async (
        o: { from: number; to: number; model?: string; modelId?: string; dryRun?: boolean },
        cmd: Command,
      ) => {
        if (o.to <= o.from) throw new UsageError('--to must be after --from.');
        if (o.model && o.modelId) throw new UsageError('Give --model or --model-id, not both.');
        const c = client(cmd);
        const all: ReplayEventsPage['events'] = [];
        let published = 0;
        // One idempotency key per page: a retried page publishes nothing twice.
        for await (const page of c.replayAllEvents({
          from: o.from,
          to: o.to,
          ...(o.model ? { model_name: o.model } : {}),
          ...(o.modelId ? { model_id: o.modelId } : {}),
          dry_run: Boolean(o.dryRun),
        })) {
          all.push(...page.events);
          published += page.published;
        }
        const result = { events: all, published, dry_run: Boolean(o.dryRun) };
        emit(cmd, result, () => {
          const summary = o.dryRun
            ? `Dry run: ${all.length} event${all.length === 1 ? '' : 's'} would be published; nothing was.`
            : `Published ${published} event${published === 1 ? '' : 's'} again, with their original event ids.`;
          return all.length ? `${replayTable(all)}\n${summary}` : summary;
        });
      },
    );
}
