/**
 * The approval inbox: pending transition requests across every model, each with its quality
 * gates (the model's policy evaluated on the version's metrics), its model card, and approve or
 * reject with a comment. Requests the viewer filed are marked as theirs; the registry refuses
 * their approval unless the policy lets requesters approve (separation of duties).
 */
import { useRef, useState } from 'preact/hooks';
import type { GovernancePolicyResponse, ModelVersion, TransitionRequest } from '../../../sdk/types';
import { ApiError } from '../api/client';
import { ModelCardSection } from '../components/card';
import { ErrorNotice, Loading, Notice, PageHeading, Principal, Time } from '../components/ui';
import { formatNumber } from '../format';
import { usePolling, useResource } from '../hooks';
import { href } from '../router';
import { useSession } from '../session';

const PAGE_SIZE = 50;

interface Context {
  readonly version?: ModelVersion;
  readonly policy?: GovernancePolicyResponse;
}

export interface GateResult {
  readonly gate: string;
  readonly value: number | undefined;
  readonly passed: boolean;
}

/** A quality gate (`accuracy >= 0.9`) evaluated on a version's metrics, as the registry does. */
export function evaluateGate(gate: string, metrics: Readonly<Record<string, number>>): GateResult {
  const m = /^(.+?)\s*(>=|<=|==|>|<)\s*(\S+)$/.exec(gate.trim());
  if (!m) return { gate, value: undefined, passed: false };
  const [, metric, op, threshold] = m as unknown as [string, string, string, string];
  const value = Object.hasOwn(metrics, metric.trim()) ? metrics[metric.trim()] : undefined;
  const t = Number(threshold);
  const passed =
    value !== undefined &&
    (op === '>='
      ? value >= t
      : op === '>'
        ? value > t
        : op === '<='
          ? value <= t
          : op === '<'
            ? value < t
            : value === t);
  return { gate, value, passed };
}

const target = (r: TransitionRequest) => (r.kind === 'alias' ? `@${r.alias}` : (r.to_stage ?? ''));

export function InboxPage() {
  const { api, person } = useSession();
  const [pages, setPages] = useState<string[]>([]);
  const token = pages[pages.length - 1];
  const [flash, setFlash] = useState<string>();
  // Versions are immutable and policies rarely change: each request's context is fetched once.
  const contexts = useRef(new Map<string, Promise<Context>>());
  const inbox = useResource(async () => {
    const page = await api.openRequests({
      status: 'PENDING',
      max_results: PAGE_SIZE,
      ...(token ? { page_token: token } : {}),
    });
    const policies = new Map<string, Promise<GovernancePolicyResponse | undefined>>();
    const context = async (r: TransitionRequest): Promise<Context> => {
      if (!policies.has(r.name))
        policies.set(
          r.name,
          api.getPolicy(r.name).catch(() => undefined),
        );
      const [version, policy] = await Promise.all([
        api.getVersion(r.name, r.version).catch(() => undefined),
        policies.get(r.name),
      ]);
      return { ...(version ? { version } : {}), ...(policy ? { policy } : {}) };
    };
    const withContext = await Promise.all(
      page.transition_requests.map(async (r) => {
        let c = contexts.current.get(r.id);
        if (!c) {
          c = context(r);
          contexts.current.set(r.id, c);
        }
        return { request: r, context: await c };
      }),
    );
    return { requests: withContext, next: page.next_page_token };
  }, [api, token]);
  usePolling(inbox.reload, [inbox.reload]);

  const requests = inbox.data?.requests;
  return (
    <>
      <PageHeading title="Approval inbox" />
      <p class="muted">Pending requests across every model, oldest decisions first to expire.</p>
      {flash && <Notice>{flash}</Notice>}
      {inbox.loading && <Loading what="pending requests" />}
      {inbox.error !== undefined && <ErrorNotice error={inbox.error} />}
      {requests &&
        (requests.length ? (
          [...requests]
            .sort((a, b) => a.request.expiration_timestamp - b.request.expiration_timestamp)
            .map(({ request, context }) => (
              <RequestCard
                key={request.id}
                request={request}
                context={context}
                mine={person !== undefined && request.requester_person === person}
                onDecided={async (what) => {
                  setFlash(what);
                  await inbox.reload();
                }}
              />
            ))
        ) : (
          <p>Nothing waits for approval.</p>
        ))}
      {(pages.length > 0 || inbox.data?.next) && (
        <nav class="pager" aria-label="Pages of requests">
          <button type="button" disabled={!pages.length} onClick={() => setPages(pages.slice(0, -1))}>
            Previous page
          </button>
          <button
            type="button"
            disabled={!inbox.data?.next}
            onClick={() => inbox.data?.next && setPages([...pages, inbox.data.next])}
          >
            Next page
          </button>
        </nav>
      )}
    </>
  );
}

