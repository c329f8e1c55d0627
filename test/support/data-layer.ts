/**
 * The local registry a data-layer test file shares: MLflow's profile (no governance guard), with
 * the DynamoDB commands its API functions send recorded, and when each was sent and answered, so
 * a test can count a request's commands and round trips.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { roundTrips } from '../../bench/capacity';
import type { SdkCapacityReport } from '../../functions/handlers/runtime';
import type { LocalRegistry } from '../../local/registry';
import { apiClient, localRegistry, UNGUARDED } from './engines';

/** The functions behind the HTTP API (not the relay, the workflow or the reconciler). */
const API_FUNCTIONS = ['read', 'write', 'upload', 'download', 'approve'];

type Api = ReturnType<typeof apiClient>;

/** Starts the registry before the file's tests and stops it after them. */
export function dataLayerRegistry() {
  let registry: LocalRegistry | undefined;
  let client: Api | undefined;
  /** DynamoDB commands sent since the last reset, and the same commands with their timing. */
  let sent: string[] = [];
  let timed: SdkCapacityReport[] = [];

  beforeAll(async () => {
    registry = await localRegistry({
      env: { GOVERNANCE_POLICY: UNGUARDED },
      observeSdkCalls: (fn, call) => {
        if (API_FUNCTIONS.includes(fn)) sent.push(call.command);
      },
      observeConsumedCapacity: (fn, report) => {
        if (API_FUNCTIONS.includes(fn)) timed.push(report);
      },
    });
    client = apiClient(registry.url, 'AKIAALICE');
  });
  afterAll(async () => {
    await registry?.stop();
  });

  const api: Api = (...args) => client!(...args);
  let n = 0;

  return {
    get registry(): LocalRegistry {
      return registry!;
    },
    api,
    unique: (what: string) => `${what}-${++n}-${Date.now().toString(36)}`,

    /** The DynamoDB commands one request sends (requests must not overlap). */
    async counted<T>(
      request: () => Promise<T>,
    ): Promise<{ result: T; commands: string[]; roundTrips: number; reports: SdkCapacityReport[] }> {
      await registry!.settled();
      sent = [];
      timed = [];
      const result = await request();
      const commands = sent;
      const reports = timed;
      sent = [];
      timed = [];
      return { result, commands, roundTrips: roundTrips(reports), reports };
    },

    /** The keys a request's BatchGetItem commands asked for. */
    batchGetKeys: (reports: readonly SdkCapacityReport[]) =>
      reports
        .filter((r) => r.command === 'BatchGetItemCommand')
        .flatMap((r) =>
          Object.values(
            (r.input as { RequestItems: Record<string, { Keys: { pk: string; sk: string }[] }> })
              .RequestItems,
          ).flatMap((x) => x.Keys),
        ),

    /** Creates a model with `versions` versions. */
    async model(name: string, versions = 0) {
      expect((await api('POST', '/models', { name })).status).toBe(201);
      for (let i = 0; i < versions; i++) {
        const res = await api('POST', `/models/${name}/versions`, { source: `s3://b/${name}/${i}` });
        expect(res.status).toBe(201);
      }
    },

    /** Moves versions `from`..`to` of a model to `stage`, one after the other (each answers 200). */
    async moveEach(name: string, from: number, to: number, stage: string) {
      for (let v = from; v <= to; v++) {
        expect((await api('POST', `/models/${name}/versions/${v}/stage`, { stage })).status).toBe(200);
      }
    },

    /** Creates a model with 20 versions of about 236 KB each (40 parameters of 5,900 characters). */
    async modelOfLargeVersions(name: string) {
      expect((await api('POST', '/models', { name })).status).toBe(201);
      const parameters = Object.fromEntries(
        Array.from({ length: 40 }, (_, i) => [`p${i}`, 'x'.repeat(5900)]),
      );
      for (let i = 0; i < 20; i++) {
        const res = await api('POST', `/models/${name}/versions`, { source: `s3://b/${i}`, parameters });
        expect(res.status).toBe(201);
      }
    },

    /** Every version number of a model, over all pages. */
    async versionsOf(name: string) {
      const out: number[] = [];
      let token: string | undefined;
      do {
        const page = await api(
          'GET',
          `/models/${encodeURIComponent(name)}/versions?max_results=1000${token ? `&page_token=${token}` : ''}`,
        );
        expect(page.status).toBe(200);
        out.push(...page.body.model_versions.map((v: { version: number }) => v.version));
        token = page.body.next_page_token;
      } while (token);
      return out.sort((a, b) => a - b);
    },
  };
}
