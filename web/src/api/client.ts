/**
 * The console's API client: `fetch`, one method per route the console uses (paths and JSON as in
 * functions/api/contract.ts; types from the SDK's), signing left to a pluggable `Signer`. Errors
 * are `ApiError`s carrying the API's `error_code` and message, never a stack.
 */

import { namePlacement } from '../../../functions/api/model-name-path';
import type {
  AuditLogPage,
  DownloadResponse,
  GovernancePolicy,
  GovernancePolicyResponse,
  ModelVersion,
  ModelVersionsPage,
  PolicyChangeOutcome,
  PolicyChangeRequestsPage,
  RegisteredModel,
  RegisteredModelsPage,
  Stage,
  StageHistory,
  TransitionOutcome,
  TransitionRequest,
  TransitionRequestsPage,
  TransitionsPage,
} from '../../../sdk/types';
import type { ModelCard } from '../card';
import type { Signer } from './signers';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type QueryValue = string | number | boolean | undefined | readonly string[];
/** Query parameters (undefined and empty ones are left out; a list repeats its key). */
export type Query = object;

/** SigV4's URI encoding (RFC 3986: spaces as %20, `!'()*` escaped), as the SDK sends queries. */
const encode = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function queryString(query: Query | undefined): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query ?? {}) as [string, QueryValue][]) {
    if (value === undefined || value === '') continue;
    for (const v of Array.isArray(value) ? value : [value]) parts.push(`${encode(key)}=${encode(String(v))}`);
  }
  return parts.join('&');
}

/**
 * A path from its segments, each encoded. A model name (the segment after `models`) a path cannot
 * carry goes in the `name` query parameter instead (functions/api/model-name-path.ts).
 */
function path(...segments: (string | number)[]): string {
  let query = '';
  if (segments[0] === 'models' && typeof segments[1] === 'string') {
    const placed = namePlacement(segments[1]);
    segments = ['models', placed.segment, ...segments.slice(2)];
    query = Object.entries(placed.query)
      .map(([k, v]) => `${encode(k)}=${encode(v)}`)
      .join('&');
  }
  return `/${segments.map((s) => encode(String(s))).join('/')}${query ? `?${query}` : ''}`;
}

export interface Paging {
  readonly max_results?: number;
  readonly page_token?: string | undefined;
}

export class RegistryApi {
  constructor(
    /** The API's base URL, e.g. https://abc.execute-api.eu-west-1.amazonaws.com/prod. */
    readonly baseUrl: string,
    private readonly signer: Signer,
  ) {}

