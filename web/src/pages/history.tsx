/**
 * A model's audit timeline; what was in a stage or on an alias at a given time (stages from the
 * registry's stage history, aliases replayed from the AliasChanged entries of the audit log); and
 * rollback of Production, confirmed with both versions named.
 */
import { useState } from 'preact/hooks';
import type { AuditEntry, ModelVersion, RegisteredModel, Stage } from '../../../sdk/types';
import type { RegistryApi } from '../api/client';
import { ApiError } from '../api/client';
import { AuditList } from '../components/audit';
import { ConfirmDialog, ErrorNotice, Loading, Notice, PageHeading, StageBadge } from '../components/ui';
import { formatTime, toDateTimeLocal } from '../format';
import { useModelChanges, useResource } from '../hooks';
import { href } from '../router';
import { useSession } from '../session';

const TIMELINE_PAGE = 50;
const STAGES: Stage[] = ['Production', 'Staging', 'Archived'];
/** The entries that change what a stage holds or where an alias points. */
const LIVE_CHANGES = ['ModelVersionStageChanged', 'AliasChanged', 'ModelVersionDeleted'];

/** Every audit entry of a model, oldest first (for replaying aliases). */
async function wholeAuditLog(api: RegistryApi, name: string): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let token: string | undefined;
  do {
    const page = await api.audit(name, { max_results: 1000, ...(token ? { page_token: token } : {}) });
    entries.push(...page.entries);
    token = page.next_page_token;
  } while (token);
  return entries.sort((a, b) => a.timestamp - b.timestamp);
}

/** The version an alias pointed at, at time `at`, replayed from the audit log. */
export function aliasAt(entries: readonly AuditEntry[], alias: string, at: number): number | undefined {
  let current: number | undefined;
  for (const e of entries) {
    if (e.timestamp > at) break;
    if (e.event_type === 'AliasChanged' && e.data.alias === alias) {
      current = typeof e.data.after === 'number' ? e.data.after : undefined;
    } else if (
      e.event_type === 'ModelVersionDeleted' &&
      Array.isArray(e.data.aliases) &&
      e.data.aliases.includes(alias)
    ) {
      current = undefined;
    }
  }
  return current;
}

/**
 * The last moment before the next newer entry (now, for the newest): the state an entry left.
 * (Asking at the entry's own timestamp could miss its change: the registry may stamp the entry
 * and the stage change it records a millisecond apart.)
 */
function momentAfter(entries: readonly AuditEntry[], entry: AuditEntry): number {
  const later = entries.filter((e) => e.timestamp > entry.timestamp).map((e) => e.timestamp);
  return later.length ? Math.min(...later) - 1 : Date.now();
}

/**
 * What rollback would do, found as the registry finds it: the newest version that went into
 * Production before the current one and is still ready and out of Production.
 */
