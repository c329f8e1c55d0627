/**
 * Human-readable output of the CLI (`--output table`): aligned tables fitted to the terminal and
 * key/value listings, with readable principals and local times. JSON and text output carry the
 * API's values unchanged (full ARNs, epoch milliseconds).
 */
import type {
  AuditEntry,
  GovernancePolicyResponse,
  LocalEvent,
  ModelCard,
  ModelVersion,
  PolicyChangeRequest,
  RegisteredModel,
  ReplayEventsPage,
  Transition,
  TransitionRequest,
} from '../sdk';

/** Characters as a terminal shows them (code points; astral characters count once). */
const width = (s: string) => [...s].length;

/** Control characters (newlines, tabs) would break a row across lines. */
const oneLine = (s: string) => s.replace(/[\r\n\t\v\f]+/g, ' ');

export function truncate(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return max <= 0 ? '' : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * The columns available for a table: the terminal's width; else COLUMNS (as `ls` and others honour
 * it); else no limit (a table written to a file or pipe is not cut).
 */
export function terminalWidth(): number {
  if (process.stdout.isTTY && process.stdout.columns) return process.stdout.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : Number.POSITIVE_INFINITY;
}

const GAP = 2;

export interface TableOptions {
  /** Columns to cut last: identifiers a user copies into the next command (ids, names, versions). */
  readonly keep?: readonly string[];
  /** Columns to cut first: free text (descriptions, comments, metrics, principals). */
  readonly flex?: readonly string[];
  /** Width to fit (default: the terminal's, see terminalWidth). */
  readonly max?: number;
}

/**
 * Column widths that fit `max`. The widest column gives up a character at a time, down to its
 * header's width (at least 4): first the `flex` columns, then the others, then the `keep` ones;
 * on a very narrow terminal, every column then goes down to one character.
 */
function fitWidths(natural: readonly number[], headers: readonly string[], options: TableOptions): number[] {
  const max = options.max ?? terminalWidth();
  const widths = [...natural];
  let excess = widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1) - max;
  const rank = (h: string) => (options.flex?.includes(h) ? 0 : options.keep?.includes(h) ? 2 : 1);
  const floor = (i: number) => Math.min(natural[i]!, Math.max(4, width(headers[i]!)));
  const phases = [0, 1, 2].map((r) => (i: number) => (rank(headers[i]!) <= r ? floor(i) : natural[i]!));
  phases.push(() => 1);
  for (const floorOf of phases) {
    while (excess > 0) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) {
        if (widths[i]! > floorOf(i) && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      }
      if (widest < 0) break;
      widths[widest]!--;
      excess--;
    }
  }
  return widths;
}

/** An aligned table, one line per row, no line longer than the terminal (long cells end in `…`). */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const clean = rows.map((r) => headers.map((_, i) => oneLine(r[i] ?? '')));
  const natural = headers.map((h, i) => Math.max(width(h), ...clean.map((r) => width(r[i]!))));
  const widths = fitWidths(natural, headers, options);
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => {
        const cell = truncate(c, widths[i]!);
        return i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - width(cell));
      })
      .join(' '.repeat(GAP))
      .trimEnd();
  return [line(headers), ...clean.map(line)].join('\n');
}

/**
 * The person (or role session) behind an IAM principal ARN, for tables: `…:user/alice` → `alice`,
 * `…:assumed-role/Deployer/alice` → `Deployer/alice`, `…:role/Deployer` → `Deployer`,
 * `…:root` → `root`. Anything else is shown as it is.
 */
export function principal(arn: string | undefined): string {
  if (!arn) return '';
  const m = /^arn:aws[\w-]*:(?:iam|sts)::\d*:(.+)$/.exec(arn);
  if (!m) return arn;
  const resource = m[1]!;
  if (resource === 'root') return 'root';
  const parts = resource.split('/');
  const kind = parts[0];
  if (kind === 'assumed-role' && parts.length >= 3) return `${parts[1]}/${parts.slice(2).join('/')}`;
  // user/, role/, federated-user/, group/: the name is the last segment (paths come before it).
  return parts.length > 1 ? parts[parts.length - 1]! : resource;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local time with its UTC offset, e.g. `2026-11-30 14:05:09 +01:00` (ISO 8601 with a space). */
export const time = (ms: number | undefined) => {
  if (ms === undefined) return '';
  const d = new Date(ms);
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ` +
    `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`
  );
};

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

const pairs = (m: Record<string, string | number> | undefined) =>
  Object.entries(m ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

export function listing(entries: [string, string | undefined][]): string {
  const shown = entries.filter(([, v]) => v !== undefined && v !== '') as [string, string][];
  const keyWidth = Math.max(...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(keyWidth + 2)}${v}`).join('\n');
}

