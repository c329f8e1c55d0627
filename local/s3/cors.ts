/**
 * CORS as S3 applies one bucket CORS rule, so that a page the local registry serves can PUT to
 * presigned upload URLs and GET downloads from the browser. S3's evaluation
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html): a preflight (OPTIONS) must
 * name an Origin and an Access-Control-Request-Method; it is answered 200 with the Access-Control-*
 * headers when the origin matches an AllowedOrigin (one `*` wildcard each), the method is an
 * AllowedMethod and every requested header matches an AllowedHeader, and 403 CORSResponse
 * otherwise. An actual request from a matching origin gets the same headers on its response,
 * error or not; any other request gets none (and is served as usual).
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { ARTIFACT_CORS, LOOPBACK_ORIGINS } from '../../functions/deployment/bucket';
import type { S3ErrorResponse } from './errors';

export { LOOPBACK_ORIGINS };

// The deployed bucket's CORS rule (lib/ builds it from the same constants).
const ALLOWED_METHODS: readonly string[] = ARTIFACT_CORS.allowedMethods;
const ALLOWED_HEADERS: readonly string[] = ARTIFACT_CORS.allowedHeaders;
const EXPOSE_HEADERS: readonly string[] = ARTIFACT_CORS.exposedHeaders;

const wildcard = (pattern: string, flags = '') =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    flags,
  );

export class CorsRule {
  private readonly origins: RegExp[];
  private readonly headers = ALLOWED_HEADERS.map((h) => wildcard(h, 'i'));

  constructor(allowedOrigins: readonly string[]) {
    this.origins = allowedOrigins.map((o) => wildcard(o));
  }

  private matches(origin: string | undefined, method: string): origin is string {
    return (
      origin !== undefined && this.origins.some((o) => o.test(origin)) && ALLOWED_METHODS.includes(method)
    );
  }

  private headersFor(origin: string): OutgoingHttpHeaders {
    return {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': ALLOWED_METHODS.join(', '),
      'access-control-expose-headers': EXPOSE_HEADERS.join(', '),
      'access-control-allow-credentials': 'true',
      vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    };
  }

  /** The Access-Control-* headers for the response to an actual (not preflight) request. */
  responseHeaders(req: IncomingMessage): OutgoingHttpHeaders {
    return this.matches(req.headers.origin, req.method ?? '') ? this.headersFor(req.headers.origin) : {};
  }

  /** S3's answer to a preflight request. */
  preflight(req: IncomingMessage): { headers: OutgoingHttpHeaders } | S3ErrorResponse {
    const origin = req.headers.origin;
    const method = req.headers['access-control-request-method'];
    // S3: 400 BadRequest with these messages when the preflight lacks what it needs.
    if (!origin) {
      return {
        status: 400,
        code: 'BadRequest',
        message: 'Insufficient information. Origin request header needed.',
      };
    }
    if (!method) {
      return { status: 400, code: 'BadRequest', message: 'Invalid Access-Control-Request-Method: null' };
    }
    const requested = (req.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    if (!this.matches(origin, method) || !requested.every((h) => this.headers.some((p) => p.test(h)))) {
      // S3: 403 CORSResponse (its message, typo included).
      return {
        status: 403,
        code: 'CORSResponse',
        message:
          "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
      };
    }
    return {
      headers: {
        ...this.headersFor(origin),
        ...(requested.length ? { 'access-control-allow-headers': requested.join(', ') } : {}),
      },
    };
  }
}
