/**
 * What every command shares: the global options, the registry client they configure, and the
 * output pipeline (`--output`, `--query`, `--all`): a command fetches its JSON, says how a person
 * reads it, and `emit` does the rest.
 */
import { type Command, Option } from 'commander';
import { isLoopback, RegistryClient } from '../sdk';
import { positiveInt, UsageError } from './options';
import { compileQuery, genericTable, OUTPUT_FORMATS, type OutputFormat, textOutput } from './output';
import { progressReporter } from './progress';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:5000';

export interface GlobalOptions {
  endpoint: string;
  region?: string;
  profile?: string;
  output?: OutputFormat;
  json?: boolean;
  query?: string;
}

/**
 * The global options. The program declares them (with the endpoint's default and environment
 * variable) and help shows them under "Global Options"; every subcommand declares hidden copies
 * without defaults, so they may also follow the subcommand although the program parses its own
 * options positionally (which lets a subcommand's `--version` win over the program's).
 */
export function globalOptions(copy: boolean): Option[] {
  const options = [
    new Option('--endpoint <url>', 'registry API base URL'),
    new Option('--region <region>', 'signing region (default: AWS_REGION, else us-east-1)'),
    new Option('--profile <name>', 'AWS profile to sign with (from ~/.aws/config or ~/.aws/credentials)'),
    new Option(
      '--output <format>',
      'json, table or text (default: table on a terminal, json when piped; env MREG_OUTPUT)',
    ).choices(OUTPUT_FORMATS),
    new Option('--json', 'same as --output json'),
    new Option('--query <jmespath>', 'JMESPath expression applied to the JSON response'),
  ];
  if (copy) return options.map((o) => o.hideHelp());
  options[0]!.env('MREG_ENDPOINT').default(DEFAULT_ENDPOINT);
  return options;
}

const GLOBAL_KEYS = ['endpoint', 'region', 'profile', 'output', 'json', 'query'] as const;

/**
 * The global options in effect for `cmd`: the value given closest to the command wins (commander's
 * optsWithGlobals does the opposite, which would let the program's default endpoint override an
 * `--endpoint` given after the subcommand).
 */
export function globals(cmd: Command): GlobalOptions {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.unshift(c);
  const merged: Record<string, unknown> = {};
  for (const c of chain) {
    const values = c.opts();
    for (const key of GLOBAL_KEYS) if (values[key] !== undefined) merged[key] = values[key];
  }
  return merged as unknown as GlobalOptions;
}

const root = (cmd: Command) => {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
};

const clients = new WeakMap<Command, RegistryClient>();

/** The client of this invocation (one per program: credentials are resolved once). */
export function client(cmd: Command): RegistryClient {
  const program = root(cmd);
  const cached = clients.get(program);
  if (cached) return cached;
  const opts = globals(cmd);
  let url: URL;
  try {
    url = new URL(opts.endpoint);
  } catch {
    throw new UsageError(`--endpoint is not a URL: '${opts.endpoint}'.`);
  }
  // Local mode needs no instance metadata; do not wait for it when looking for credentials.
  if (isLoopback(url.hostname)) process.env.AWS_EC2_METADATA_DISABLED ??= 'true';
  const created = new RegistryClient({
    endpoint: opts.endpoint,
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
  });
  clients.set(program, created);
  return created;
}

// ------------------------------------------------------------------ output

export interface OutputSettings {
  readonly format: OutputFormat;
  readonly query?: (data: unknown) => unknown;
}

/**
 * `--output`, else `--json`, else MREG_OUTPUT, else `table` when stdout is a terminal and `json`
 * when it is not (a pipe or a file: scripts get JSON without asking).
 */
