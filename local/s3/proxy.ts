/**
 * The HTTP proxy in front of s3rver: it answers the requests where s3rver would not behave like S3
 * and forwards everything else untouched (the Host header too, so s3rver still verifies
 * signatures). Each refusal below names the S3 behaviour it reproduces.
 */
import {
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { pipeline } from 'node:stream/promises';
import { DELETED_TAG } from '../../functions/deployment/bucket';
import type { CorsRule } from './cors';
import { type S3ErrorResponse, sendS3Error } from './errors';
import type { LocalStore, Upload } from './store';

/** S3's minimum size of every part but the last (5 MiB). */
const MIN_PART_SIZE = 5 * 1024 ** 2;
// A CompleteMultipartUpload body lists at most 10,000 parts of ~100 bytes each.
const MAX_COMPLETE_BODY = 4 * 1024 ** 2;

export interface ProxyOptions {
  readonly backendPort: number;
  readonly store: LocalStore;
  readonly cors: CorsRule;
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

const noSuchUpload = (uploadId: string): S3ErrorResponse => ({
  // S3 (UploadPart, CompleteMultipartUpload, ListParts, AbortMultipartUpload on an upload that was
  // never created, or was completed or aborted): 404 NoSuchUpload, <UploadId> in the body.
  status: 404,
  code: 'NoSuchUpload',
  message:
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  detail: { UploadId: uploadId },
});

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

// S3: 400 MaxMessageLengthExceeded for a request body over its limit.
const TOO_BIG: S3ErrorResponse = {
  status: 400,
  code: 'MaxMessageLengthExceeded',
  message: 'Your request was too big.',
};

// S3 (GetObject, HeadObject) when a bucket policy denies the read: 403 AccessDenied.
const ACCESS_DENIED: S3ErrorResponse = { status: 403, code: 'AccessDenied', message: 'Access Denied' };

/** Query parameters that make a GET or HEAD on a key something else than GetObject / HeadObject. */
const SUBRESOURCES = [
  'tagging',
  'acl',
  'uploadId',
  'uploads',
  'attributes',
  'legal-hold',
  'retention',
  'torrent',
];

const INTERNAL_ERROR: S3ErrorResponse = {
  status: 500,
  code: 'InternalError',
  message: 'We encountered an internal error. Please try again.',
};

/** The parts a CompleteMultipartUpload body lists, in the order given. */
function listedParts(xml: string): { number: number; etag: string }[] {
  return [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map(([, part]) => ({
    number: Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(part!)?.[1] ?? Number.NaN),
    // S3 ignores the quotes around an ETag.
    etag: (/<ETag>([\s\S]*?)<\/ETag>/.exec(part!)?.[1] ?? '').replace(/&quot;|&#34;|"/g, ''),
  }));
}

/** What S3 says about the parts a completion lists, checked against the parts stored. */
function partsRefusal(
  uploadId: string,
  upload: Upload,
  listed: readonly { number: number; etag: string }[],
): S3ErrorResponse | undefined {
  for (let i = 1; i < listed.length; i++) {
    if (!(listed[i]!.number > listed[i - 1]!.number)) {
      // S3: 400 InvalidPartOrder.
      return {
        status: 400,
        code: 'InvalidPartOrder',
        message: 'The list of parts was not in ascending order. Parts must be ordered by part number.',
        detail: { UploadId: uploadId },
      };
    }
  }
  for (const part of listed) {
    const stored = upload.parts.get(part.number);
    if (!stored || stored.etag !== part.etag) {
      // S3: 400 InvalidPart, with the upload, part number and ETag in the body.
      return {
        status: 400,
        code: 'InvalidPart',
        message:
          "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
        detail: { UploadId: uploadId, PartNumber: part.number, ETag: part.etag },
      };
    }
  }
  for (const part of listed.slice(0, -1)) {
    const { size } = upload.parts.get(part.number)!;
    if (size < MIN_PART_SIZE) {
      // S3: 400 EntityTooSmall when a part other than the last is under 5 MiB, with
      // <ProposedSize>, <MinSizeAllowed>, <PartNumber> and <ETag> in the body.
      return {
        status: 400,
        code: 'EntityTooSmall',
        message: 'Your proposed upload is smaller than the minimum allowed object size.',
        detail: {
          ProposedSize: size,
          MinSizeAllowed: MIN_PART_SIZE,
          PartNumber: part.number,
          ETag: part.etag,
        },
      };
    }
  }
  return undefined;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function s3Proxy({ backendPort, store, cors }: ProxyOptions) {
  /** Keys ("bucket/key") with a conditional write in flight. */
  const writing = new Set<string>();

  /** Relays the request (or `body`, already read from it) to s3rver and its answer back. */
  const forward = (req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders, body?: Buffer) =>
    new Promise<void>((resolve) => {
      const upstream = httpRequest(
        { host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, { ...up.headers, ...headers });
          pipeline(up, res).then(resolve, resolve);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502, headers);
        res.end();
        resolve();
      });
      // A client that gives up halfway: s3rver must see the body end early and keep nothing.
      req.on('close', () => {
        if (!req.complete) upstream.destroy();
      });
      if (body) upstream.end(body);
      else req.pipe(upstream);
    });

  /**
   * A write with `If-None-Match: *`: 412 when the key exists, 409 while another conditional write
   * to the key has not finished (S3's "conflicting operation in progress"), else `write()`.
   */
  const conditionally = async (
    req: IncomingMessage,
    res: ServerResponse,
    { bucket, key }: Target,
    headers: OutgoingHttpHeaders,
    write: () => Promise<void>,
  ) => {
    const id = `${bucket}/${key}`;
    if (writing.has(id)) {
      req.resume();
      return sendS3Error(res, CONFLICT, headers);
    }
    writing.add(id);
    try {
      if (await store.existsObject(bucket, key)) {
        req.resume();
        return sendS3Error(res, PRECONDITION_FAILED, headers);
      }
      await write();
    } finally {
      writing.delete(id);
    }
  };

  /** CompleteMultipartUpload: s3rver assembles whatever part files it finds, so check first. */
  const complete = async (
    req: IncomingMessage,
    res: ServerResponse,
    target: Target,
    uploadId: string,
    headers: OutgoingHttpHeaders,
  ) => {
    const body = await readBody(req, MAX_COMPLETE_BODY);
    if (!body) return sendS3Error(res, TOO_BIG, headers);
    const upload = await store.upload(target.bucket, uploadId);
    if (!upload || upload.key !== target.key) return sendS3Error(res, noSuchUpload(uploadId), headers);
    const listed = listedParts(body.toString('utf8'));
    // No parts listed: s3rver answers MalformedXML, as S3 does.
    const refusal = listed.length ? partsRefusal(uploadId, upload, listed) : undefined;
    if (refusal) return sendS3Error(res, refusal, headers);
    const write = () => forward(req, res, headers, body);
    return req.headers['if-none-match'] === '*' ? conditionally(req, res, target, headers, write) : write();
  };

  const route = async (req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders) => {
    const target = targetOf(req.url);
    if (!target?.key) return forward(req, res, headers);
    const reading =
      (req.method === 'GET' || req.method === 'HEAD') && !SUBRESOURCES.some((q) => target.query.has(q));
    if (reading && (await store.tags(target.bucket, target.key))[DELETED_TAG.key] === DELETED_TAG.value) {
      // The deployed bucket policy denies s3:GetObject on objects tagged registry-deleted=true to
      // every principal (lib/), so a download URL issued before the delete stops working at once.
      req.resume();
      if (req.method === 'HEAD') {
        res.writeHead(ACCESS_DENIED.status, headers).end();
        return;
      }
      return sendS3Error(res, ACCESS_DENIED, headers);
    }
    const uploadId = target.query.get('uploadId');
    if (uploadId === null) {
      const conditional = req.method === 'PUT' && req.headers['if-none-match'] === '*';
      return conditional
        ? conditionally(req, res, target, headers, () => forward(req, res, headers))
        : forward(req, res, headers);
    }
    switch (req.method) {
      case 'POST':
        return complete(req, res, target, uploadId, headers);
      case 'GET':
      case 'DELETE': {
        // ListParts and AbortMultipartUpload, which s3rver lacks (405): an upload that is gone gets
        // NoSuchUpload; an open one is aborted here, and its listing still gets s3rver's 405.
        const upload = await store.upload(target.bucket, uploadId);
        if (!upload || upload.key !== target.key) return sendS3Error(res, noSuchUpload(uploadId), headers);
        if (req.method === 'GET') return forward(req, res, headers);
        await store.abortUpload(target.bucket, uploadId);
        // S3: 204 No Content; the parts are gone and the upload ID no longer works.
        res.writeHead(204, headers).end();
        return;
      }
      default:
        return forward(req, res, headers); // UploadPart: the store checks the upload and checksum
    }
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'OPTIONS') {
      const answer = cors.preflight(req);
      if ('status' in answer) sendS3Error(res, answer);
      else res.writeHead(200, { ...answer.headers, 'content-length': 0 }).end();
      req.resume();
      return;
    }
    const headers = cors.responseHeaders(req);
    route(req, res, headers).catch(() => {
      if (res.headersSent) res.destroy();
      else sendS3Error(res, INTERNAL_ERROR, headers);
    });
  };
}