const by = (ms: number, who: string) => `${time(ms)} by ${principal(who)}`;

export function modelDetails(m: RegisteredModel): string {
  return listing([
    ['name', m.name],
    ['description', m.description],
    ['tags', pairs(m.tags)],
    ['aliases', pairs(m.aliases)],
    ['latest versions', m.latest_versions.map((v) => `${v.current_stage}: ${v.version}`).join(', ')],
    ['created', by(m.creation_timestamp, m.created_by)],
    ['updated', time(m.last_updated_timestamp)],
  ]);
}

export function versionDetails(v: ModelVersion): string {
  const files = v.files ?? [];
  return listing([
    ['name', v.name],
    ['version', String(v.version)],
    ['status', v.status + (v.status_message ? ` (${v.status_message})` : '')],
    ['stage', v.current_stage],
    ['aliases', v.aliases.join(', ')],
    ['source', v.source],
    ['files', files.length ? `${files.length} (${bytes(files.reduce((n, f) => n + f.size, 0))})` : undefined],
    ['description', v.description],
    ['run id', v.run_id],
    ['run link', v.run_link],
    ['dataset', v.dataset ? pairs(v.dataset as Record<string, string>) : undefined],
    ['metrics', pairs(v.metrics)],
    ['parameters', pairs(v.parameters)],
    ['tags', pairs(v.tags)],
    ['created', by(v.creation_timestamp, v.created_by)],
    ['updated', time(v.last_updated_timestamp)],
  ]);
}

/** A model card as titled sections (only those written). */
export function cardDetails(card: ModelCard): string {
  const blocks: string[] = [];
  const add = (title: string, body: string | undefined) => {
    if (body?.trim()) blocks.push(`${title}\n${body.replace(/^/gm, '  ')}`);
  };
  const data = (d: ModelCard['training_data']) =>
    d &&
    listing([
      ['name', d.name],
      ['digest', d.digest],
      ['uri', d.uri],
      ['description', d.description],
    ]);
  const details = card.model_details;
  add(
    'Model details',
    details &&
      listing([
        ['overview', details.overview],
        [
          'owners',
          details.owners
            ?.map((o) => [o.name, o.contact && `<${o.contact}>`].filter(Boolean).join(' '))
            .join(', '),
        ],
        ['license', details.license],
        ['references', details.references?.join(', ')],
      ]),
  );
  const use = card.intended_use;
  add(
    'Intended use',
    use &&
      listing([
        ['primary uses', use.primary_uses],
        ['primary users', use.primary_users],
        ['out of scope', use.out_of_scope_uses],
      ]),
  );
  add('Training data', data(card.training_data));
  add('Evaluation data', data(card.evaluation_data));
  if (card.metrics?.length) {
    add(
      'Metrics',
      table(
        ['METRIC', 'SLICE', 'VALUE', 'DESCRIPTION'],
        card.metrics.map((m) => [m.name, m.slice ?? 'overall', String(m.value), m.description ?? '']),
        { keep: ['METRIC', 'VALUE'], flex: ['DESCRIPTION', 'SLICE'] },
      ),
    );
  }
  add('Limitations', card.limitations);
  add('Known failure modes', card.known_failure_modes);
  add(
    'Ethical considerations',
    card.ethical_considerations
      ?.map((e) => `${e.name}: ${e.mitigation ? `mitigation: ${e.mitigation}` : 'no mitigation given'}`)
      .join('\n'),
  );
  add('Caveats', card.caveats);
  return blocks.length ? blocks.join('\n\n') : '(the model card is empty)';
}

export function modelsTable(models: readonly RegisteredModel[]): string {
  return table(
    ['NAME', 'LATEST VERSIONS', 'ALIASES', 'UPDATED', 'DESCRIPTION'],
    models.map((m) => [
      m.name,
      m.latest_versions.map((v) => `${v.current_stage}:${v.version}`).join(' '),
      Object.entries(m.aliases)
        .map(([a, v]) => `${a}→${v}`)
        .join(' '),
      time(m.last_updated_timestamp),
      m.description.split('\n')[0]!,
    ]),
    { keep: ['NAME'], flex: ['DESCRIPTION', 'ALIASES', 'LATEST VERSIONS'] },
  );
}

