/**
 * Client-side routes. Paths are chosen not to collide with the API's (the local front serves the
 * API and the console on one origin; API routes win): `/`, `/inbox`, `/model/{name}/…`.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { readonly page: 'models'; readonly query: URLSearchParams }
  | { readonly page: 'inbox' }
  | { readonly page: 'model'; readonly name: string }
  | { readonly page: 'version'; readonly name: string; readonly version: number }
  | { readonly page: 'compare'; readonly name: string; readonly versions: number[] }
  | { readonly page: 'history'; readonly name: string }
  | { readonly page: 'not-found' };

const segment = (s: string | number) => encodeURIComponent(String(s));

export const href = {
  models: (query?: Record<string, string>) => {
    const qs = new URLSearchParams(Object.entries(query ?? {}).filter(([, v]) => v)).toString();
    return qs ? `/?${qs}` : '/';
  },
  inbox: () => '/inbox',
  model: (name: string) => `/model/${segment(name)}`,
  version: (name: string, version: number) => `/model/${segment(name)}/versions/${version}`,
  compare: (name: string, versions: readonly number[]) =>
    `/model/${segment(name)}/compare?${versions.map((v) => `v=${v}`).join('&')}`,
  history: (name: string) => `/model/${segment(name)}/history`,
};

export function parseRoute(pathname: string, search: string): Route {
  const query = new URLSearchParams(search);
  let parts: string[];
  try {
    parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { page: 'not-found' };
  }
  const [first, name, sub, arg] = parts;
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

const NAVIGATED = 'console:navigate';

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  dispatchEvent(new Event(NAVIGATED));
}

/** The current location, re-read on every navigation (links, back and forward). */
export function useLocation(): { pathname: string; search: string } {
  const read = () => ({ pathname: location.pathname, search: location.search });
  const [current, setCurrent] = useState(read);
  useEffect(() => {
    const update = () => setCurrent(read());
    addEventListener('popstate', update);
    addEventListener(NAVIGATED, update);
    return () => {
      removeEventListener('popstate', update);
      removeEventListener(NAVIGATED, update);
    };
  }, []);
  return current;
}

/** For an `<a>`'s click: navigate in the page unless the user asked for a new tab or window. */
export function followLink(event: MouseEvent): void {
  const anchor = (event.target as Element | null)?.closest('a');
  if (
    !anchor ||
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey ||
    anchor.target ||
    anchor.hasAttribute('download') ||
    anchor.origin !== location.origin
  ) {
    return;
  }
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
}
