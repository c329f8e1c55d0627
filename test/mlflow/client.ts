/**
 * Speaks MLflow's Model Registry wire protocol the way the Python client does
 * (mlflow/utils/rest_utils.py over python-requests), for the conformance suite:
 * - GET: request fields as query parameters encoded like `urllib.parse.urlencode(doseq=True)`
 *   (quote_plus: a space is `+`, a literal `+` is `%2B`, lists are repeated keys, numbers and
 *   booleans are strings, None fields are left out);
 * - POST/PATCH/DELETE: a JSON body with `Content-Type: application/json` (DELETE too);
 * - only HTTP 200 is success; an error body is `{error_code, message}`.
 */
import { expect } from 'vitest';

export type Fields = Record<
  string,
  string | number | boolean | readonly (string | number)[] | undefined | null | object
>;

export interface WireResponse {
  readonly status: number;
  readonly body: any;
  readonly url: string;
}

/** Python's `urllib.parse.quote_plus`: only `A-Za-z0-9_.-~` stay as they are, a space is `+`. */
export function quotePlus(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** `urllib.parse.urlencode(fields, doseq=True)` as python-requests builds a GET query. */
export function pythonQuery(fields: Fields): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) pairs.push(`${quotePlus(key)}=${quotePlus(String(v))}`);
  }
  return pairs.join('&');
}

export class MlflowRestError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(`${errorCode}: ${message}`);
  }
}

export function mlflowWire(baseUrl: string, principal = 'AKIAMLFLOW') {
  const headers = {
    'User-Agent': 'mlflow-python-client/3.6.0',
    // The local front names the caller after the access key of a SigV4 Authorization header.
    authorization: `AWS4-HMAC-SHA256 Credential=${principal}/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=0`,
  };

  /** One request, exactly as the client sends it; returns whatever the server answered. */
  async function raw(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT',
    endpoint: string,
    fields: Fields = {},
    options: { body?: string; contentType?: string; query?: string } = {},
  ): Promise<WireResponse> {
    const isGet = method === 'GET';
    const query = options.query ?? (isGet ? pythonQuery(fields) : '');
    const url = `${baseUrl}/api/2.0/mlflow/${endpoint}${query ? `?${query}` : ''}`;
    const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== null));
    const body = options.body ?? (isGet ? undefined : JSON.stringify(clean));
    const res = await fetch(url, {
      method,
      headers: {
        ...headers,
        ...(body !== undefined ? { 'Content-Type': options.contentType ?? 'application/json' } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      // keep the text
    }
    return { status: res.status, body: parsed, url };
  }

  /** A call as MlflowClient makes it: 200 or an MlflowRestError carrying the error code. */
  async function call(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    endpoint: string,
    fields: Fields = {},
  ): Promise<any> {
    const res = await raw(method, endpoint, fields);
    if (res.status !== 200) {
      throw new MlflowRestError(
        res.status,
        res.body?.error_code ?? `HTTP ${res.status}`,
        res.body?.message ?? '',
      );
    }
    expect(typeof res.body).toBe('object');
    return res.body;
  }

  return { raw, call };
}