export function outputSettings(cmd: Command): OutputSettings {
  const g = globals(cmd);
  if (g.json && g.output && g.output !== 'json') {
    throw new UsageError(`--json means --output json; it contradicts --output ${g.output}.`);
  }
  const fromEnv = process.env.MREG_OUTPUT?.trim().toLowerCase();
  if (fromEnv && !(OUTPUT_FORMATS as readonly string[]).includes(fromEnv)) {
    throw new UsageError(`MREG_OUTPUT must be one of ${OUTPUT_FORMATS.join(', ')}, got '${fromEnv}'.`);
  }
  const format: OutputFormat =
    g.output ??
    (g.json ? 'json' : ((fromEnv as OutputFormat | undefined) ?? (process.stdout.isTTY ? 'table' : 'json')));
  if (g.query === undefined) return { format };
  try {
    return { format, query: compileQuery(g.query) };
  } catch (err) {
    throw new UsageError(`--query is not a valid JMESPath expression: ${(err as Error).message}`);
  }
}

export function write(text: string): void {
  if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** One value in the chosen format; `human` lays it out for `table` (without `--query`). */
export function render(settings: OutputSettings, data: unknown, human: () => string | undefined): string {
  const value = settings.query ? settings.query(data) : data;
  switch (settings.format) {
    case 'json':
      return JSON.stringify(value ?? null, null, 2);
    case 'text':
      return textOutput(value);
    case 'table':
      return settings.query ? genericTable(value) : (human() ?? '');
  }
}

/** Prints a command's result: the API's JSON (`data`) or, as a table, what `human` makes of it. */
export function emit(cmd: Command, data: unknown, human: () => string | undefined): void {
  write(render(outputSettings(cmd), data, human));
}

/** Progress bars on stderr: only on a terminal, and only next to human output. */
export function progress(cmd: Command) {
  return progressReporter(Boolean(process.stderr.isTTY) && outputSettings(cmd).format === 'table');
}

// ------------------------------------------------------------------ paging

export interface PageOptions {
  maxResults?: number;
  pageToken?: string;
  all?: boolean;
}

export interface PageQuery {
  max_results?: number;
  page_token?: string;
}

/** A page of a listing: the items under `K`, and the token of the next page when there is one. */
type Page<K extends string, T> = { [key in K]: readonly T[] } & { next_page_token?: string };

/** `--max-results`, `--page-token` and `--all`, for a command that lists a paged collection. */
export function withPaging(cmd: Command): Command {
  return cmd
    .option('--max-results <n>', 'page size (the registry caps it)', positiveInt)
    .option('--page-token <token>', 'continue with the next_page_token of an earlier page')
    .option('--all', 'follow next_page_token and print every page as one list');
}

export function pageQuery(o: PageOptions): PageQuery {
  return {
    ...(o.maxResults ? { max_results: o.maxResults } : {}),
    ...(o.pageToken ? { page_token: o.pageToken } : {}),
  };
}

/**
 * One page, or with `--all` every page from the first (or `--page-token`) on, merged under the
 * same key with no next_page_token left.
 */
export async function fetchPages<K extends string, T>(
  key: K,
  o: PageOptions,
  fetchPage: (query: PageQuery) => Promise<Page<K, T>>,
): Promise<Page<K, T>> {
  const first = await fetchPage(pageQuery(o));
  if (!o.all) return first;
  const items = [...first[key]];
  const seen = new Set<string>();
  let token = first.next_page_token;
  while (token && !seen.has(token)) {
    seen.add(token); // a registry that hands out the same token again would loop forever
    const page = await fetchPage({ ...pageQuery(o), page_token: token });
    items.push(...page[key]);
    token = page.next_page_token;
  }
  const { next_page_token: _, ...rest } = first;
  return { ...rest, [key]: items } as unknown as Page<K, T>;
}

const pageHint = (token: string | undefined) => (token ? `\n(more: --page-token ${token}, or --all)` : '');

/** Fetches (`fetchPages`) and prints a listing; `table` renders the items of the page. */
export async function emitPages<K extends string, T>(
  cmd: Command,
  key: K,
  o: PageOptions,
  fetchPage: (query: PageQuery) => Promise<Page<K, T>>,
  table: (items: readonly T[]) => string,
): Promise<void> {
  const page = await fetchPages(key, o, fetchPage);
  emit(cmd, page, () => table(page[key]) + pageHint(page.next_page_token));
}
