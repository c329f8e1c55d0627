/**
 * `RegistryClient`: one method per API operation (MlflowClient-like names), SigV4-signed, with
 * retries (exponential backoff, full jitter) for 429/5xx/network errors only; plus the high-level
 * `uploadModel` and `downloadModel` (sdk/transfer.ts).
 */

import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { namePlacement } from '../functions/api/model-name-path';
import {
  RETRYABLE_STATUSES,
  RegistryApiError,
  RegistryNetworkError,
  TransitionRequestWaitTimeoutError,
} from './errors';
import { downloadModel, env, uploadModel } from './platform';
import {
  escapeUri,
  isLoopback,
  normalizeQuery,
  type QueryParams,
  queryString,
  RequestSigner,
} from './signing';
import type { DownloadModelOptions, UploadModelOptions } from './transfer';
import type {
  AliasOutcome,
  AuditLogPage,
  BreakGlassTransitionRequest,
  CreateModelVersionRequest,
  CreateModelVersionResponse,
  CreateRegisteredModelRequest,
  CreateWebhookRequest,
  DownloadResponse,
  FinalizeModelVersionRequest,
  GetAuditLogParams,
  GetUploadUrlsRequest,
  GovernancePolicyOverride,
  GovernancePolicyResponse,
  ListModelVersionsParams,
  ListOpenTransitionRequestsParams,
  ListPolicyChangeRequestsParams,
  ListTransitionRequestsParams,
  ListTransitionsParams,
  ListWebhooksParams,
  LocalEventsPage,
  ModelCard,
  ModelVersion,
  ModelVersionsPage,
  PolicyChangeOutcome,
  PolicyChangeRequest,
  PolicyChangeRequestsPage,
  RegisteredModel,
  RegisteredModelsPage,
  ReplayEventsPage,
  ReplayEventsRequest,
  SearchModelVersionsParams,
  SearchRegisteredModelsParams,
  StageHistory,
  TransitionOutcome,
  TransitionRequest,
  TransitionRequestsPage,
  TransitionStageRequest,
  TransitionsPage,
  UpdateWebhookRequest,
  UploadUrlsResponse,
  VersionRef,
  Webhook,
  WebhookDeliveriesPage,
  WebhookDelivery,
  WebhooksPage,
  WebhookTestResult,
} from './types';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Method and path of every operation, as in functions/api/contract.ts (a test checks that the two
 * agree and that every operation has a method here).
 */