export function versionsTable(versions: readonly ModelVersion[]): string {
  return table(
    ['NAME', 'VERSION', 'STAGE', 'STATUS', 'ALIASES', 'RUN ID', 'METRICS', 'CREATED'],
    versions.map((v) => [
      v.name,
      String(v.version),
      v.current_stage,
      v.status,
      v.aliases.join(' '),
      v.run_id ?? '',
      pairs(v.metrics),
      time(v.creation_timestamp),
    ]),
    { keep: ['NAME', 'VERSION'], flex: ['METRICS', 'RUN ID', 'ALIASES'] },
  );
}

export function transitionsTable(transitions: readonly Transition[]): string {
  return table(
    ['WHEN', 'VERSION', 'FROM', 'TO', 'ACTOR', 'COMMENT'],
    transitions.map((t) => [
      time(t.timestamp),
      String(t.version),
      t.from_stage,
      t.to_stage,
      principal(t.actor),
      (t.comment ?? '') +
        (t.caused_by ? ` (archived by v${t.caused_by.version} → ${t.caused_by.to_stage})` : ''),
    ]),
    { keep: ['VERSION'], flex: ['COMMENT', 'ACTOR'] },
  );
}

export function filesTable(files: readonly { path: string; size: number; sha256: string }[]): string {
  return table(
    ['PATH', 'SIZE', 'SHA-256'],
    files.map((f) => [f.path, bytes(f.size), f.sha256]),
    { keep: ['PATH'], flex: ['SHA-256'] },
  );
}

/** Transition requests; with `withModel`, of several models (the inbox). */
export function requestsTable(requests: readonly TransitionRequest[], withModel = false): string {
  const model = (r: TransitionRequest) => (withModel ? [r.name] : []);
  return table(
    [
      'ID',
      ...(withModel ? ['MODEL'] : []),
      'VERSION',
      'FROM',
      'TO',
      'STATUS',
      'APPROVALS',
      'REQUESTER',
      'CREATED',
    ],
    requests.map((r) => [
      r.id,
      ...model(r),
      String(r.version),
      r.kind === 'alias' ? `@${r.alias}: ${r.previous_version ?? '-'}` : (r.from_stage ?? ''),
      r.kind === 'alias' ? `@${r.alias}: ${r.version}` : (r.to_stage ?? ''),
      r.status,
      `${r.approvals.length}/${r.required_approvals}`,
      principal(r.requester_person),
      time(r.creation_timestamp),
    ]),
    { keep: ['ID', 'MODEL'], flex: ['REQUESTER'] },
  );
}

export function requestDetails(r: TransitionRequest): string {
  return listing([
    ['id', r.id],
    ['model', `${r.name} version ${r.version}`],
    [
      'transition',
      r.kind === 'alias'
        ? `@${r.alias}: ${r.previous_version ?? '(none)'} → ${r.version}`
        : `${r.from_stage} → ${r.to_stage}${r.archive_existing_versions ? ' (archive existing)' : ''}`,
    ],
    ['status', r.status + (r.reason ? ` (${r.reason})` : '')],
    [
      'approvals',
      `${r.approvals.length} of ${r.required_approvals}${r.approvals.length ? `: ${r.approvals.map((a) => principal(a.person)).join(', ')}` : ''}`,
    ],
    ['awaiting approval', r.awaiting_approval ? 'yes' : 'no'],
    ['requester', principal(r.requester_person)],
    ['comment', r.comment],
    ['created', time(r.creation_timestamp)],
    ['expires', time(r.expiration_timestamp)],
  ]);
}

/** What an approval did: recorded one of several, or completed the request. */
/** What a request changes, in words: `churn version 3 → Production`, `churn@champion → version 3`. */
export function requestTarget(r: TransitionRequest): string {
  return r.kind === 'alias'
    ? `${r.name}@${r.alias} → version ${r.version}`
    : `${r.name} version ${r.version} → ${r.to_stage}`;
}

export function approvalOutcome(r: TransitionRequest): string {
  const what = requestTarget(r);
  if (r.status === 'PENDING') {
    const missing = Math.max(0, r.required_approvals - r.approvals.length);
    const waiting = missing
      ? `waiting for ${missing} more`
      : 'waiting for the quality gates before it is applied';
    return `Recorded your approval of request ${r.id} (${what}): ${r.approvals.length} of ${r.required_approvals} approval${r.required_approvals === 1 ? '' : 's'}; ${waiting}.`;
  }
  const next =
    r.status === 'APPROVED'
      ? `${what} will be applied shortly`
      : r.status === 'APPLIED'
        ? r.kind === 'alias'
          ? `${r.name}@${r.alias} now points at version ${r.version}`
          : `${r.name} version ${r.version} is now in ${r.to_stage}`
        : `${what}${r.reason ? ` (${r.reason})` : ''}`;
  return `Request ${r.id} is ${r.status}: ${next}.`;
}