async function rollbackPlan(
  api: RegistryApi,
  model: RegisteredModel,
): Promise<{ current: number; previous: ModelVersion } | undefined> {
  const current = Math.max(
    0,
    ...model.latest_versions.filter((v) => v.current_stage === 'Production').map((v) => v.version),
  );
  if (!current) return undefined;
  let token: string | undefined;
  do {
    const page = await api.listTransitions(model.name, {
      max_results: 100,
      ...(token ? { page_token: token } : {}),
    });
    for (const t of page.transitions) {
      if (t.to_stage !== 'Production' || t.version === current) continue;
      const candidate = await api.getVersion(model.name, t.version).catch((err) => {
        if (err instanceof ApiError && err.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
        throw err;
      });
      if (candidate?.status === 'READY' && candidate.current_stage !== 'Production') {
        return { current, previous: candidate };
      }
    }
    token = page.next_page_token;
  } while (token);
  return undefined;
}

export function HistoryPage({ name }: { name: string }) {
  const { api } = useSession();
  const model = useResource(() => api.getModel(name), [api, name]);
  const plan = useResource(
    async () => (model.data ? rollbackPlan(api, model.data) : undefined),
    [api, model.data],
  );
  const [older, setOlder] = useState<{ entries: AuditEntry[]; next?: string }>({ entries: [] });
  const timeline = useResource(async () => {
    setOlder({ entries: [] });
    return api.audit(name, { max_results: TIMELINE_PAGE });
  }, [api, name]);
  useModelChanges(
    async () => (await api.audit(name, { max_results: 1 })).entries[0]?.event_id,
    () => Promise.all([model.reload(), timeline.reload()]),
    [api, name],
  );
  const [at, setAt] = useState<number>();
  const [rolledBack, setRolledBack] = useState<string>();
  const next = older.next ?? (older.entries.length ? undefined : timeline.data?.next_page_token);
  const entries = [...(timeline.data?.entries ?? []), ...older.entries];
  const aliases = [
    ...new Set([
      ...Object.keys(model.data?.aliases ?? {}),
      ...entries.filter((e) => e.event_type === 'AliasChanged').map((e) => String(e.data.alias)),
    ]),
  ].sort();

  return (
    <>
      <PageHeading title={`${name}: audit timeline and rollback`}>
        <a href={href.model(name)}>{name}</a> <span aria-hidden="true">›</span> Audit timeline and rollback
      </PageHeading>
      {model.error !== undefined && <ErrorNotice error={model.error} />}
      <div class="columns">
        <section aria-labelledby="rollback">
          <h2 id="rollback">Production and rollback</h2>
          {rolledBack && <Notice>{rolledBack}</Notice>}
          {model.loading || plan.loading ? (
            <Loading what="Production" />
          ) : (
            <Rollback
              name={name}
              plan={plan.data}
              error={plan.error}
              onStart={() => setRolledBack(undefined)}
              onDone={async (outcome) => {
                setRolledBack(outcome);
                await Promise.all([model.reload(), timeline.reload()]);
              }}
            />
          )}
        </section>
        <section aria-labelledby="live-at">
          <h2 id="live-at">What was live at a time</h2>
          <LiveAt name={name} aliases={aliases} at={at} onAt={setAt} />
        </section>
      </div>
      <section aria-labelledby="timeline">
        <h2 id="timeline">Audit timeline</h2>
        {timeline.loading && <Loading what="the audit log" />}
        {timeline.error !== undefined && <ErrorNotice error={timeline.error} />}
        {timeline.data && (
          <AuditList
            entries={entries}
            action={(entry) =>
              LIVE_CHANGES.includes(entry.event_type) && (
                <button type="button" class="link" onClick={() => setAt(momentAfter(entries, entry))}>
                  What was live after this?
                </button>
              )
            }
          />
        )}
        {next && (
          <button
            type="button"
            onClick={async () => {
              const page = await api.audit(name, { max_results: TIMELINE_PAGE, page_token: next });
              setOlder({
                entries: [...older.entries, ...page.entries],
                ...(page.next_page_token ? { next: page.next_page_token } : {}),
              });
            }}
          >
            Load older entries
          </button>
        )}
      </section>
    </>
  );
}

function Rollback({
  name,
  plan,
  error,
  onStart,
  onDone,
}: {
  name: string;
  plan: { current: number; previous: ModelVersion } | undefined;
  error: unknown;
  onStart: () => void;
  onDone: (outcome: string) => Promise<void>;
}) {
  const { api } = useSession();
  const [confirming, setConfirming] = useState(false);
  const [comment, setComment] = useState('');
  const [failure, setFailure] = useState<unknown>();
  if (error !== undefined) return <ErrorNotice error={error} />;
  return (
    <div>
      {failure !== undefined && <ErrorNotice error={failure} title="The rollback did not happen" />}
      {!plan ? (
        <p>There is no earlier Production version to roll back to.</p>
      ) : (
        <>
          <p>
            In Production: <a href={href.version(name, plan.current)}>version {plan.current}</a>. Before it:{' '}
            <a href={href.version(name, plan.previous.version)}>version {plan.previous.version}</a> (now{' '}
            <StageBadge stage={plan.previous.current_stage} />
            ).
          </p>
          <button
            type="button"
            class="danger"
            onClick={() => {
              onStart();
              setConfirming(true);
            }}
          >
            Roll back to version {plan.previous.version}…
          </button>
        </>
      )}
      {confirming && plan && (
        <ConfirmDialog
          title={`Roll back ${name}?`}
          confirmLabel={`Roll back to version ${plan.previous.version}`}
          onCancel={() => setConfirming(false)}
          onConfirm={async () => {
            setConfirming(false);
            setFailure(undefined);
            try {
              await api.rollback(name, comment.trim() || undefined);
              setComment('');
              await onDone(
                `Rolled back: version ${plan.previous.version} is in Production again and version ${plan.current} is archived.`,
              );
            } catch (err) {
              setFailure(err);
            }
          }}
        >
          <p>
            Version {plan.current} leaves Production and is archived; version {plan.previous.version} returns
            to Production at once, without a request. Today's quality gates are checked unless the policy says
            otherwise.
          </p>
          <label class="field">
            Why (recorded in the audit log)
            <input type="text" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
          </label>
        </ConfirmDialog>
      )}
    </div>
  );
}

function LiveAt({
  name,
  aliases,
  at,
  onAt,
}: {
  name: string;
  aliases: string[];
  at: number | undefined;
  onAt: (at: number | undefined) => void;
}) {
  const { api } = useSession();
  const [target, setTarget] = useState('stage:Production');
  const [text, setText] = useState(() => toDateTimeLocal(Date.now()));
  const answer = useResource(async () => {
    if (at === undefined) return undefined;
    const [kind, value] = target.split(/:(.*)/) as [string, string];
    if (kind === 'stage') {
      const history = await api.stageHistory(name, value as Stage, at);
      return { what: value, at, versions: history.versions };
    }
    const version = aliasAt(await wholeAuditLog(api, name), value, at);
    return { what: `@${value}`, at, versions: version === undefined ? [] : [version] };
  }, [api, name, target, at]);

  return (
    <>
      <form
        aria-label="What was live at a time"
        onSubmit={(event) => {
          event.preventDefault();
          const typed = new Date(text).getTime();
          if (at === undefined && Number.isFinite(typed)) onAt(typed);
        }}
      >
        <label class="field">
          Stage or alias
          <select value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
            <optgroup label="Stages">
              {STAGES.map((s) => (
                <option key={s} value={`stage:${s}`}>
                  {s}
                </option>
              ))}
            </optgroup>
            {aliases.length > 0 && (
              <optgroup label="Aliases">
                {aliases.map((a) => (
                  <option key={a} value={`alias:${a}`}>
                    @{a}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </label>
        <label class="field">
          At (your local time)
          <input
            type="datetime-local"
            step={1}
            value={at === undefined ? text : toDateTimeLocal(at)}
            onInput={(e) => {
              setText(e.currentTarget.value);
              onAt(undefined);
            }}
          />
        </label>
        <button type="submit" class="primary">
          Show
        </button>
      </form>
      {answer.error !== undefined && <ErrorNotice error={answer.error} />}
      {answer.data && (
        <output class="answer" data-live-at={answer.data.versions.join(',')}>
          At {formatTime(answer.data.at)}, {answer.data.what}{' '}
          {answer.data.versions.length ? (
            <>
              {answer.data.what.startsWith('@') ? 'pointed at' : 'held'}{' '}
              {answer.data.versions.map((v, i) => (
                <span key={v}>
                  {i > 0 && ', '}
                  <a href={href.version(name, v)}>version {v}</a>
                </span>
              ))}
              .
            </>
          ) : (
            <>{answer.data.what.startsWith('@') ? 'pointed nowhere' : 'held no version'}.</>
          )}
        </output>
      )}
    </>
  );
}