export const ROUTES = {
  createRegisteredModel: { method: 'POST', path: '/models' },
  searchRegisteredModels: { method: 'GET', path: '/models' },
  getRegisteredModel: { method: 'GET', path: '/models/{name}' },
  updateRegisteredModel: { method: 'PATCH', path: '/models/{name}' },
  deleteRegisteredModel: { method: 'DELETE', path: '/models/{name}' },
  renameRegisteredModel: { method: 'POST', path: '/models/{name}/rename' },
  setRegisteredModelTag: { method: 'POST', path: '/models/{name}/tags' },
  deleteRegisteredModelTag: { method: 'DELETE', path: '/models/{name}/tags' },
  getLatestVersions: { method: 'GET', path: '/models/{name}/latest-versions' },
  setRegisteredModelAlias: { method: 'PUT', path: '/models/{name}/aliases/{alias}' },
  deleteRegisteredModelAlias: { method: 'DELETE', path: '/models/{name}/aliases/{alias}' },
  getModelVersionByAlias: { method: 'GET', path: '/models/{name}/aliases/{alias}' },
  createModelVersion: { method: 'POST', path: '/models/{name}/versions' },
  getUploadUrls: { method: 'POST', path: '/models/{name}/versions/{version}/upload-urls' },
  finalizeModelVersion: { method: 'POST', path: '/models/{name}/versions/{version}/finalize' },
  getModelVersionDownload: { method: 'GET', path: '/models/{name}/versions/{version}/download' },
  resolveModelUri: { method: 'GET', path: '/resolve' },
  listModelVersions: { method: 'GET', path: '/models/{name}/versions' },
  getModelVersion: { method: 'GET', path: '/models/{name}/versions/{version}' },
  updateModelVersion: { method: 'PATCH', path: '/models/{name}/versions/{version}' },
  deleteModelVersion: { method: 'DELETE', path: '/models/{name}/versions/{version}' },
  setModelVersionTag: { method: 'POST', path: '/models/{name}/versions/{version}/tags' },
  deleteModelVersionTag: { method: 'DELETE', path: '/models/{name}/versions/{version}/tags' },
  getModelCard: { method: 'GET', path: '/models/{name}/versions/{version}/card' },
  putModelCard: { method: 'PUT', path: '/models/{name}/versions/{version}/card' },
  transitionModelVersionStage: { method: 'POST', path: '/models/{name}/versions/{version}/stage' },
  listTransitions: { method: 'GET', path: '/models/{name}/transitions' },
  listTransitionRequests: { method: 'GET', path: '/models/{name}/transition-requests' },
  getTransitionRequest: { method: 'GET', path: '/models/{name}/transition-requests/{request_id}' },
  approveTransitionRequest: {
    method: 'POST',
    path: '/models/{name}/transition-requests/{request_id}/approve',
  },
  rejectTransitionRequest: { method: 'POST', path: '/models/{name}/transition-requests/{request_id}/reject' },
  cancelTransitionRequest: { method: 'POST', path: '/models/{name}/transition-requests/{request_id}/cancel' },
  rollbackProduction: { method: 'POST', path: '/models/{name}/rollback' },
  getGovernancePolicy: { method: 'GET', path: '/models/{name}/policy' },
  setGovernancePolicy: { method: 'PUT', path: '/models/{name}/policy' },
  deleteGovernancePolicy: { method: 'DELETE', path: '/models/{name}/policy' },
  listPolicyChangeRequests: { method: 'GET', path: '/models/{name}/policy-requests' },
  getPolicyChangeRequest: { method: 'GET', path: '/models/{name}/policy-requests/{request_id}' },
  approvePolicyChangeRequest: { method: 'POST', path: '/models/{name}/policy-requests/{request_id}/approve' },
  rejectPolicyChangeRequest: { method: 'POST', path: '/models/{name}/policy-requests/{request_id}/reject' },
  cancelPolicyChangeRequest: { method: 'POST', path: '/models/{name}/policy-requests/{request_id}/cancel' },
  listOpenTransitionRequests: { method: 'GET', path: '/transition-requests' },
  breakGlassTransition: { method: 'POST', path: '/break-glass/models/{name}/versions/{version}/stage' },
  breakGlassSetAlias: { method: 'PUT', path: '/break-glass/models/{name}/aliases/{alias}' },
  breakGlassDeleteAlias: { method: 'DELETE', path: '/break-glass/models/{name}/aliases/{alias}' },
  breakGlassDeleteModelVersion: { method: 'DELETE', path: '/break-glass/models/{name}/versions/{version}' },
  breakGlassDeleteRegisteredModel: { method: 'DELETE', path: '/break-glass/models/{name}' },
  getAuditLog: { method: 'GET', path: '/models/{name}/audit' },
  getStageHistory: { method: 'GET', path: '/models/{name}/stage-history' },
  replayEvents: { method: 'POST', path: '/events/replay' },
  searchModelVersions: { method: 'GET', path: '/versions' },
  createWebhook: { method: 'POST', path: '/webhooks' },
  listWebhooks: { method: 'GET', path: '/webhooks' },
  getWebhook: { method: 'GET', path: '/webhooks/{webhook_id}' },
  updateWebhook: { method: 'PATCH', path: '/webhooks/{webhook_id}' },
  deleteWebhook: { method: 'DELETE', path: '/webhooks/{webhook_id}' },
  testWebhook: { method: 'POST', path: '/webhooks/{webhook_id}/test' },
  listWebhookDeliveries: { method: 'GET', path: '/webhooks/{webhook_id}/deliveries' },
  redeliverWebhookDelivery: {
    method: 'POST',
    path: '/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver',
  },
  getOpenApiDocument: { method: 'GET', path: '/openapi.json' },
} as const satisfies Record<string, { method: HttpMethod; path: string }>;

export type SdkOperationId = keyof typeof ROUTES;

/**
 * Routes of the local runtime only, not operations of the API contract (so not in ROUTES, which a
 * test keeps equal to the contract): the local event log.
 */
const LOCAL_ROUTES = {
  listLocalEvents: { method: 'GET', path: '/local/events' },
} as const satisfies Record<string, { method: HttpMethod; path: string }>;

