/**
 * EventBridge refuses a PutEvents entry of 256 KB or more, counted as EventBridge counts it: the
 * UTF-8 bytes of Detail, DetailType, Source and each Resources entry, plus 14 bytes for Time. The
 * registry's largest requests (a model with 50 tags of 5,000 characters, a 256 KiB body of
 * multi-byte text) would make larger events, so every event is bounded before it is published:
 * the largest parts of `detail` are emptied (an empty value of the same type), named in
 * `detail.truncated_fields`, and `detail.truncated` is set. The audit log keeps the full event.
 */
import { EVENT_SOURCE, type RegistryEvent, type RegistryEventDetail } from './events';

/** EventBridge's limit on one PutEvents entry (bytes). */
export const PUT_EVENTS_ENTRY_LIMIT = 256 * 1024;
/** What the registry allows itself: under the limit, with room for the markers it adds. */
export const EVENT_ENTRY_BUDGET = 250 * 1024;

/** The fields of a PutEvents entry that EventBridge counts. */
export interface PutEventsEntryParts {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail?: string | undefined;
  readonly Resources?: readonly string[] | undefined;
  readonly Time?: Date | undefined;
}

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** The size of a PutEvents entry as EventBridge computes it. */
export function putEventsEntrySize(entry: PutEventsEntryParts): number {
  let size = entry.Time ? 14 : 0;
  size += utf8(entry.Source) + utf8(entry.DetailType);
  if (entry.Detail !== undefined) size += utf8(entry.Detail);
  for (const r of entry.Resources ?? []) size += utf8(r);
  return size;
}

/** The PutEvents entry (bus aside) the registry publishes for an event. */
export function putEventsEntry(event: RegistryEvent): Required<Omit<PutEventsEntryParts, 'Resources'>> {
  return {
    Source: EVENT_SOURCE,
    DetailType: event.type,
    Detail: JSON.stringify(event.detail),
    Time: new Date(event.detail.occurred_at),
  };
}

const entrySize = (event: RegistryEvent) => putEventsEntrySize(putEventsEntry(event));

/** An empty value of the same JSON type (what a truncated field becomes). */
function emptied(value: unknown): unknown {
  if (Array.isArray(value)) return [];
  if (value !== null && typeof value === 'object') return {};
  if (typeof value === 'string') return '';
  return null;
}

/** Every field of `data` (at any depth, objects' own fields first) and `reason`, with its path. */
function candidates(detail: RegistryEventDetail): { path: string[]; bytes: number }[] {
  const out: { path: string[]; bytes: number }[] = [];
  const walk = (value: unknown, path: string[]) => {
    out.push({ path, bytes: utf8(JSON.stringify(value) ?? '') });
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    }
  };
  for (const [k, v] of Object.entries(detail.data)) walk(v, ['data', k]);
  if (detail.reason !== undefined) out.push({ path: ['reason'], bytes: utf8(detail.reason) });
  return out;
}

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const child = node[key] as Record<string, unknown>;
    const copy = Array.isArray(child) ? [...child] : { ...child };
    node[key] = copy;
    node = copy as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

/**
 * The event as it can be published: unchanged when its entry fits the budget; otherwise with its
 * largest fields emptied, one at a time, until it does. Identity fields (`event_id`, `model`,
 * `version`, `actor`, `person`, `occurred_at`) are always kept.
 */
export function boundedForPublishing(event: RegistryEvent, budget = EVENT_ENTRY_BUDGET): RegistryEvent {
  if (entrySize(event) <= budget) return event;
  let detail: RegistryEventDetail = { ...event.detail, data: { ...event.detail.data } };
  const truncated: string[] = [];
  // Largest first; a field inside one already emptied is skipped.
  const fields = candidates(event.detail)
    .filter((c) => c.bytes > 64)
    .sort((a, b) => a.bytes - b.bytes || b.path.length - a.path.length);
  while (entrySize({ type: event.type, detail }) > budget) {
    const next = fields.pop();
    if (!next) {
      throw new Error(`Event ${event.detail.event_id} cannot be bounded under ${budget} bytes`);
    }
    const name = next.path.join('.');
    if (truncated.some((t) => name.startsWith(`${t}.`))) continue;
    const copy = { ...detail } as Record<string, unknown>;
    const current = next.path.reduce<unknown>(
      (node, key) => (node as Record<string, unknown> | undefined)?.[key],
      detail,
    );
    setAt(copy, next.path, emptied(current));
    detail = { ...(copy as RegistryEventDetail), truncated: true, truncated_fields: [...truncated, name] };
    truncated.push(name);
  }
  return { type: event.type, detail };
}