  async request<T>(
    method: string,
    route: string,
    options: { query?: Query; body?: unknown } = {},
  ): Promise<{ status: number; body: T }> {
    const qs = queryString(options.query);
    const url = `${this.baseUrl.replace(/\/$/, '')}${route}${qs ? `${route.includes('?') ? '&' : '?'}${qs}` : ''}`;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers = await this.signer({
      method,
      url,
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body,
    });
    let response: Response;
    try {
      response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch {
      throw new ApiError(0, 'NETWORK_ERROR', `The registry at ${new URL(url).origin} did not answer.`);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const error = (json ?? {}) as { error_code?: unknown; message?: unknown };
      throw new ApiError(
        response.status,
        typeof error.error_code === 'string' ? error.error_code : `HTTP_${response.status}`,
        typeof error.message === 'string' ? error.message : `The registry answered HTTP ${response.status}.`,
      );
    }
    if (json === undefined) {
      throw new ApiError(
        response.status,
        'INVALID_RESPONSE',
        'The registry answered something other than JSON.',
      );
    }
    return { status: response.status, body: json as T };
  }

  private async get<T>(route: string, query?: Query): Promise<T> {
    return (await this.request<T>('GET', route, query ? { query } : {})).body;
  }

  // ---------------------------------------------------------------- models

  searchModels(query: { filter?: string; order_by?: readonly string[] } & Paging) {
    return this.get<RegisteredModelsPage>('/models', query);
  }

  async getModel(name: string): Promise<RegisteredModel> {
    return (await this.get<{ registered_model: RegisteredModel }>(path('models', name))).registered_model;
  }

  async updateModelDescription(name: string, description: string): Promise<RegisteredModel> {
    const { body } = await this.request<{ registered_model: RegisteredModel }>(
      'PATCH',
      path('models', name),
      {
        body: { description },
      },
    );
    return body.registered_model;
  }

  // ---------------------------------------------------------------- versions

  listVersions(name: string, query: { order_by?: readonly string[] } & Paging) {
    return this.get<ModelVersionsPage>(path('models', name, 'versions'), query);
  }

  async getVersion(name: string, version: number): Promise<ModelVersion> {
    return (await this.get<{ model_version: ModelVersion }>(path('models', name, 'versions', version)))
      .model_version;
  }

  download(name: string, version: number) {
    return this.get<DownloadResponse>(path('models', name, 'versions', version, 'download'));
  }

  /** 202 (a transition request) when the stage is guarded, 200 (the version) when it applied. */
  async transition(
    name: string,
    version: number,
    body: { stage: Stage; archive_existing_versions: boolean; comment?: string },
  ) {
    return this.request<TransitionOutcome>('POST', path('models', name, 'versions', version, 'stage'), {
      body,
    });
  }

  listTransitions(name: string, query: { version?: number } & Paging) {
    return this.get<TransitionsPage>(path('models', name, 'transitions'), query);
  }

  // ---------------------------------------------------------------- model cards

  async getCard(name: string, version: number): Promise<ModelCard> {
    return (await this.get<{ model_card: ModelCard }>(path('models', name, 'versions', version, 'card')))
      .model_card;
  }

  async putCard(name: string, version: number, card: ModelCard): Promise<ModelCard> {
    const { body } = await this.request<{ model_card: ModelCard }>(
      'PUT',
      path('models', name, 'versions', version, 'card'),
      { body: { model_card: card } },
    );
    return body.model_card;
  }

  // ---------------------------------------------------------------- governance

  openRequests(query: { status?: 'PENDING' | 'APPROVED' } & Paging) {
    return this.get<TransitionRequestsPage>('/transition-requests', query);
  }

  modelRequests(name: string, query: { status?: string; version?: number } & Paging) {
    return this.get<TransitionRequestsPage>(path('models', name, 'transition-requests'), query);
  }

  private async decide(name: string, id: string, action: 'approve' | 'reject' | 'cancel', body: object) {
    const { body: out } = await this.request<{ transition_request: TransitionRequest }>(
      'POST',
      path('models', name, 'transition-requests', id, action),
      { body },
    );
    return out.transition_request;
  }

  approve(name: string, id: string, comment?: string) {
    return this.decide(name, id, 'approve', comment ? { comment } : {});
  }

  reject(name: string, id: string, reason: string) {
    return this.decide(name, id, 'reject', { reason });
  }

  cancel(name: string, id: string) {
    return this.decide(name, id, 'cancel', {});
  }

  async rollback(name: string, comment?: string): Promise<ModelVersion> {
    const { body } = await this.request<{ model_version: ModelVersion }>(
      'POST',
      path('models', name, 'rollback'),
      {
        body: comment ? { comment } : {},
      },
    );
    return body.model_version;
  }

  getPolicy(name: string) {
    return this.get<GovernancePolicyResponse>(path('models', name, 'policy'));
  }

  /** 200 with the new policy when it applied; 202 with a `policy_request` when it weakens it. */
  setPolicy(name: string, policy: Partial<GovernancePolicy>, comment?: string) {
    return this.request<PolicyChangeOutcome>('PUT', path('models', name, 'policy'), {
      body: { policy, ...(comment ? { comment } : {}) },
    });
  }

  policyRequests(name: string, query: { status?: string } & Paging) {
    return this.get<PolicyChangeRequestsPage>(path('models', name, 'policy-requests'), query);
  }

  audit(name: string, query: { version?: number } & Paging) {
    return this.get<AuditLogPage>(path('models', name, 'audit'), query);
  }

  stageHistory(name: string, stage: Stage, at: number) {
    return this.get<StageHistory>(path('models', name, 'stage-history'), { stage, at });
  }
}