export interface RegistryClientOptions {
  /** The API's base URL, e.g. https://abc.execute-api.eu-west-1.amazonaws.com/prod or http://127.0.0.1:5000. */
  readonly endpoint: string;
  /** Signing region: this, else AWS_REGION / AWS_DEFAULT_REGION, else us-east-1. */
  readonly region?: string;
  /** Default: the standard chain (`fromNodeProviderChain()`), resolved on the first request. */
  readonly credentials?: AwsCredentialIdentityProvider;
  /**
   * The named AWS profile to sign with (default: AWS_PROFILE). A profile that is in neither shared
   * file fails the first request with ProfileNotFoundError, on a loopback endpoint too.
   */
  readonly profile?: string;
  /** Attempts per request, the first included (default 4). */
  readonly maxAttempts?: number;
  /** Backoff: delay before retry n is random in [0, min(maxDelayMs, baseDelayMs·2^(n-1))]. */
  readonly retryBaseDelayMs?: number;
  readonly retryMaxDelayMs?: number;
  /** Used for API calls (not for artifact transfers, which stream over node:http). */
  readonly fetch?: typeof fetch;
}

export interface WaitForTransitionRequestOptions {
  /** How long to wait for the request to be decided (default 120 s). */
  readonly timeoutMs?: number;
  /** First delay between reads of the request (default 250 ms, growing to 2 s). */
  readonly pollIntervalMs?: number;
  readonly signal?: AbortSignal;
}

export interface RequestParts {
  readonly params?: Record<string, string | number>;
  readonly query?: QueryParams;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /**
   * The Idempotency-Key of a mutating request (default: a new UUID per call, reused by its own
   * retries, so a retry after a timeout gets the first attempt's result instead of running again).
   */
  readonly idempotencyKey?: string;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export class RegistryClient {
  readonly endpoint: URL;
  readonly region: string;
  readonly maxAttempts: number;
  private readonly signer: RequestSigner;
  private readonly fetchImpl: typeof fetch;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(options: RegistryClientOptions) {
    this.endpoint = new URL(options.endpoint);
    if (this.endpoint.protocol !== 'http:' && this.endpoint.protocol !== 'https:') {
      throw new Error(`The endpoint must be an http(s) URL: ${options.endpoint}`);
    }
    this.region = options.region ?? env('AWS_REGION') ?? env('AWS_DEFAULT_REGION') ?? 'us-east-1';
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.baseDelayMs = options.retryBaseDelayMs ?? 200;
    this.maxDelayMs = options.retryMaxDelayMs ?? 5_000;
    this.fetchImpl = options.fetch ?? ((...args) => fetch(...args));
    this.signer = new RequestSigner({
      endpoint: this.endpoint,
      region: this.region,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
    });
  }

  /** Whether the endpoint is this machine (local mode: unsigned requests are accepted). */
  get isLocal(): boolean {
    return isLoopback(this.endpoint.hostname);
  }

  /** Full-jitter exponential backoff before retry `attempt` (1-based). */
  retryDelayMs(attempt: number): number {
    return Math.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
  }

  /** Sends one operation: signs, retries what is retryable, maps errors. Returns the JSON body. */
  request<T = unknown>(operationId: SdkOperationId, parts: RequestParts = {}): Promise<T> {
    return this.send(operationId, ROUTES[operationId], parts);
  }

  /** `request` for a route given by method and path (routes outside the API contract). */
  private async send<T>(
    operationId: string,
    route: { readonly method: HttpMethod; readonly path: string },
    parts: RequestParts,
  ): Promise<T> {
    const base = this.endpoint.pathname.replace(/\/+$/, '');
    let nameQuery: Record<string, string> = {};
    const path =
      base +
      route.path.replace(/\{(\w+)\}/g, (_, key: string) => {
        const value = parts.params?.[key];
        if (value === undefined || value === '') throw new TypeError(`${operationId}: '${key}' is required`);
        if (key !== 'name') return escapeUri(String(value));
        // A model name a path cannot carry goes in the query (functions/api/model-name-path.ts).
        const placed = namePlacement(String(value));
        nameQuery = placed.query;
        return escapeUri(placed.segment);
      });
    const query = normalizeQuery({ ...parts.query, ...nameQuery });
    const qs = queryString(query);
    const url = `${this.endpoint.origin}${path}${qs ? `?${qs}` : ''}`;
    const body = parts.body === undefined ? undefined : JSON.stringify(parts.body);
    const baseHeaders: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) baseHeaders['content-type'] = 'application/json';
    // One key for every attempt of this call: the registry answers a retry of a request that
    // completed (though its answer was lost) with that answer.
    if (route.method !== 'GET')
      baseHeaders['idempotency-key'] = parts.idempotencyKey ?? globalThis.crypto.randomUUID();

    for (let attempt = 1; ; attempt++) {
      const headers = await this.signer.sign({
        method: route.method,
        path,
        query,
        headers: baseHeaders,
        body,
      });
      delete headers.host; // fetch sets it from the URL (the same value)
      let status: number;
      let text: string;
      let responseHeaders: Headers;
      try {
        const res = await this.fetchImpl(url, {
          method: route.method,
          headers,
          ...(body !== undefined ? { body } : {}),
          ...(parts.signal ? { signal: parts.signal } : {}),
        });
        status = res.status;
        responseHeaders = res.headers;
        text = await res.text();
      } catch (err) {
        if (parts.signal?.aborted) throw parts.signal.reason;
        if (attempt < this.maxAttempts) {
          await sleep(this.retryDelayMs(attempt), parts.signal);
          continue;
        }
        const reason = describeNetworkError(err);
        throw new RegistryNetworkError(
          `Could not reach the registry at ${this.endpoint.origin} (${reason}) after ${attempt} attempt${attempt === 1 ? '' : 's'}.`,
          err,
        );
      }
      if (status >= 200 && status < 300) {
        if (!text) return {} as T;
        try {
          return JSON.parse(text) as T;
        } catch {
          throw new RegistryApiError(
            status,
            'INVALID_RESPONSE',
            `The registry answered ${status} with a body that is not JSON.`,
          );
        }
      }
      // 409 IDEMPOTENCY_IN_PROGRESS: an earlier attempt of this call is still running; its result
      // comes with a later retry.
      const inProgress = status === 409 && text.includes('"IDEMPOTENCY_IN_PROGRESS"');
      if ((RETRYABLE_STATUSES.has(status) || inProgress) && attempt < this.maxAttempts) {
        const retryAfter = Number(responseHeaders.get('retry-after'));
        const delay =
          Number.isFinite(retryAfter) && retryAfter > 0
            ? Math.min(retryAfter * 1000, this.maxDelayMs)
            : this.retryDelayMs(attempt);
        await sleep(delay, parts.signal);
        continue;
      }
      throw apiError(status, text, responseHeaders);
    }
  }

