/**
 * A registered model: its versions (stage, aliases, status, key metrics, who created them and
 * when; pick 2 to 5 to compare), description, tags, aliases, open requests and governance policy.
 * New versions and stage changes appear without a reload.
 */
import { useState } from 'preact/hooks';
import type { ModelVersion } from '../../../sdk/types';
import { PolicyPanel } from '../components/policy';
import {
  ErrorNotice,
  KeyValues,
  Loading,
  PageHeading,
  Principal,
  rowProps,
  StageBadge,
  Time,
} from '../components/ui';
import { formatNumber } from '../format';
import { useModelChanges, useResource } from '../hooks';
import { href, navigate } from '../router';
import { useSession } from '../session';

const VERSIONS_PER_PAGE = 25;
const KEY_METRICS = 3;
export const MAX_COMPARED = 5;

export function ModelPage({ name }: { name: string }) {
  const { api } = useSession();
  const [pages, setPages] = useState<string[]>([]);
  const token = pages[pages.length - 1];
  const model = useResource(() => api.getModel(name), [api, name]);
  const versions = useResource(
    () =>
      api.listVersions(name, {
        order_by: ['version_number DESC'],
        max_results: VERSIONS_PER_PAGE,
        ...(token ? { page_token: token } : {}),
      }),
    [api, name, token],
  );
  const requests = useResource(() => api.modelRequests(name, { status: 'PENDING' }), [api, name]);
  useModelChanges(
    async () => (await api.audit(name, { max_results: 1 })).entries[0]?.event_id,
    () => Promise.all([model.reload(), versions.reload(), requests.reload()]),
    [api, name],
  );

  return (
    <>
      <PageHeading title={name} />
      <nav class="subnav" aria-label="This model">
        <a href={href.history(name)}>Audit timeline and rollback</a>
      </nav>
      {model.loading && <Loading what="the model" />}
      {model.error !== undefined && <ErrorNotice error={model.error} />}
      {model.data && (
        <div class="columns">
          <section aria-labelledby="about">
            <h2 id="about">About</h2>
            <Description name={name} description={model.data.description} onSaved={model.reload} />
            <p class="muted small">
              Created by <Principal arn={model.data.created_by} /> on{' '}
              <Time ms={model.data.creation_timestamp} />
            </p>
            <h3>Aliases</h3>
            {Object.keys(model.data.aliases).length ? (
              <ul class="plain">
                {Object.entries(model.data.aliases).map(([alias, v]) => (
                  <li key={alias}>
                    <span class="alias">@{alias}</span> → <a href={href.version(name, v)}>version {v}</a>
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted">No aliases.</p>
            )}
            <h3>Tags</h3>
            <KeyValues values={model.data.tags} empty="No tags." />
          </section>
          <section aria-labelledby="requests">
            <h2 id="requests">Waiting for approval</h2>
            {requests.error !== undefined && <ErrorNotice error={requests.error} />}
            {requests.data &&
              (requests.data.transition_requests.length ? (
                <ul class="plain">
                  {requests.data.transition_requests.map((r) => (
                    <li key={r.id}>
                      <a href={href.version(name, r.version)}>Version {r.version}</a> →{' '}
                      {r.kind === 'stage' ? r.to_stage : `@${r.alias}`}, requested by{' '}
                      <Principal arn={r.requester} /> (<a href={href.inbox()}>review in the inbox</a>)
                    </li>
                  ))}
                </ul>
              ) : (
                <p class="muted">No pending requests.</p>
              ))}
          </section>
        </div>
      )}
      <section aria-labelledby="versions">
        <h2 id="versions">Versions</h2>
        {versions.error !== undefined && <ErrorNotice error={versions.error} />}
        {versions.loading && <Loading what="versions" />}
        {versions.data &&
          (versions.data.model_versions.length ? (
            <VersionsTable name={name} versions={versions.data.model_versions} />
          ) : (
            <p>No versions yet.</p>
          ))}
        {(pages.length > 0 || versions.data?.next_page_token) && (
          <nav class="pager" aria-label="Pages of versions">
            <button type="button" disabled={!pages.length} onClick={() => setPages(pages.slice(0, -1))}>
              Newer versions
            </button>
            <button
              type="button"
              disabled={!versions.data?.next_page_token}
              onClick={() =>
                versions.data?.next_page_token && setPages([...pages, versions.data.next_page_token])
              }
            >
              Older versions
            </button>
          </nav>
        )}
      </section>
      <section aria-labelledby="policy">
        <h2 id="policy">Governance policy</h2>
        <PolicyPanel name={name} />
      </section>
    </>
  );
}

function Description({
  name,
  description,
  onSaved,
}: {
  name: string;
  description: string;
  onSaved: () => Promise<void>;
}) {
  const { api } = useSession();
  const [draft, setDraft] = useState<string>();
  const [error, setError] = useState<unknown>();
  if (draft === undefined) {
    return (
      <div>
        <p class="prose">{description || <span class="muted">No description.</span>}</p>
        <button type="button" onClick={() => setDraft(description)}>
          Edit description
        </button>
      </div>
    );
  }
  return (
    <form
      onSubmit={async (event) => {
        event.preventDefault();
        try {
          await api.updateModelDescription(name, draft);
          setDraft(undefined);
          setError(undefined);
          await onSaved();
        } catch (err) {
          setError(err);
        }
      }}
    >
      <label class="field">
        Description
        <textarea rows={3} value={draft} onInput={(e) => setDraft(e.currentTarget.value)} />
      </label>
      {error !== undefined && <ErrorNotice error={error} title="The description was not saved" />}
      <div class="actions">
        <button type="submit" class="primary">
          Save description
        </button>
        <button type="button" onClick={() => setDraft(undefined)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function VersionsTable({ name, versions }: { name: string; versions: ModelVersion[] }) {
  const [selected, setSelected] = useState<number[]>([]);
  const metrics = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].sort().slice(0, KEY_METRICS);
  const canCompare = selected.length >= 2 && selected.length <= MAX_COMPARED;
  const toggle = (version: number, on: boolean) =>
    setSelected(on ? [...selected, version] : selected.filter((v) => v !== version));
  return (
    <>
      <div class="toolbar">
        <button
          type="button"
          class="primary"
          disabled={!canCompare}
          onClick={() =>
            navigate(
              href.compare(
                name,
                [...selected].sort((a, b) => a - b),
              ),
            )
          }
        >
          Compare selected ({selected.length})
        </button>
        <output class="muted small">
          {selected.length > MAX_COMPARED
            ? `Pick at most ${MAX_COMPARED} versions.`
            : 'Pick 2 to 5 versions to compare their metrics and parameters.'}
        </output>
      </div>
      <table class="list">
        <caption class="visually-hidden">Versions of {name} (Enter opens a version)</caption>
        <thead>
          <tr>
            <th scope="col">Compare</th>
            <th scope="col">Version</th>
            <th scope="col">Stage</th>
            <th scope="col">Aliases</th>
            <th scope="col">Status</th>
            {metrics.map((m) => (
              <th scope="col" class="num" key={m}>
                {m}
              </th>
            ))}
            <th scope="col">Created by</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version} {...rowProps(href.version(name, v.version))} data-version={v.version}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Compare version ${v.version}`}
                  checked={selected.includes(v.version)}
                  onChange={(e) => toggle(v.version, e.currentTarget.checked)}
                />
              </td>
              <td>
                <a href={href.version(name, v.version)} tabIndex={-1}>
                  Version {v.version}
                </a>
              </td>
              <td>
                <StageBadge stage={v.current_stage} />
              </td>
              <td>{v.aliases.map((a) => `@${a}`).join(', ')}</td>
              <td>
                {v.status === 'READY'
                  ? 'Ready'
                  : v.status === 'PENDING_REGISTRATION'
                    ? 'Uploading'
                    : 'Failed'}
              </td>
              {metrics.map((m) => (
                <td class="num" key={m}>
                  {v.metrics[m] === undefined ? '' : formatNumber(v.metrics[m])}
                </td>
              ))}
              <td>
                <Principal arn={v.created_by} />
              </td>
              <td>
                <Time ms={v.creation_timestamp} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
