/** Audit log entries as sentences (the data of each type is in docs/events.md). */
import type { ComponentChildren } from 'preact';
import type { AuditEntry } from '../../../sdk/types';
import { formatNumber, shortPrincipal } from '../format';
import { Principal, Time } from './ui';

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
const num = (value: unknown) => (typeof value === 'number' ? value : undefined);
const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v) => typeof v === 'string') : []);
const at = (v: unknown) => (typeof v === 'number' ? `version ${v}` : 'nowhere');
const target = (d: Record<string, unknown>) => (str(d.alias) ? `@${d.alias}` : (str(d.to_stage) ?? ''));

/** What an entry says happened, in one sentence. */
export function describeEntry(entry: AuditEntry): string {
  const d = entry.data;
  const v = entry.version;
  switch (entry.event_type) {
    case 'RegisteredModelCreated':
      return 'Model created';
    case 'RegisteredModelUpdated':
      return 'Description changed';
    case 'RegisteredModelRenamed':
      return `Renamed from ${str((d.before as { name?: string })?.name)} to ${str((d.after as { name?: string })?.name)}`;
    case 'RegisteredModelTagSet':
    case 'ModelVersionTagSet':
      return `Tag ${str(d.key)} set to “${str(d.after)}”`;
    case 'RegisteredModelTagDeleted':
    case 'ModelVersionTagDeleted':
      return `Tag ${str(d.key)} deleted`;
    case 'RegisteredModelDeleted':
      return 'Model deleted';
    case 'ModelVersionCreated': {
      const metrics = Object.entries((d.metrics ?? {}) as Record<string, number>)
        .map(([k, x]) => `${k}=${formatNumber(x)}`)
        .join(', ');
      return `Version ${v} registered${metrics ? ` (${metrics})` : ''}`;
    }
    case 'ModelVersionRegistrationSettled':
      return `Version ${v} ${d.status === 'READY' ? 'verified and ready' : `failed registration: ${str(d.message)}`}`;
    case 'ModelVersionUpdated':
      return `Version ${v} description changed`;
    case 'ModelVersionDeleted':
      return `Version ${v} deleted`;
    case 'ModelCardUpdated': {
      const sections = strings(d.changed_sections).map((x) => x.replace(/_/g, ' '));
      return `Version ${v} model card ${d.created ? 'written' : 'edited'}${sections.length ? `: ${sections.join(', ')}` : ''}`;
    }
    case 'ModelVersionStageChanged': {
      const others = Array.isArray(d.archived_versions) ? (d.archived_versions as number[]) : [];
      return (
        `Version ${v} moved from ${str(d.from_stage)} to ${str(d.to_stage)}` +
        (d.rollback ? ' (rollback)' : '') +
        (d.break_glass ? ' (break-glass)' : '') +
        (others.length ? `; archived ${others.map((x) => `version ${x}`).join(', ')}` : '') +
        (strings(d.approved_by).length
          ? `; approved by ${strings(d.approved_by).map(shortPrincipal).join(', ')}`
          : '')
      );
    }
    case 'AliasChanged':
      return `@${str(d.alias)} moved from ${at(d.before)} to ${at(d.after)}${d.break_glass ? ' (break-glass)' : ''}`;
    case 'TransitionRequested':
      return `Requested version ${v} → ${target(d)} (${num(d.required_approvals)} approval${d.required_approvals === 1 ? '' : 's'} needed)`;
    case 'ApprovalRequested':
      return `Quality gates passed: version ${v} → ${target(d)} waits for approval`;
    case 'TransitionApproved':
      return `Approved version ${v} → ${target(d)} (${num(d.approvals)} of ${num(d.required_approvals)})`;
    case 'TransitionRejected': {
      const failures = strings(d.quality_gate_failures);
      return `Rejected version ${v} → ${target(d)}: ${str(d.reason)}${failures.length ? ` (${failures.join('; ')})` : ''}`;
    }
    case 'TransitionCancelled':
      return `Request for version ${v} → ${target(d)} withdrawn`;
    case 'TransitionExpired':
      return `Request for version ${v} → ${target(d)} expired`;
    case 'TransitionFailed':
      return `Request for version ${v} → ${target(d)} failed: ${str(d.reason)}`;
    case 'GovernancePolicyChanged':
      return 'Governance policy changed';
    case 'PolicyChangeRequested':
      return `Policy change requested: ${strings(d.weakenings).join('; ')}`;
    case 'PolicyChangeApproved':
      return `Policy change approved (${num(d.approvals)} of ${num(d.required_approvals)})`;
    case 'PolicyChangeClosed':
      return `Policy change ${String(d.status).toLowerCase()}${str(d.reason) ? `: ${str(d.reason)}` : ''}`;
    default:
      return entry.event_type.replace(/([a-z])([A-Z])/g, '$1 $2');
  }
}

/** The comment or reason an entry carries, if any. */
const commentOf = (entry: AuditEntry) => str(entry.data.comment) ?? entry.reason;

export function AuditList({
  entries,
  action,
}: {
  entries: AuditEntry[];
  /** Something to offer on each entry (e.g. "what was live after this"). */
  action?: (entry: AuditEntry) => ComponentChildren;
}) {
  if (!entries.length) return <p class="muted">Nothing recorded yet.</p>;
  return (
    <ol class="timeline">
      {entries.map((entry) => {
        const comment = commentOf(entry);
        return (
          <li key={entry.event_id} data-event={entry.event_type}>
            <div class="timeline-head">
              <Time ms={entry.timestamp} /> · <Principal arn={entry.actor} />
            </div>
            <div>{describeEntry(entry)}</div>
            {comment && <div class="muted">“{comment}”</div>}
            {action?.(entry)}
          </li>
        );
      })}
    </ol>
  );
}
