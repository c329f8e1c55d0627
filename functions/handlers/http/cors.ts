/**
 * CORS on the API's answers for the deployed console's origins (lib/registry-console.ts): API
 * Gateway answers the preflight itself (a mock integration), and a Lambda proxy answer carries
 * Access-Control-Allow-Origin only when the function adds it. An origin not in the list gets no
 * CORS header, so browsers on other pages cannot read the answers.
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** Headers a page may read from an answer (besides the CORS-safelisted ones). */
const EXPOSED_HEADERS = 'X-Request-Id';

/** The allowed origins of a comma-separated list (`CORS_ALLOWED_ORIGINS`). */
export function parseOrigins(list: string | undefined): ReadonlySet<string> {
  return new Set(
    (list ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  );
}

/** The CORS headers for a request from `origin` (none when the origin is not allowed). */
export function corsHeaders(
  allowed: ReadonlySet<string>,
  origin: string | undefined,
): Record<string, string> {
  if (!origin || !allowed.has(origin)) return allowed.size > 0 ? { Vary: 'Origin' } : {};
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': EXPOSED_HEADERS,
    Vary: 'Origin',
  };
}

/** A middy middleware adding the CORS headers to every answer of the handler. */
export function cors(
  allowed: ReadonlySet<string>,
): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    after: async (request) => {
      if (allowed.size === 0 || !request.response) return;
      const headers = request.event.headers ?? {};
      const origin = Object.entries(headers).find(([k]) => k.toLowerCase() === 'origin')?.[1];
      request.response = {
        ...request.response,
        headers: { ...request.response.headers, ...corsHeaders(allowed, origin ?? undefined) },
      };
    },
  };
}
