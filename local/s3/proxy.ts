/**
 * The HTTP proxy in front of s3rver: it answers the requests where s3rver would not behave like S3
 * and forwards everything else untouched (the Host header too, so s3rver still verifies
 * signatures). Each refusal below names the S3 behaviour it reproduces.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { type S3ErrorResponse, sendS3Error } from './errors';
import type { LocalStore } from './store';

export interface ProxyOptions {
  readonly backendPort: number;
  readonly store: LocalStore;
}

type Target = { bucket: string; key: string; query: URLSearchParams };

function targetOf(url: string | undefined): Target | undefined {
  const { pathname, searchParams } = new URL(url ?? '/', 'http://localhost');
  const [, bucket, ...rest] = pathname.split('/');
  try {
    return bucket ? { bucket, key: rest.map(decodeURIComponent).join('/'), query: searchParams } : undefined;
  } catch {
    return undefined; // a malformed path: s3rver answers it
  }
}

// S3 (PutObject, CompleteMultipartUpload with If-None-Match: *): 409 ConditionalRequestConflict
// when a conflicting write to the key is in progress; the caller retries a PUT, or starts the
// multipart upload again.
const CONFLICT: S3ErrorResponse = {
  status: 409,
  code: 'ConditionalRequestConflict',
  message:
    'A conflicting operation occurred. If using PutObject you can retry the request. If using multipart upload you should initiate another CreateMultipartUpload request and re-upload each part.',
};

// S3 (PutObject, CompleteMultipartUpload with If-None-Match: *): 412 PreconditionFailed, with
// <Condition>If-None-Match</Condition>, when the key exists; nothing is written.
const PRECONDITION_FAILED: S3ErrorResponse = {
  status: 412,
  code: 'PreconditionFailed',
  message: 'At least one of the pre-conditions you specified did not hold',
  detail: { Condition: 'If-None-Match' },
};

const INTERNAL_ERROR: S3ErrorResponse = {
  status: 500,
  code: 'InternalError',
  message: 'We encountered an internal error. Please try again.',
};

export function s3Proxy({ backendPort, store }: ProxyOptions) {
  /** Keys ("bucket/key") with a conditional write in flight. */
  const writing = new Set<string>();

  /** Relays the request to s3rver and its answer back. */
  const forward = (req: IncomingMessage, res: ServerResponse) =>
    new Promise<void>((resolve) => {
      const upstream = httpRequest(
        { host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          pipeline(up, res).then(resolve, resolve);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
        resolve();
      });
      // A client that gives up halfway: s3rver must see the body end early and keep nothing.
      req.on('close', () => {
        if (!req.complete) upstream.destroy();
      });
      req.pipe(upstream);
    });

  /**
   * A write with `If-None-Match: *`: 412 when the key exists, 409 while another conditional write
   * to the key has not finished (S3's "conflicting operation in progress"), else `write()`.
   */
  const conditionally = async (
    req: IncomingMessage,
    res: ServerResponse,
    { bucket, key }: Target,
    write: () => Promise<void>,
  ) => {
    const id = `${bucket}/${key}`;
    if (writing.has(id)) {
      req.resume();
      return sendS3Error(res, CONFLICT);
    }
    writing.add(id);
    try {
      if (await store.existsObject(bucket, key)) {
        req.resume();
        return sendS3Error(res, PRECONDITION_FAILED);
      }
      await write();
    } finally {
      writing.delete(id);
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const target = targetOf(req.url);
    const write =
      target?.key &&
      ((req.method === 'PUT' && !target.query.has('partNumber')) ||
        (req.method === 'POST' && target.query.has('uploadId')));
    if (write && req.headers['if-none-match'] === '*') {
      return conditionally(req, res, target, () => forward(req, res));
    }
    return forward(req, res);
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res).catch(() => {
      if (res.headersSent) res.destroy();
      else sendS3Error(res, INTERNAL_ERROR);
    });
  };
}
