/** Loading data and keeping it live. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Resource<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  /** True until the first load for the current inputs has finished. */
  readonly loading: boolean;
  /** Loads again, keeping what is shown until the new data arrives. */
  readonly reload: () => Promise<void>;
}

/** Runs `load` when `inputs` change; only the latest run's answer is kept. */
export function useResource<T>(load: () => Promise<T>, inputs: readonly unknown[]): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const run = useRef(0);
  const latest = useRef(load);
  latest.current = load;
  const reload = useCallback(async () => {
    const id = ++run.current;
    try {
      const data = await latest.current();
      if (id === run.current) setState({ data, loading: false });
    } catch (error) {
      if (id === run.current) setState((s) => ({ ...s, error, loading: false }));
    }
  }, []);
  useEffect(() => {
    setState({ loading: true });
    void reload();
  }, inputs);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** How often pages look for changes (new versions, stage moves, requests). */
export const POLL_INTERVAL_MS = 2000;

/**
 * Calls `tick` every `intervalMs` while the page is visible, one call at a time. A failing tick
 * is retried on the next one (the page keeps what it shows).
 */
export function usePolling(
  tick: () => Promise<unknown>,
  inputs: readonly unknown[],
  intervalMs = POLL_INTERVAL_MS,
) {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const loop = async () => {
      if (stopped) return;
      if (document.visibilityState === 'visible') await latest.current().catch(() => undefined);
      if (!stopped) timer = setTimeout(loop, intervalMs);
    };
    timer = setTimeout(loop, intervalMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [...inputs, intervalMs]);
}

/**
 * Reloads when a model's audit log gets a new entry: every change to a model (a new version, a
 * stage or alias move, a request, a policy change) appends one, so polling its newest entry is
 * one small read.
 */
export function useModelChanges(
  head: () => Promise<string | undefined>,
  onChange: () => Promise<unknown>,
  inputs: readonly unknown[],
) {
  const seen = useRef<string | undefined | null>(null);
  useEffect(() => {
    seen.current = null;
    head().then(
      (current) => {
        if (seen.current === null) seen.current = current;
      },
      () => undefined,
    );
  }, inputs);
  usePolling(async () => {
    const current = await head();
    if (seen.current !== null && current !== seen.current) await onChange();
    seen.current = current;
  }, inputs);
}
