/**
 * Two to five versions side by side: metrics, parameters and lineage, each row that differs
 * marked, and a chart of a chosen metric across the versions.
 */
import { useState } from 'preact/hooks';
import type { ModelVersion } from '../../../sdk/types';
import { MetricChart } from '../components/chart';
import { ErrorNotice, Loading, PageHeading, StageBadge } from '../components/ui';
import { formatNumber } from '../format';
import { useResource } from '../hooks';
import { href } from '../router';
import { useSession } from '../session';
import { MAX_COMPARED } from './model';

interface Row {
  readonly key: string;
  readonly values: (string | undefined)[];
  /** Numeric rows: each value's change from the first version's. */
  readonly deltas?: (number | undefined)[];
}

const differs = (row: Row) => new Set(row.values.map((v) => v ?? '')).size > 1;

function rows(
  versions: ModelVersion[],
  pick: (v: ModelVersion) => Readonly<Record<string, string | number>>,
): Row[] {
  const keys = [...new Set(versions.flatMap((v) => Object.keys(pick(v))))].sort();
  return keys.map((key) => {
    const raw = versions.map((v) => pick(v)[key]);
    const numeric = raw.every((x) => x === undefined || typeof x === 'number');
    const base = raw[0];
    return {
      key,
      values: raw.map((x) => (x === undefined ? undefined : typeof x === 'number' ? formatNumber(x) : x)),
      ...(numeric && typeof base === 'number'
        ? { deltas: raw.map((x, i) => (i === 0 || typeof x !== 'number' ? undefined : x - base)) }
        : {}),
    };
  });
}

function Delta({ value }: { value: number | undefined }) {
  if (value === undefined || value === 0) return null;
  return (
    <span class="delta">
      {' '}
      ({value > 0 ? '+' : '−'}
      {formatNumber(Math.abs(value))})
    </span>
  );
}

function Section({ title, versions, data }: { title: string; versions: ModelVersion[]; data: Row[] }) {
  const changed = data.filter(differs).length;
  return (
    <section aria-labelledby={`cmp-${title}`}>
      <h2 id={`cmp-${title}`}>{title}</h2>
      {data.length ? (
        <>
          <p class="muted small">
            {changed ? `${changed} of ${data.length} differ (marked “differs”).` : 'All the same.'}
          </p>
          <table class="compare">
            <thead>
              <tr>
                <th scope="col">{title.replace(/s$/, '')}</th>
                {versions.map((v) => (
                  <th scope="col" key={v.version}>
                    Version {v.version}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.map((row) => (
                <tr key={row.key} class={differs(row) ? 'differs' : undefined} data-row={row.key}>
                  <th scope="row">
                    {row.key}
                    {differs(row) && <span class="tag tag-differs">differs</span>}
                  </th>
                  {row.values.map((value, i) => (
                    <td key={versions[i]!.version}>
                      {value ?? <span class="muted">none</span>}
                      {row.deltas && <Delta value={row.deltas[i]} />}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : (
        <p class="muted">None recorded.</p>
      )}
    </section>
  );
}

export function ComparePage({ name, versions }: { name: string; versions: number[] }) {
  const { api } = useSession();
  const wanted = versions.slice(0, MAX_COMPARED);
  const loaded = useResource(
    () => Promise.all(wanted.map((v) => api.getVersion(name, v))),
    [api, name, wanted.join()],
  );
  const [metric, setMetric] = useState<string>();
  const title = `Compare versions ${wanted.join(', ')} of ${name}`;

  if (wanted.length < 2) {
    return (
      <>
        <PageHeading title={`Compare versions of ${name}`} />
        <p>
          Pick 2 to {MAX_COMPARED} versions on the <a href={href.model(name)}>model's page</a> to compare
          them.
        </p>
      </>
    );
  }
  const list = loaded.data;
  const metricRows = list ? rows(list, (v) => v.metrics) : [];
  const chosen = metric ?? metricRows[0]?.key;
  return (
    <>
      <PageHeading title={title}>
        <a href={href.model(name)}>{name}</a> <span aria-hidden="true">›</span> Compare versions{' '}
        {wanted.join(', ')}
      </PageHeading>
      {versions.length > MAX_COMPARED && <p>Showing the first {MAX_COMPARED} versions.</p>}
      {loaded.loading && <Loading what="the versions" />}
      {loaded.error !== undefined && <ErrorNotice error={loaded.error} />}
      {list && (
        <>
          <table class="compare">
            <caption class="visually-hidden">The compared versions</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                {list.map((v) => (
                  <th scope="col" key={v.version}>
                    <a href={href.version(name, v.version)}>Version {v.version}</a>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              <tr>
                <th scope="row">Stage</th>
                {list.map((v) => (
                  <td key={v.version}>
                    <StageBadge stage={v.current_stage} />
                  </td>
                ))}
              </tr>
            </tbody>
          </table>
          <Section title="Metrics" versions={list} data={metricRows} />
          {chosen && (
            <section aria-labelledby="chart">
              <h2 id="chart">Chart</h2>
              <label class="field">
                Metric
                <select value={chosen} onChange={(e) => setMetric(e.currentTarget.value)}>
                  {metricRows.map((r) => (
                    <option key={r.key} value={r.key}>
                      {r.key}
                    </option>
                  ))}
                </select>
              </label>
              <MetricChart
                metric={chosen}
                points={list.map((v) => ({ label: `v${v.version}`, value: v.metrics[chosen] }))}
              />
            </section>
          )}
          <Section title="Parameters" versions={list} data={rows(list, (v) => v.parameters)} />
          <Section
            title="Lineage"
            versions={list}
            data={rows(list, (v) => {
              const out: Record<string, string> = {};
              if (v.run_id) out['run id'] = v.run_id;
              if (v.dataset?.name) out['dataset name'] = v.dataset.name;
              if (v.dataset?.digest) out['dataset digest'] = v.dataset.digest;
              if (v.dataset?.uri) out['dataset URI'] = v.dataset.uri;
              out.source = v.source;
              return out;
            })}
          />
        </>
      )}
    </>
  );
}
