/**
 * The console's links and how a location maps to a page (no DOM, no framework: tests import it).
 * Client-side routes. Paths are chosen not to collide with the API's (the local front serves the
 * API and the console on one origin; API routes win): `/`, `/inbox`, `/model/{name}/…`.
 */
import { NAME_IN_QUERY, NAME_QUERY_PARAMETER, namePlacement } from '../../functions/api/model-name-path';

export type Route =
  | { readonly page: 'models'; readonly query: URLSearchParams }
  | { readonly page: 'inbox' }
  | { readonly page: 'model'; readonly name: string }
  | { readonly page: 'version'; readonly name: string; readonly version: number }
  | { readonly page: 'compare'; readonly name: string; readonly versions: number[] }
  | { readonly page: 'history'; readonly name: string }
  | { readonly page: 'not-found' };

const segment = (s: string | number) => encodeURIComponent(String(s));

/** A console path under a model, with the name in the query when a path cannot carry it. */
function modelHref(name: string, rest = '', query: readonly string[] = []): string {
  const placed = namePlacement(name);
  const params = [...Object.entries(placed.query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`), ...query];
  return `/model/${segment(placed.segment)}${rest}${params.length ? `?${params.join('&')}` : ''}`;
}

export const href = {
  models: (query?: Record<string, string>) => {
    const qs = new URLSearchParams(Object.entries(query ?? {}).filter(([, v]) => v)).toString();
    return qs ? `/?${qs}` : '/';
  },
  inbox: () => '/inbox',
  model: (name: string) => modelHref(name),
  version: (name: string, version: number) => modelHref(name, `/versions/${version}`),
  compare: (name: string, versions: readonly number[]) =>
    modelHref(
      name,
      '/compare',
      versions.map((v) => `v=${v}`),
    ),
  history: (name: string) => modelHref(name, '/history'),
};

export function parseRoute(pathname: string, search: string): Route {
  const query = new URLSearchParams(search);
  let parts: string[];
  try {
    parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { page: 'not-found' };
  }
  const [first, segmentName, sub, arg] = parts;
  const name = segmentName === NAME_IN_QUERY ? (query.get(NAME_QUERY_PARAMETER) ?? undefined) : segmentName;
  if (!first) return { page: 'models', query };
  if (first === 'inbox' && parts.length === 1) return { page: 'inbox' };
  if (first !== 'model' || !name) return { page: 'not-found' };
  if (parts.length === 2) return { page: 'model', name };
  if (sub === 'versions' && arg && /^\d+$/.test(arg) && parts.length === 4) {
    return { page: 'version', name, version: Number(arg) };
  }
  if (sub === 'compare' && parts.length === 3) {
    const versions = [
      ...new Set(
        query
          .getAll('v')
          .filter((v) => /^\d+$/.test(v))
          .map(Number),
      ),
    ];
    return { page: 'compare', name, versions };
  }
  if (sub === 'history' && parts.length === 3) return { page: 'history', name };
  return { page: 'not-found' };
}
