/**
 * S3's REST error response, for the refusals the proxy answers itself: the HTTP status, an
 * `x-amz-request-id` header and an XML body `<Error><Code/><Message/>…details…<RequestId/></Error>`
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html). SDKs read the error's name
 * from Code, so the codes must be S3's exactly.
 */
import { randomBytes } from 'node:crypto';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

export type ErrorDetail = Readonly<Record<string, string | number>>;

const escapeXml = (value: string | number) =>
  String(value).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function s3ErrorXml(code: string, message: string, detail: ErrorDetail, requestId: string): string {
  const fields = Object.entries({ Code: code, Message: message, ...detail, RequestId: requestId })
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${fields}</Error>`;
}

export interface S3ErrorResponse {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly detail?: ErrorDetail;
}

export function sendS3Error(
  res: ServerResponse,
  error: S3ErrorResponse,
  headers: OutgoingHttpHeaders = {},
): void {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const body = s3ErrorXml(error.code, error.message, error.detail ?? {}, requestId);
  res.writeHead(error.status, {
    ...headers,
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': requestId,
  });
  res.end(body);
}
