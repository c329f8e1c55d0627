/**
 * A model version: stage and status, lineage (run, dataset, parameters, metrics), files with
 * sizes and SHA-256 and presigned downloads, the model card, its stage history and audit entries,
 * and a stage change (a request when the stage is guarded).
 */
import { useState } from 'preact/hooks';
import type { Download, ModelVersion, Stage, TransitionRequest } from '../../../sdk/types';
import { AuditList } from '../components/audit';
import { ModelCardSection } from '../components/card';
import {
  ErrorNotice,
  KeyValues,
  Loading,
  Notice,
  PageHeading,
  Principal,
  StageBadge,
  Time,
} from '../components/ui';
import { formatBytes, formatNumber } from '../format';
import { useModelChanges, useResource } from '../hooks';
import { href } from '../router';
import { useSession } from '../session';

const STAGES: Stage[] = ['None', 'Staging', 'Production', 'Archived'];

export function VersionPage({ name, version }: { name: string; version: number }) {
  const { api } = useSession();
  const mv = useResource(() => api.getVersion(name, version), [api, name, version]);
  const transitions = useResource(
    () => api.listTransitions(name, { version, max_results: 100 }),
    [api, name, version],
  );
  const audit = useResource(() => api.audit(name, { version, max_results: 100 }), [api, name, version]);
  useModelChanges(
    async () => (await api.audit(name, { version, max_results: 1 })).entries[0]?.event_id,
    () => Promise.all([mv.reload(), transitions.reload(), audit.reload()]),
    [api, name, version],
  );
  const v = mv.data;

  return (
    <>
      <PageHeading title={`${name} version ${version}`}>
        <a href={href.model(name)}>{name}</a> <span aria-hidden="true">›</span> Version {version}
      </PageHeading>
      {mv.loading && <Loading what="the version" />}
      {mv.error !== undefined && <ErrorNotice error={mv.error} />}
      {v && (
        <>
          <Summary v={v} />
          <div class="columns">
            <section aria-labelledby="lineage">
              <h2 id="lineage">Lineage</h2>
              <Lineage v={v} />
            </section>
            <section aria-labelledby="stage-change">
              <h2 id="stage-change">Change its stage</h2>
              <StageChange v={v} onApplied={mv.reload} />
            </section>
          </div>
          <section aria-labelledby="files">
            <h2 id="files">Files</h2>
            <Files v={v} />
          </section>
        </>
      )}
      <section aria-labelledby="card">
        <h2 id="card">Model card</h2>
        <ModelCardSection name={name} version={version} />
      </section>
      <div class="columns">
        <section aria-labelledby="stage-history">
          <h2 id="stage-history">Stage history</h2>
          {transitions.error !== undefined && <ErrorNotice error={transitions.error} />}
          {transitions.data &&
            (transitions.data.transitions.length ? (
              <ol class="timeline">
                {transitions.data.transitions.map((t) => (
                  <li key={`${t.timestamp}-${t.to_stage}`}>
                    <div class="timeline-head">
                      <Time ms={t.timestamp} /> · <Principal arn={t.actor} />
                    </div>
                    <div>
                      <StageBadge stage={t.from_stage} /> → <StageBadge stage={t.to_stage} />
                      {t.rollback && ' (rollback)'}
                      {t.break_glass && ` (break-glass: ${t.break_glass_reason ?? ''})`}
                      {t.caused_by &&
                        ` (when version ${t.caused_by.version} moved to ${t.caused_by.to_stage})`}
                    </div>
                    {t.approved_by?.length ? (
                      <div class="muted">
                        Approved by{' '}
                        {t.approved_by.map((p) => (
                          <Principal key={p} arn={p} />
                        ))}
                      </div>
                    ) : null}
                    {t.comment && <div class="muted">“{t.comment}”</div>}
                  </li>
                ))}
              </ol>
            ) : (
              <p class="muted">Never moved.</p>
            ))}
        </section>
        <section aria-labelledby="version-audit">
          <h2 id="version-audit">Audit</h2>
          {audit.error !== undefined && <ErrorNotice error={audit.error} />}
          {audit.data && <AuditList entries={audit.data.entries} />}
        </section>
      </div>
    </>
  );
}

function Summary({ v }: { v: ModelVersion }) {
  return (
    <dl class="summary">
      <div>
        <dt>Stage</dt>
        <dd>
          <StageBadge stage={v.current_stage} />
        </dd>
      </div>
      <div>
        <dt>Aliases</dt>
        <dd>{v.aliases.length ? v.aliases.map((a) => `@${a}`).join(', ') : 'none'}</dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd>
          {v.status}
          {v.status_message && ` (${v.status_message})`}
        </dd>
      </div>
      <div>
        <dt>Created</dt>
        <dd>
          <Time ms={v.creation_timestamp} /> by <Principal arn={v.created_by} />
        </dd>
      </div>
      <div>
        <dt>Source</dt>
        <dd class="mono">{v.source}</dd>
      </div>
      {v.description && (
        <div>
          <dt>Description</dt>
          <dd>{v.description}</dd>
        </div>
      )}
    </dl>
  );
}