export function policyDetails(p: GovernancePolicyResponse): string {
  const e = p.effective;
  const overridden = new Set(Object.keys(p.override ?? {}));
  const mark = (k: string) => (overridden.has(k) ? ' (model override)' : '');
  return listing([
    ['guarded stages', (e.guarded_stages.join(', ') || '(none)') + mark('guarded_stages')],
    [
      'protected aliases',
      (e.protected_aliases.map((a) => `@${a}`).join(', ') || '(none)') + mark('protected_aliases'),
    ],
    ['required approvals', String(e.required_approvals) + mark('required_approvals')],
    ['requester may approve', (e.requester_may_approve ? 'yes' : 'no') + mark('requester_may_approve')],
    ['request ttl', `${e.request_ttl_hours} h${mark('request_ttl_hours')}`],
    ['protect live versions', (e.protect_live_versions ? 'yes' : 'no') + mark('protect_live_versions')],
    ['quality gates', (e.quality_gates.join('; ') || '(none)') + mark('quality_gates')],
    [
      'model card sections required',
      (e.required_card_sections.join(', ') || '(none)') + mark('required_card_sections'),
    ],
    ['rollback checks gates', (e.rollback_requires_gates ? 'yes' : 'no') + mark('rollback_requires_gates')],
    [
      'policy changes need approval',
      (e.policy_changes_need_approval ? 'yes' : 'no') + mark('policy_changes_need_approval'),
    ],
  ]);
}

export function policyRequestsTable(requests: readonly PolicyChangeRequest[]): string {
  return table(
    ['ID', 'STATUS', 'WEAKENS', 'APPROVALS', 'REQUESTER', 'CREATED'],
    requests.map((r) => [
      r.id,
      r.status,
      r.weakenings.join('; '),
      `${r.approvals.length}/${r.required_approvals}`,
      principal(r.requester_person),
      time(r.creation_timestamp),
    ]),
    { keep: ['ID'], flex: ['WEAKENS'] },
  );
}

export function policyRequestDetails(r: PolicyChangeRequest): string {
  return listing([
    ['id', r.id],
    ['model', r.name],
    ['status', r.status + (r.reason ? ` (${r.reason})` : '')],
    ['weakens', r.weakenings.join('; ')],
    ['overrides before', JSON.stringify(r.before)],
    ['overrides after', JSON.stringify(r.after)],
    [
      'approvals',
      `${r.approvals.length} of ${r.required_approvals}${r.approvals.length ? `: ${r.approvals.map((a) => principal(a.person)).join(', ')}` : ''}`,
    ],
    ['requester', principal(r.requester_person)],
    ['comment', r.comment],
    ['created', time(r.creation_timestamp)],
    ['expires', time(r.expiration_timestamp)],
  ]);
}

export function auditTable(entries: readonly AuditEntry[]): string {
  return table(
    ['WHEN', 'EVENT', 'VERSION', 'ACTOR', 'REASON'],
    entries.map((e) => [
      time(e.timestamp),
      e.event_type,
      e.version === undefined ? '' : String(e.version),
      principal(e.person),
      e.reason ?? '',
    ]),
    { flex: ['REASON', 'ACTOR'] },
  );
}

export function replayTable(events: ReplayEventsPage['events']): string {
  return table(
    ['WHEN', 'EVENT', 'MODEL', 'VERSION', 'EVENT ID'],
    events.map((e) => [
      time(e.occurred_at),
      e.event_type,
      e.model?.name ?? '',
      e.version === undefined ? '' : String(e.version),
      e.event_id,
    ]),
    { flex: ['MODEL'] },
  );
}

export const EVENT_HEADERS = ['WHEN', 'EVENT', 'MODEL', 'VERSION', 'ACTOR', 'REASON'] as const;

export function eventRow(e: LocalEvent): string[] {
  const d = e.detail;
  return [
    time(d.occurred_at),
    e['detail-type'],
    d.model?.name ?? (d.webhook ? `webhook ${d.webhook.name}` : ''),
    d.version === undefined ? '' : String(d.version),
    principal(d.actor),
    d.reason ?? '',
  ];
}

export function eventsTable(events: readonly LocalEvent[]): string {
  return table(EVENT_HEADERS, events.map(eventRow), { keep: ['MODEL'], flex: ['REASON', 'ACTOR'] });
}

/**
 * One event as a table row of fixed column widths, for `events --follow` (rows printed as they
 * come cannot be aligned on the widest cell).
 */