function RequestCard({
  request: r,
  context,
  mine,
  onDecided,
}: {
  request: TransitionRequest;
  context: Context;
  mine: boolean;
  onDecided: (what: string) => Promise<void>;
}) {
  const { api } = useSession();
  const [comment, setComment] = useState('');
  const [error, setError] = useState<{ error: unknown; title: string }>();
  const [busy, setBusy] = useState(false);
  const [showCard, setShowCard] = useState(false);
  const what = `${r.name} version ${r.version} → ${target(r)}`;
  const gates = context.policy?.effective.quality_gates ?? [];
  const results = context.version ? gates.map((g) => evaluateGate(g, context.version!.metrics)) : [];
  const id = `request-${r.id}`;

  const act = async (action: 'approve' | 'reject' | 'cancel') => {
    if (action === 'reject' && !comment.trim()) {
      setError({
        error: new Error('Say why in the comment: a rejection needs a reason.'),
        title: 'Not rejected',
      });
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      if (action === 'approve') {
        const out = await api.approve(r.name, r.id, comment.trim() || undefined);
        await onDecided(
          out.status === 'PENDING'
            ? `Approved ${what} (${out.approvals.length} of ${out.required_approvals}); it needs more approvals.`
            : `Approved ${what}. The registry applies it now.`,
        );
      } else if (action === 'reject') {
        await api.reject(r.name, r.id, comment.trim());
        await onDecided(`Rejected ${what}.`);
      } else {
        await api.cancel(r.name, r.id);
        await onDecided(`Withdrew your request for ${what}.`);
      }
    } catch (err) {
      const refused = err instanceof ApiError && err.code === 'PERMISSION_DENIED';
      setError({
        error: err,
        title: refused
          ? action === 'approve'
            ? 'You cannot approve this request'
            : 'You cannot do this'
          : `The request was not ${action === 'cancel' ? 'withdrawn' : `${action}d`}`,
      });
    } finally {
      setBusy(false);
    }
  };

  return (
    <article class="request" aria-labelledby={id} data-request={r.id}>
      <h2 id={id}>
        <a href={href.version(r.name, r.version)}>
          {r.name} version {r.version}
        </a>{' '}
        → {target(r)}
        {mine && <span class="tag tag-mine">Yours</span>}
      </h2>
      <dl class="pairs">
        <div>
          <dt>Requested by</dt>
          <dd>
            {mine ? 'You' : <Principal arn={r.requester} />}, <Time ms={r.creation_timestamp} />
          </dd>
        </div>
        {r.kind === 'stage' && (
          <div>
            <dt>Change</dt>
            <dd>
              {r.from_stage} → {r.to_stage}
              {r.archive_existing_versions ? ', archiving the versions there' : ''}
            </dd>
          </div>
        )}
        {r.kind === 'alias' && (
          <div>
            <dt>Change</dt>
            <dd>
              @{r.alias}: {r.previous_version == null ? 'nowhere' : `version ${r.previous_version}`} → version{' '}
              {r.version}
            </dd>
          </div>
        )}
        <div>
          <dt>Approvals</dt>
          <dd>
            {r.approvals.length} of {r.required_approvals}
            {r.approvals.length > 0 && (
              <>
                {' '}
                (
                {r.approvals.map((a, i) => (
                  <span key={a.person}>
                    {i > 0 && ', '}
                    <Principal arn={a.principal} />
                  </span>
                ))}
                )
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Expires</dt>
          <dd>
            <Time ms={r.expiration_timestamp} />
          </dd>
        </div>
        {r.comment && (
          <div>
            <dt>Comment</dt>
            <dd>“{r.comment}”</dd>
          </div>
        )}
      </dl>
      <h3>Quality gates</h3>
      <p>
        {r.awaiting_approval
          ? 'The gates passed; the request waits for approval.'
          : 'The registry is checking the gates; approval opens once they pass.'}
      </p>
      {!context.version || !context.policy ? (
        <p class="muted">The gates could not be shown.</p>
      ) : results.length ? (
        <ul class="gates">
          {results.map((g) => (
            <li key={g.gate} class={g.passed ? 'gate-pass' : 'gate-fail'}>
              <span class="gate-mark">{g.passed ? 'Pass' : 'Fail'}</span> {g.gate} (
              {g.value === undefined ? 'metric missing' : `is ${formatNumber(g.value)}`})
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">This model's policy sets no quality gates.</p>
      )}
      <details onToggle={(e) => setShowCard(e.currentTarget.open)}>
        <summary>Model card</summary>
        {showCard && <ModelCardSection name={r.name} version={r.version} readOnly />}
      </details>
      <form
        class="decision"
        aria-label={`Decide on ${what}`}
        onSubmit={(event) => {
          event.preventDefault();
          void act('approve');
        }}
      >
        <label class="field">
          Comment (a rejection needs one)
          <textarea rows={2} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
        </label>
        {mine && <p class="muted small">You filed this request.</p>}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Approve
          </button>
          <button type="button" class="danger" disabled={busy} onClick={() => void act('reject')}>
            Reject
          </button>
          {mine && (
            <button type="button" disabled={busy} onClick={() => void act('cancel')}>
              Withdraw
            </button>
          )}
        </div>
        {error && <ErrorNotice error={error.error} title={error.title} />}
      </form>
    </article>
  );
}
