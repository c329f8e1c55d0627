/** Small building blocks shared by the pages. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { Stage } from '../../../sdk/types';
import { ApiError } from '../api/client';
import { formatTime, shortPrincipal } from '../format';
import { navigate } from '../router';

const ERROR_TITLES: Record<string, string> = {
  PERMISSION_DENIED: 'Not allowed',
  RESOURCE_DOES_NOT_EXIST: 'Not found',
  INVALID_PARAMETER_VALUE: 'Invalid input',
  MALFORMED_REQUEST: 'Invalid request',
  INVALID_STATE: 'Not possible now',
  CONCURRENT_MODIFICATION: 'Changed at the same time by someone else: try again',
  LIMIT_EXCEEDED: 'Limit reached',
  NETWORK_ERROR: 'The registry is unreachable',
};

/** An API error as a message a person can act on: a title, the API's message, its code. */
export function ErrorNotice({ error, title }: { error: unknown; title?: string | undefined }) {
  const api = error instanceof ApiError ? error : undefined;
  return (
    <div class="notice notice-error" role="alert">
      <p class="notice-title">{title ?? (api && ERROR_TITLES[api.code]) ?? 'Something went wrong'}</p>
      <p>{api ? api.message : error instanceof Error ? error.message : String(error)}</p>
      {api && <p class="muted small">Error code: {api.code}</p>}
    </div>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return <output class="notice notice-ok">{children}</output>;
}

export const Loading = ({ what }: { what: string }) => <output class="muted loading">Loading {what}…</output>;

/** The page's heading: sets the document title; receives focus after a navigation. */
export function PageHeading({ title, children }: { title: string; children?: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · Model registry`;
  }, [title]);
  return (
    <h1 id="page-heading" tabIndex={-1}>
      {children ?? title}
    </h1>
  );
}

export const StageBadge = ({ stage }: { stage: Stage }) => (
  <span class={`stage stage-${stage.toLowerCase()}`}>{stage}</span>
);

export const Time = ({ ms }: { ms: number }) => (
  <time dateTime={new Date(ms).toISOString()}>{formatTime(ms)}</time>
);

export const Principal = ({ arn }: { arn: string }) => <span title={arn}>{shortPrincipal(arn)}</span>;

/**
 * Table rows that open a page: focusable, Enter opens, ↑/↓ move between rows, a click anywhere
 * on the row (outside its own controls) opens it.
 */
export const rowProps = (to: string) => ({
  'data-href': to,
  tabIndex: 0,
  class: 'row-link',
  onKeyDown: (event: KeyboardEvent) => {
    const row = event.currentTarget as HTMLTableRowElement;
    if (event.key === 'Enter' && event.target === row) {
      event.preventDefault();
      navigate(to);
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const next = event.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling;
      if (next instanceof HTMLElement && next.dataset.href) {
        event.preventDefault();
        next.focus();
      }
    }
  },
  onClick: (event: MouseEvent) => {
    if ((event.target as Element).closest('a, button, input, select, textarea, label')) return;
    navigate(to);
  },
});

/** A modal confirmation (the native dialog: focus stays inside, Escape cancels). */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      aria-labelledby="dialog-title"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <h2 id="dialog-title">{title}</h2>
      {children}
      <div class="actions">
        <button type="button" class="primary" onClick={onConfirm}>
          {confirmLabel}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}

/** Key/value pairs (tags, parameters) as a description list. */
export function KeyValues({ values, empty }: { values: Readonly<Record<string, string>>; empty: string }) {
  const entries = Object.entries(values).sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) return <p class="muted">{empty}</p>;
  return (
    <dl class="pairs">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
