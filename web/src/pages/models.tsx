/**
 * Registered models: search with MLflow's filter grammar (plain words search names), sort, and
 * server-side pages (`max_results` + `page_token`). The page refreshes itself while open.
 */
import { useEffect, useState } from 'preact/hooks';
import type { RegisteredModel } from '../../../sdk/types';
import { ErrorNotice, Loading, PageHeading, Principal, rowProps, StageBadge, Time } from '../components/ui';
import { usePolling, useResource } from '../hooks';
import { href, navigate } from '../router';
import { useSession } from '../session';

const SORTS = [
  { value: 'name ASC', label: 'Name (A to Z)' },
  { value: 'name DESC', label: 'Name (Z to A)' },
  { value: 'last_updated_timestamp DESC', label: 'Recently updated' },
  { value: 'creation_timestamp DESC', label: 'Newest' },
  { value: 'creation_timestamp ASC', label: 'Oldest' },
] as const;
const DEFAULT_SORT = SORTS[0].value;
const PAGE_SIZES = [25, 50, 100] as const;
const DEFAULT_PAGE_SIZE = 25;

/**
 * The filter to send: a search written in MLflow's grammar as is; plain words (no comparison,
 * no quotes) as a case-insensitive search of names.
 */
export function toFilter(search: string): string {
  const text = search.trim();
  if (!text) return '';
  if (/['"`=<>]|\s(I?LIKE|IN)\s/i.test(text)) return text;
  return `name ILIKE '%${text}%'`;
}

/** The page token each page was reached from (for "Previous"); kept for this tab's life. */
const previousToken = new Map<string, string>();

export function ModelsPage({ query }: { query: URLSearchParams }) {
  const { api } = useSession();
  const search = query.get('q') ?? '';
  const sort = SORTS.some((s) => s.value === query.get('sort')) ? query.get('sort')! : DEFAULT_SORT;
  const size = Number(query.get('size')) || DEFAULT_PAGE_SIZE;
  const token = query.get('page') ?? '';
  const filter = toFilter(search);
  const [draft, setDraft] = useState(search);
  useEffect(() => setDraft(search), [search]);
  const go = (next: Record<string, string>) =>
    navigate(
      href.models({
        q: search,
        sort: sort === DEFAULT_SORT ? '' : sort,
        size: size === DEFAULT_PAGE_SIZE ? '' : String(size),
        page: '',
        ...next,
      }),
    );

  const page = useResource(
    () =>
      api.searchModels({
        ...(filter ? { filter } : {}),
        order_by: [sort],
        max_results: size,
        ...(token ? { page_token: token } : {}),
      }),
    [api, filter, sort, size, token],
  );
  usePolling(page.reload, [page.reload]);

  const models = page.data?.registered_models;
  const next = page.data?.next_page_token;
  return (
    <>
      <PageHeading title="Models" />
      <search>
        <form
          class="toolbar"
          onSubmit={(event) => {
            event.preventDefault();
            go({ q: draft.trim() });
          }}
        >
          <label class="field grow">
            Search
            <input
              type="search"
              name="q"
              value={draft}
              placeholder="churn, or name LIKE 'churn%' AND tags.team = 'growth'"
              aria-describedby="search-help"
              onInput={(e) => setDraft(e.currentTarget.value)}
            />
          </label>
          <button type="submit" class="primary">
            Search
          </button>
          <label class="field">
            Sort by
            <select
              value={sort}
              onChange={(e) =>
                go({ sort: e.currentTarget.value === DEFAULT_SORT ? '' : e.currentTarget.value })
              }
            >
              {SORTS.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            Per page
            <select value={String(size)} onChange={(e) => go({ size: e.currentTarget.value })}>
              {PAGE_SIZES.map((n) => (
                <option key={n} value={String(n)}>
                  {n}
                </option>
              ))}
            </select>
          </label>
        </form>
      </search>
      <p id="search-help" class="muted small">
        Plain words search model names. Or write a filter in MLflow's grammar: <code>name</code> and{' '}
        <code>tags.&lt;key&gt;</code> with <code>=</code>, <code>!=</code>, <code>LIKE</code>,{' '}
        <code>ILIKE</code>, joined with <code>AND</code>.
        {filter && filter !== search.trim() && (
          <>
            {' '}
            Searching: <code>{filter}</code>
          </>
        )}
      </p>
      {page.error !== undefined && <ErrorNotice error={page.error} title="The search failed" />}
      {page.loading && <Loading what="models" />}
      {models && (models.length ? <ModelsTable models={models} /> : <p>No models match.</p>)}
      {models && (token || next) && (
        <nav class="pager" aria-label="Pages of models">
          <button
            type="button"
            disabled={!token}
            onClick={() => go({ page: previousToken.get(token) ?? '' })}
          >
            Previous page
          </button>
          <button
            type="button"
            disabled={!next}
            onClick={() => {
              if (!next) return;
              previousToken.set(next, token);
              go({ page: next });
            }}
          >
            Next page
          </button>
        </nav>
      )}
    </>
  );
}

function ModelsTable({ models }: { models: RegisteredModel[] }) {
  return (
    <table class="list">
      <caption class="visually-hidden">
        Registered models (Enter opens a model; arrow keys move between rows)
      </caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Latest versions</th>
          <th scope="col">Aliases</th>
          <th scope="col">Tags</th>
          <th scope="col">Created by</th>
          <th scope="col">Last updated</th>
        </tr>
      </thead>
      <tbody>
        {models.map((m) => (
          <tr key={m.name} {...rowProps(href.model(m.name))} data-model={m.name}>
            <td>
              <a href={href.model(m.name)} tabIndex={-1}>
                {m.name}
              </a>
            </td>
            <td>
              {[...m.latest_versions]
                .sort((a, b) => b.version - a.version)
                .map((v) => (
                  <span class="version-chip" key={v.version}>
                    v{v.version} <StageBadge stage={v.current_stage} />
                  </span>
                ))}
            </td>
            <td>
              {Object.entries(m.aliases)
                .map(([alias, v]) => `@${alias} → v${v}`)
                .join(', ')}
            </td>
            <td>
              {Object.entries(m.tags)
                .map(([k, v]) => `${k}=${v}`)
                .join(', ')}
            </td>
            <td>
              <Principal arn={m.created_by} />
            </td>
            <td>
              <Time ms={m.last_updated_timestamp} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