export function streamedRow(cells: readonly string[], max: number = terminalWidth()): string {
  const fixed = [26, 34, 20, 7, 16];
  const line = cells
    .map((c, i) => {
      const w = fixed[i];
      if (w === undefined) return oneLine(c);
      const cell = truncate(oneLine(c), w);
      return cell + ' '.repeat(w - width(cell));
    })
    .join(' '.repeat(GAP))
    .trimEnd();
  return truncate(line, max);
}

// ------------------------------------------------------------------ compare

type Scalar = string | number | null;

/** `mreg compare` as JSON: both versions, then each compared field, metric and parameter. */
export interface VersionComparison {
  readonly name: string;
  readonly model_versions: [ModelVersion, ModelVersion];
  readonly fields: { field: string; values: [Scalar, Scalar]; differs: boolean }[];
  readonly metrics: { key: string; values: [number | null, number | null]; difference: number | null }[];
  readonly parameters: { key: string; values: [string | null, string | null]; differs: boolean }[];
}

/** The compared fields: wire name (`dataset.uri` for nested ones) → label in the table. */
const COMPARED: readonly [string, string, (v: ModelVersion) => Scalar][] = [
  ['current_stage', 'stage', (v) => v.current_stage],
  ['status', 'status', (v) => v.status],
  ['aliases', 'aliases', (v) => v.aliases.join(', ')],
  ['run_id', 'run id', (v) => v.run_id ?? null],
  ['dataset.name', 'dataset name', (v) => v.dataset?.name ?? null],
  ['dataset.digest', 'dataset digest', (v) => v.dataset?.digest ?? null],
  ['dataset.uri', 'dataset uri', (v) => v.dataset?.uri ?? null],
  ['source', 'source', (v) => v.source],
  ['created_by', 'created by', (v) => v.created_by],
  ['creation_timestamp', 'created at', (v) => v.creation_timestamp],
];

const union = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();

/** b − a without binary noise (0.93 − 0.91 is 0.020000000000000018 in floating point). */
const difference = (a: number, b: number) => Number((b - a).toPrecision(12));

export function compareVersions(a: ModelVersion, b: ModelVersion): VersionComparison {
  return {
    name: a.name,
    model_versions: [a, b],
    fields: COMPARED.map(([field, , get]) => {
      const values: [Scalar, Scalar] = [get(a), get(b)];
      return { field, values, differs: values[0] !== values[1] };
    }),
    metrics: union(a.metrics, b.metrics).map((key) => {
      const x = a.metrics[key] ?? null;
      const y = b.metrics[key] ?? null;
      return { key, values: [x, y], difference: x !== null && y !== null ? difference(x, y) : null };
    }),
    parameters: union(a.parameters, b.parameters).map((key) => {
      const x = a.parameters[key] ?? null;
      const y = b.parameters[key] ?? null;
      return { key, values: [x, y], differs: x !== y };
    }),
  };
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

/**
 * Two versions side by side. The last column marks what differs: `changed`, `only in vN`, or for a
 * metric the difference v2 − v1. Creation times always differ and are not marked.
 */
export function comparisonTable(c: VersionComparison): string {
  const [a, b] = c.model_versions;
  const only = (first: unknown, second: unknown, changed: string) =>
    first === null ? `only in v${b.version}` : second === null ? `only in v${a.version}` : changed;
  const shown = (field: string, value: Scalar) =>
    value === null
      ? ''
      : field === 'created_by'
        ? principal(String(value))
        : field === 'creation_timestamp'
          ? time(Number(value))
          : String(value);
  const rows: string[][] = c.fields.map(({ field, values: [x, y], differs }) => [
    COMPARED.find(([f]) => f === field)![1],
    shown(field, x),
    shown(field, y),
    differs && field !== 'creation_timestamp' ? 'changed' : '',
  ]);
  for (const {
    key,
    values: [x, y],
    difference,
  } of c.metrics) {
    rows.push([
      `metric ${key}`,
      x === null ? '' : String(x),
      y === null ? '' : String(y),
      difference === null ? only(x, y, '') : difference === 0 ? '' : signed(difference),
    ]);
  }
  for (const {
    key,
    values: [x, y],
    differs,
  } of c.parameters) {
    rows.push([`param ${key}`, x ?? '', y ?? '', differs ? only(x, y, 'changed') : '']);
  }
  const [first, second] = [`VERSION ${a.version}`, `VERSION ${b.version}`];
  return table(['FIELD', first, second, 'DIFFERENCE'], rows, { keep: ['FIELD'], flex: [first, second] });
}

export function downloadSummary(d: {
  name: string;
  version: number;
  source: string;
  files: { path: string; size: number; sha256: string }[];
}): string {
  return d.files.length ? filesTable(d.files) : `(external source ${d.source}: no registry-managed files)`;
}