  // ---------------------------------------------------------------- registered models

  async createRegisteredModel(
    name: string,
    options: CreateRegisteredModelRequest = {},
  ): Promise<RegisteredModel> {
    const res = await this.request<{ registered_model: RegisteredModel }>('createRegisteredModel', {
      body: { name, ...options },
    });
    return res.registered_model;
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const res = await this.request<{ registered_model: RegisteredModel }>('getRegisteredModel', {
      params: { name },
    });
    return res.registered_model;
  }

  searchRegisteredModels(params: SearchRegisteredModelsParams = {}): Promise<RegisteredModelsPage> {
    return this.request('searchRegisteredModels', { query: params });
  }

  async updateRegisteredModel(name: string, description: string): Promise<RegisteredModel> {
    const res = await this.request<{ registered_model: RegisteredModel }>('updateRegisteredModel', {
      params: { name },
      body: { description },
    });
    return res.registered_model;
  }

  async renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel> {
    const res = await this.request<{ registered_model: RegisteredModel }>('renameRegisteredModel', {
      params: { name },
      body: { new_name: newName },
    });
    return res.registered_model;
  }

  async deleteRegisteredModel(name: string): Promise<void> {
    await this.request('deleteRegisteredModel', { params: { name } });
  }

  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    await this.request('setRegisteredModelTag', { params: { name }, body: { key, value } });
  }

  async deleteRegisteredModelTag(name: string, key: string): Promise<void> {
    await this.request('deleteRegisteredModelTag', { params: { name }, query: { key } });
  }

  /** The highest version in each of the given stages (every stage when none is given). */
  async getLatestVersions(name: string, stages?: readonly string[]): Promise<ModelVersion[]> {
    const res = await this.request<{ model_versions: ModelVersion[] }>('getLatestVersions', {
      params: { name },
      query: { stages },
    });
    return res.model_versions;
  }

  // ---------------------------------------------------------------- aliases

  /**
   * Points an alias at a version. A protected alias (`champion` by default) moves only through an
   * approved request: the answer then carries `transition_request` (HTTP 202).
   */
  setRegisteredModelAlias(name: string, alias: string, version: VersionRef): Promise<AliasOutcome> {
    return this.request('setRegisteredModelAlias', { params: { name, alias }, body: { version } });
  }

  async deleteRegisteredModelAlias(name: string, alias: string): Promise<void> {
    await this.request('deleteRegisteredModelAlias', { params: { name, alias } });
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const res = await this.request<{ model_version: ModelVersion }>('getModelVersionByAlias', {
      params: { name, alias },
    });
    return res.model_version;
  }

  // ---------------------------------------------------------------- model versions

  /**
   * Registers a version (`source`, or `files` to upload). Always sends a `client_token` (a random
   * UUID unless given), so retries of the request cannot create two versions.
   */
  createModelVersion(name: string, request: CreateModelVersionRequest): Promise<CreateModelVersionResponse> {
    return this.request('createModelVersion', {
      params: { name },
      body: { ...request, client_token: request.client_token ?? globalThis.crypto.randomUUID() },
    });
  }

  async getModelVersion(name: string, version: VersionRef): Promise<ModelVersion> {
    const res = await this.request<{ model_version: ModelVersion }>('getModelVersion', {
      params: { name, version },
    });
    return res.model_version;
  }

  async updateModelVersion(name: string, version: VersionRef, description: string): Promise<ModelVersion> {
    const res = await this.request<{ model_version: ModelVersion }>('updateModelVersion', {
      params: { name, version },
      body: { description },
    });
    return res.model_version;
  }

  async deleteModelVersion(name: string, version: VersionRef): Promise<void> {
    await this.request('deleteModelVersion', { params: { name, version } });
  }

  async setModelVersionTag(name: string, version: VersionRef, key: string, value: string): Promise<void> {
    await this.request('setModelVersionTag', { params: { name, version }, body: { key, value } });
  }

  async deleteModelVersionTag(name: string, version: VersionRef, key: string): Promise<void> {
    await this.request('deleteModelVersionTag', { params: { name, version }, query: { key } });
  }

  /**
   * A version's model card. A version without one fails with a RegistryApiError of status 404
   * and code RESOURCE_DOES_NOT_EXIST.
   *
   * @example
   * ```ts
   * const card = await client.getModelCard('churn', 3);
   * console.log(card.intended_use?.out_of_scope_uses);
   * ```
   */
  async getModelCard(name: string, version: VersionRef): Promise<ModelCard> {
    const res = await this.request<{ model_card: ModelCard }>('getModelCard', { params: { name, version } });
    return res.model_card;
  }

  /**
   * Writes a version's model card: the whole card, which replaces the stored one (every section is
   * optional; unknown fields and oversized text are refused with a 400). Returns the stored card;
   * the edit is in the audit log as ModelCardUpdated.
   *
   * @example
   * ```ts
   * await client.putModelCard('churn', 3, {
   *   intended_use: { primary_uses: 'Retention campaigns.', out_of_scope_uses: 'Credit decisions.' },
   *   metrics: [{ name: 'recall', value: 0.81, slice: 'sex=female' }],
   *   limitations: 'Trained on EU customers only.',
   * });
   * ```
   */
  async putModelCard(name: string, version: VersionRef, card: ModelCard): Promise<ModelCard> {
    const res = await this.request<{ model_card: ModelCard }>('putModelCard', {
      params: { name, version },
      body: { model_card: card },
    });
    return res.model_card;
  }

  /**
   * Moves a version to a stage. Into a guarded stage (governance policy) the transition is not
   * applied but requested: the result then holds `transition_request` instead of `model_version`.
   */
  transitionModelVersionStage(
    name: string,
    version: VersionRef,
    request: TransitionStageRequest,
  ): Promise<TransitionOutcome> {
    return this.request('transitionModelVersionStage', { params: { name, version }, body: request });
  }

  listModelVersions(name: string, params: ListModelVersionsParams = {}): Promise<ModelVersionsPage> {
    return this.request('listModelVersions', { params: { name }, query: params });
  }

  searchModelVersions(params: SearchModelVersionsParams = {}): Promise<ModelVersionsPage> {
    return this.request('searchModelVersions', { query: params });
  }

  listTransitions(name: string, params: ListTransitionsParams = {}): Promise<TransitionsPage> {
    return this.request('listTransitions', { params: { name }, query: params });
  }

  // ---------------------------------------------------------------- governance

  listTransitionRequests(
    name: string,
    params: ListTransitionRequestsParams = {},
  ): Promise<TransitionRequestsPage> {
    return this.request('listTransitionRequests', { params: { name }, query: params });
  }

  async getTransitionRequest(name: string, requestId: string): Promise<TransitionRequest> {
    const res = await this.request<{ transition_request: TransitionRequest }>('getTransitionRequest', {
      params: { name, request_id: requestId },
    });
    return res.transition_request;
  }

  async approveTransitionRequest(
    name: string,
    requestId: string,
    comment?: string,
  ): Promise<TransitionRequest> {
    const res = await this.request<{ transition_request: TransitionRequest }>('approveTransitionRequest', {
      params: { name, request_id: requestId },
      body: comment !== undefined ? { comment } : {},
    });
    return res.transition_request;
  }

  /**
   * Reads a transition request until it is decided (APPLIED, FAILED, REJECTED, EXPIRED or
   * CANCELLED) and returns it: an approval that completes the count answers APPROVED (or PENDING
   * while the quality gates run), and the approval workflow applies the change moments later.
   * Throws TransitionRequestWaitTimeoutError if it is still open after `timeoutMs`.
   */
  async waitForTransitionRequest(
    name: string,
    requestId: string,
    options: WaitForTransitionRequestOptions = {},
  ): Promise<TransitionRequest> {
    const timeoutMs = options.timeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    let delay = options.pollIntervalMs ?? 250;
    for (;;) {
      const request = await this.getTransitionRequest(name, requestId);
      if (request.status !== 'PENDING' && request.status !== 'APPROVED') return request;
      if (Date.now() >= deadline) throw new TransitionRequestWaitTimeoutError(request, timeoutMs);
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())), options.signal);
      delay = Math.min(2_000, delay * 1.5);
    }
  }

  async rejectTransitionRequest(name: string, requestId: string, reason: string): Promise<TransitionRequest> {
    const res = await this.request<{ transition_request: TransitionRequest }>('rejectTransitionRequest', {
      params: { name, request_id: requestId },
      body: { reason },
    });
    return res.transition_request;
  }

  async cancelTransitionRequest(
    name: string,
    requestId: string,
    reason?: string,
  ): Promise<TransitionRequest> {
    const res = await this.request<{ transition_request: TransitionRequest }>('cancelTransitionRequest', {
      params: { name, request_id: requestId },
      body: reason !== undefined ? { reason } : {},
    });
    return res.transition_request;
  }

  /** Re-promotes the previous Production version and archives the current one. */
  async rollbackProduction(name: string, comment?: string): Promise<ModelVersion> {
    const res = await this.request<{ model_version: ModelVersion }>('rollbackProduction', {
      params: { name },
      body: comment !== undefined ? { comment } : {},
    });
    return res.model_version;
  }

  getGovernancePolicy(name: string): Promise<GovernancePolicyResponse> {
    return this.request('getGovernancePolicy', { params: { name } });
  }

  /**
   * Overrides the deployment's policy for this model. A change that weakens it is not applied: the
   * answer carries a `policy_request` (HTTP 202) for other policy admins to approve.
   */
  setGovernancePolicy(
    name: string,
    policy: GovernancePolicyOverride,
    comment?: string,
  ): Promise<PolicyChangeOutcome> {
    return this.request('setGovernancePolicy', {
      params: { name },
      body: { policy, ...(comment !== undefined ? { comment } : {}) },
    });
  }

  /** Removes the model's overrides (a request, HTTP 202, when that weakens its policy). */
  deleteGovernancePolicy(name: string, comment?: string): Promise<PolicyChangeOutcome> {
    return this.request('deleteGovernancePolicy', { params: { name }, query: { comment } });
  }

  listPolicyChangeRequests(
    name: string,
    params: ListPolicyChangeRequestsParams = {},
  ): Promise<PolicyChangeRequestsPage> {
    return this.request('listPolicyChangeRequests', { params: { name }, query: params });
  }

  async getPolicyChangeRequest(name: string, requestId: string): Promise<PolicyChangeRequest> {
    const res = await this.request<{ policy_request: PolicyChangeRequest }>('getPolicyChangeRequest', {
      params: { name, request_id: requestId },
    });
    return res.policy_request;
  }

  async approvePolicyChangeRequest(
    name: string,
    requestId: string,
    comment?: string,
  ): Promise<PolicyChangeRequest> {
    const res = await this.request<{ policy_request: PolicyChangeRequest }>('approvePolicyChangeRequest', {
      params: { name, request_id: requestId },
      body: comment !== undefined ? { comment } : {},
    });
    return res.policy_request;
  }

  async rejectPolicyChangeRequest(
    name: string,
    requestId: string,
    reason: string,
  ): Promise<PolicyChangeRequest> {
    const res = await this.request<{ policy_request: PolicyChangeRequest }>('rejectPolicyChangeRequest', {
      params: { name, request_id: requestId },
      body: { reason },
    });
    return res.policy_request;
  }

  async cancelPolicyChangeRequest(
    name: string,
    requestId: string,
    reason?: string,
  ): Promise<PolicyChangeRequest> {
    const res = await this.request<{ policy_request: PolicyChangeRequest }>('cancelPolicyChangeRequest', {
      params: { name, request_id: requestId },
      body: reason !== undefined ? { reason } : {},
    });
    return res.policy_request;
  }

  /** The approval inbox: open transition requests across every model. */
  listOpenTransitionRequests(params: ListOpenTransitionRequestsParams = {}): Promise<TransitionRequestsPage> {
    return this.request('listOpenTransitionRequests', { query: params });
  }

  // ---------------------------------------------------------------- break glass

  /** Moves a version to a stage now, bypassing approval (a break-glass role's route); `reason` is required. */
  async breakGlassTransition(
    name: string,
    version: VersionRef,
    request: BreakGlassTransitionRequest,
  ): Promise<ModelVersion> {
    const res = await this.request<{ model_version: ModelVersion }>('breakGlassTransition', {
      params: { name, version },
      body: request,
    });
    return res.model_version;
  }

  async breakGlassSetAlias(name: string, alias: string, version: VersionRef, reason: string): Promise<void> {
    await this.request('breakGlassSetAlias', { params: { name, alias }, body: { version, reason } });
  }

  async breakGlassDeleteAlias(name: string, alias: string, reason: string): Promise<void> {
    await this.request('breakGlassDeleteAlias', { params: { name, alias }, query: { reason } });
  }

  async breakGlassDeleteModelVersion(name: string, version: VersionRef, reason: string): Promise<void> {
    await this.request('breakGlassDeleteModelVersion', { params: { name, version }, query: { reason } });
  }

  async breakGlassDeleteRegisteredModel(name: string, reason: string): Promise<void> {
    await this.request('breakGlassDeleteRegisteredModel', { params: { name }, query: { reason } });
  }

  getAuditLog(name: string, params: GetAuditLogParams = {}): Promise<AuditLogPage> {
    return this.request('getAuditLog', { params: { name }, query: params });
  }

  // ---------------------------------------------------------------- events

  /**
   * Publishes again the events recorded in [from, to) (epoch ms), each with its original
   * event_id; one page per call (pass `page_token` from the previous page).
   */
  replayEvents(request: ReplayEventsRequest): Promise<ReplayEventsPage> {
    return this.request('replayEvents', { body: request });
  }

  /** Every page of a replay, in order, until the range is done. */
  async *replayAllEvents(request: Omit<ReplayEventsRequest, 'page_token'>): AsyncGenerator<ReplayEventsPage> {
    let token: string | undefined;
    do {
      const page = await this.replayEvents({ ...request, ...(token ? { page_token: token } : {}) });
      yield page;
      token = page.next_page_token;
    } while (token);
  }

  /** The versions that were in `stage` at `at` (epoch ms; default now). */
  getStageHistory(name: string, stage: string, at: number = Date.now()): Promise<StageHistory> {
    return this.request('getStageHistory', { params: { name }, query: { stage, at } });
  }

  // ---------------------------------------------------------------- artifacts (low level)

  getUploadUrls(
    name: string,
    version: VersionRef,
    request: GetUploadUrlsRequest = {},
    signal?: AbortSignal,
  ): Promise<UploadUrlsResponse> {
    return this.request('getUploadUrls', {
      params: { name, version },
      body: request,
      ...(signal ? { signal } : {}),
    });
  }

  async finalizeModelVersion(
    name: string,
    version: VersionRef,
    request: FinalizeModelVersionRequest = {},
  ): Promise<ModelVersion> {
    const res = await this.request<{ model_version: ModelVersion }>('finalizeModelVersion', {
      params: { name, version },
      body: request,
    });
    return res.model_version;
  }

  getModelVersionDownload(name: string, version: VersionRef): Promise<DownloadResponse> {
    return this.request('getModelVersionDownload', { params: { name, version } });
  }

  /** models:/name/3, models:/name/Production, models:/name@alias or models:/name/latest. */
  resolveModelUri(uri: string): Promise<DownloadResponse> {
    return this.request('resolveModelUri', { query: { uri } });
  }

  // ---------------------------------------------------------------- webhooks

  /** Creates a webhook (MLflow's events, e.g. `model_version.created`); every matching change is delivered, signed, with retries. */
  async createWebhook(request: CreateWebhookRequest): Promise<Webhook> {
    const res = await this.request<{ webhook: Webhook }>('createWebhook', { body: request });
    return res.webhook;
  }

  listWebhooks(params: ListWebhooksParams = {}): Promise<WebhooksPage> {
    return this.request('listWebhooks', { query: params });
  }

  async getWebhook(webhookId: string): Promise<Webhook> {
    const res = await this.request<{ webhook: Webhook }>('getWebhook', { params: { webhook_id: webhookId } });
    return res.webhook;
  }

  /** Changes the fields given (absent or empty ones stay). */
  async updateWebhook(webhookId: string, request: UpdateWebhookRequest): Promise<Webhook> {
    const res = await this.request<{ webhook: Webhook }>('updateWebhook', {
      params: { webhook_id: webhookId },
      body: request,
    });
    return res.webhook;
  }

  async deleteWebhook(webhookId: string): Promise<void> {
    await this.request('deleteWebhook', { params: { webhook_id: webhookId } });
  }

  /** Sends the example payload of `event` (default: the webhook's first) now, and reports the answer. */
  async testWebhook(webhookId: string, event?: string): Promise<WebhookTestResult> {
    const res = await this.request<{ result: WebhookTestResult }>('testWebhook', {
      params: { webhook_id: webhookId },
      body: event !== undefined ? { event } : {},
    });
    return res.result;
  }

  /** The webhook's delivery log, newest first. */
  listWebhookDeliveries(webhookId: string, params: ListWebhooksParams = {}): Promise<WebhookDeliveriesPage> {
    return this.request('listWebhookDeliveries', { params: { webhook_id: webhookId }, query: params });
  }

  /** Sends a FAILED or DEAD delivery again now (same delivery id and body). */
  async redeliverWebhookDelivery(webhookId: string, deliveryId: string): Promise<WebhookDelivery> {
    const res = await this.request<{ delivery: WebhookDelivery }>('redeliverWebhookDelivery', {
      params: { webhook_id: webhookId, delivery_id: deliveryId },
    });
    return res.delivery;
  }

  getOpenApiDocument(): Promise<Record<string, unknown>> {
    return this.request('getOpenApiDocument');
  }

  /**
   * The event log of a local registry (`npm start`), oldest first, as EventBridge would deliver
   * the events; `type` keeps one detail-type. Deployed registries publish to EventBridge and have
   * no such route (404 RegistryApiError, or 403 from API Gateway).
   */
  listLocalEvents(params: { type?: string } = {}): Promise<LocalEventsPage> {
    return this.send('listLocalEvents', LOCAL_ROUTES.listLocalEvents, { query: params });
  }

  // ---------------------------------------------------------------- high level

  /** Hashes, registers, uploads (resumably) and verifies a file or directory; returns the READY version. */
  uploadModel(name: string, path: string, options: UploadModelOptions = {}): Promise<ModelVersion> {
    return uploadModel(this, name, path, options);
  }

  /** Downloads and verifies every file of the version a models:/ URI names into `dir`. */
  downloadModel(uri: string, dir: string, options: DownloadModelOptions = {}): Promise<DownloadResponse> {
    return downloadModel(this, uri, dir, options);
  }
}

function apiError(status: number, text: string, headers: Headers): RegistryApiError {
  const requestId = headers.get('x-request-id') ?? headers.get('x-amzn-requestid') ?? undefined;
  let code: string | undefined;
  let message: string | undefined;
  try {
    const body = JSON.parse(text) as { error_code?: unknown; message?: unknown; Message?: unknown };
    if (typeof body.error_code === 'string') code = body.error_code;
    if (typeof body.message === 'string') message = body.message;
    else if (typeof body.Message === 'string') message = body.Message;
  } catch {
    // not JSON (e.g. a proxy's HTML page)
  }
  code ??= headers.get('x-amzn-errortype')?.split(':')[0] ?? `HTTP_${status}`;
  message ??= text.trim().slice(0, 300) || `The registry answered HTTP ${status}.`;
  return new RegistryApiError(status, code, message, requestId);
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}
