/** Human-readable output of the CLI: aligned tables and key/value listings. */
import type {
  AuditEntry,
  GovernancePolicyResponse,
  ModelVersion,
  RegisteredModel,
  Transition,
  TransitionRequest,
} from '../sdk';

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export const time = (ms: number | undefined) =>
  ms === undefined ? '' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

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

function listing(entries: [string, string | undefined][]): string {
  const shown = entries.filter(([, v]) => v !== undefined && v !== '') as [string, string][];
  const width = Math.max(...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join('\n');
}

export function modelDetails(m: RegisteredModel): string {
  return listing([
    ['name', m.name],
    ['description', m.description],
    ['tags', pairs(m.tags)],
    ['aliases', pairs(m.aliases)],
    ['latest versions', m.latest_versions.map((v) => `${v.current_stage}: ${v.version}`).join(', ')],
    ['created', `${time(m.creation_timestamp)} by ${m.created_by}`],
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
    ['created', `${time(v.creation_timestamp)} by ${v.created_by}`],
    ['updated', time(v.last_updated_timestamp)],
  ]);
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
      m.description.split('\n')[0]!.slice(0, 60),
    ]),
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
      t.actor,
      (t.comment ?? '') +
        (t.caused_by ? ` (archived by v${t.caused_by.version} → ${t.caused_by.to_stage})` : ''),
    ]),
  );
}

export function filesTable(files: readonly { path: string; size: number; sha256: string }[]): string {
  return table(
    ['PATH', 'SIZE', 'SHA-256'],
    files.map((f) => [f.path, bytes(f.size), f.sha256]),
  );
}

export function requestsTable(requests: readonly TransitionRequest[]): string {
  return table(
    ['ID', 'VERSION', 'FROM', 'TO', 'STATUS', 'APPROVALS', 'REQUESTER', 'CREATED'],
    requests.map((r) => [
      r.id,
      String(r.version),
      r.kind === 'alias' ? `@${r.alias}: ${r.previous_version ?? '-'}` : (r.from_stage ?? ''),
      r.kind === 'alias' ? `@${r.alias}: ${r.version}` : (r.to_stage ?? ''),
      r.status,
      `${r.approvals.length}/${r.required_approvals}`,
      r.requester_person,
      time(r.creation_timestamp),
    ]),
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
      `${r.approvals.length} of ${r.required_approvals}${r.approvals.length ? `: ${r.approvals.map((a) => a.person).join(', ')}` : ''}`,
    ],
    ['awaiting approval', r.awaiting_approval ? 'yes' : 'no'],
    ['requester', r.requester_person],
    ['comment', r.comment],
    ['created', time(r.creation_timestamp)],
    ['expires', time(r.expiration_timestamp)],
  ]);
}

export function policyDetails(p: GovernancePolicyResponse): string {
  const e = p.effective;
  const overridden = new Set(Object.keys(p.override ?? {}));
  const mark = (k: string) => (overridden.has(k) ? ' (model override)' : '');
  return listing([
    ['guarded stages', (e.guarded_stages.join(', ') || '(none)') + mark('guarded_stages')],
    ['required approvals', String(e.required_approvals) + mark('required_approvals')],
    ['requester may approve', (e.requester_may_approve ? 'yes' : 'no') + mark('requester_may_approve')],
    ['request ttl', `${e.request_ttl_hours} h${mark('request_ttl_hours')}`],
    ['protect live versions', (e.protect_live_versions ? 'yes' : 'no') + mark('protect_live_versions')],
    ['quality gates', (e.quality_gates.join('; ') || '(none)') + mark('quality_gates')],
  ]);
}

export function auditTable(entries: readonly AuditEntry[]): string {
  return table(
    ['WHEN', 'EVENT', 'VERSION', 'ACTOR', 'REASON'],
    entries.map((e) => [
      time(e.timestamp),
      e.event_type,
      e.version === undefined ? '' : String(e.version),
      e.actor,
      e.reason ?? '',
    ]),
  );
}