function Lineage({ v }: { v: ModelVersion }) {
  const metrics = Object.entries(v.metrics).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      <dl class="pairs">
        <div>
          <dt>Run</dt>
          <dd>
            {v.run_link && /^https?:\/\//.test(v.run_link) ? (
              <a href={v.run_link} rel="noreferrer noopener" target="_blank">
                {v.run_id ?? v.run_link}
              </a>
            ) : (
              (v.run_id ?? 'not recorded')
            )}
          </dd>
        </div>
        <div>
          <dt>Dataset</dt>
          <dd>{v.dataset?.name ?? 'not recorded'}</dd>
        </div>
        {v.dataset?.digest && (
          <div>
            <dt>Dataset digest</dt>
            <dd class="mono">{v.dataset.digest}</dd>
          </div>
        )}
        {v.dataset?.uri && (
          <div>
            <dt>Dataset URI</dt>
            <dd class="mono">{v.dataset.uri}</dd>
          </div>
        )}
      </dl>
      <h3>Metrics</h3>
      {metrics.length ? (
        <dl class="pairs">
          {metrics.map(([k, x]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{formatNumber(x)}</dd>
            </div>
          ))}
        </dl>
      ) : (
        <p class="muted">No metrics.</p>
      )}
      <h3>Parameters</h3>
      <KeyValues values={v.parameters} empty="No parameters." />
      <h3>Tags</h3>
      <KeyValues values={v.tags} empty="No tags." />
    </>
  );
}

function Files({ v }: { v: ModelVersion }) {
  const { api } = useSession();
  const [download, setDownload] = useState<Download>();
  const [error, setError] = useState<unknown>();
  if (!v.files?.length) {
    return (
      <p>
        The model's files live outside the registry, at <span class="mono">{v.source}</span>.
      </p>
    );
  }
  const urls = new Map(download?.files.map((f) => [f.path, f.url]));
  return (
    <>
      <table>
        <caption class="visually-hidden">Files of version {v.version}</caption>
        <thead>
          <tr>
            <th scope="col">Path</th>
            <th scope="col" class="num">
              Size
            </th>
            <th scope="col">SHA-256</th>
            {download && <th scope="col">Download</th>}
          </tr>
        </thead>
        <tbody>
          {v.files.map((f) => (
            <tr key={f.path}>
              <td class="mono">{f.path}</td>
              <td class="num" title={`${f.size} bytes`}>
                {formatBytes(f.size)}
              </td>
              <td class="mono hash">{f.sha256}</td>
              {download && (
                <td>
                  {urls.get(f.path) ? (
                    <a href={urls.get(f.path)} download={f.path.split('/').pop()}>
                      Download<span class="visually-hidden"> {f.path}</span>
                    </a>
                  ) : (
                    'not available'
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {download ? (
        <p class="muted small">
          The download links are presigned and work until <Time ms={download.expires_at} />. Check each file
          against its SHA-256 (the CLI does:{' '}
          <code>
            mreg download models:/{v.name}/{v.version} ./out
          </code>
          ).
        </p>
      ) : (
        <button
          type="button"
          disabled={v.status !== 'READY'}
          onClick={async () => {
            try {
              setDownload((await api.download(v.name, v.version)).download);
              setError(undefined);
            } catch (err) {
              setError(err);
            }
          }}
        >
          Get download links
        </button>
      )}
      {error !== undefined && <ErrorNotice error={error} title="No download links" />}
    </>
  );
}

function StageChange({ v, onApplied }: { v: ModelVersion; onApplied: () => Promise<void> }) {
  const { api } = useSession();
  const choices = STAGES.filter((s) => s !== v.current_stage);
  const [stage, setStage] = useState<Stage>(choices.includes('Production') ? 'Production' : choices[0]!);
  const [archive, setArchive] = useState(true);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ moved: Stage } | { request: TransitionRequest }>();
  const [error, setError] = useState<unknown>();
  if (v.status !== 'READY') return <p class="muted">A version changes stage once it is ready.</p>;
  return (
    <form
      aria-label="Change the stage"
      onSubmit={async (event) => {
        event.preventDefault();
        setBusy(true);
        setError(undefined);
        setOutcome(undefined);
        try {
          const { body } = await api.transition(v.name, v.version, {
            stage,
            archive_existing_versions: archive,
            ...(comment.trim() ? { comment: comment.trim() } : {}),
          });
          if (body.transition_request) setOutcome({ request: body.transition_request });
          else setOutcome({ moved: stage });
          setComment('');
          await onApplied();
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label class="field">
        Move to
        <select value={stage} onChange={(e) => setStage(e.currentTarget.value as Stage)}>
          {choices.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label class="check">
        <input type="checkbox" checked={archive} onChange={(e) => setArchive(e.currentTarget.checked)} />
        Archive the versions already in that stage
      </label>
      <label class="field">
        Comment
        <input type="text" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
      </label>
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Sending…' : 'Request stage change'}
      </button>
      {error !== undefined && <ErrorNotice error={error} title="The stage did not change" />}
      {outcome && 'moved' in outcome && <Notice>Moved to {outcome.moved}.</Notice>}
      {outcome && 'request' in outcome && (
        <Notice>
          {outcome.request.to_stage} is guarded: request <span class="mono">{outcome.request.id}</span> was
          filed. It needs {outcome.request.required_approvals} approval
          {outcome.request.required_approvals === 1 ? '' : 's'} from someone else, after the quality gates. It
          is in the <a href={href.inbox()}>approval inbox</a>.
        </Notice>
      )}
    </form>
  );
}
