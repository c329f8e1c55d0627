/**
 * s3rver's file store, changed where it writes differently from S3. s3rver streams a body straight
 * into the object's (or part's) file and checks no checksum, so a reader can see half an object, an
 * interrupted upload leaves one behind, and a body that does not match its declared SHA-256 is
 * kept. Here every object and part is written to a temporary file beside its place and renamed into
 * place only once it is whole and matches: what S3 shows is all or nothing. This runs inside
 * s3rver, after it has checked the request's signature, so a badly signed request still gets 403.
 *
 * It also answers the proxy's questions about multipart uploads from where s3rver keeps them
 * (`<bucket>/._S3rver_uploads/<uploadId>/`: the key, then one file per part and its MD5).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

type Content = Readable | Buffer;
type Written = { size: number; md5: string };

/** The parts of s3rver's FilesystemStore this module uses or replaces (s3rver has no typings). */
export interface S3rverStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5: string): Promise<void>;
  existsObject(bucket: string, key: string): Promise<boolean>;
  putObject(object: {
    bucket: string;
    key: string;
    content: Content;
    metadata: Record<string, unknown>;
  }): Promise<Written>;
  putPart(bucket: string, uploadId: string, partNumber: number | string, content: Content): Promise<Written>;
}

/** The request s3rver is serving, as its Koa context shows it. */
type RequestContext = {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  params?: { key?: string };
};
type Middleware = (ctx: RequestContext, next: () => Promise<unknown>) => Promise<unknown>;

export interface StoredPart {
  readonly size: number;
  /** The part's MD5 in hex: the ETag S3 returned for it, without quotes. */
  readonly etag: string;
}

export interface Upload {
  readonly key: string;
  readonly parts: ReadonlyMap<number, StoredPart>;
}

export interface LocalStore {
  existsObject(bucket: string, key: string): Promise<boolean>;
  /** The object's tags (PutObjectTagging), none when it has none or does not exist. */
  tags(bucket: string, key: string): Promise<Readonly<Record<string, string>>>;
  /** The multipart upload, or undefined when it was never created, or was completed or aborted. */
  upload(bucket: string, uploadId: string): Promise<Upload | undefined>;
  abortUpload(bucket: string, uploadId: string): Promise<void>;
}

const S3Error = require('@20minutes/s3rver/lib/models/error') as new (
  code: string,
  message: string,
  detail?: Record<string, string>,
) => Error;

// s3rver names upload ids with 32 hex digits; anything else must not become a path.
const UPLOAD_ID = /^[0-9a-f]{1,64}$/i;

const header = (ctx: RequestContext | undefined, name: string) => {
  const value = ctx?.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * The SHA-256 a PUT or UploadPart declared (s3rver has already moved an `x-amz-*` query parameter
 * of a presigned URL into the headers); none for the writes s3rver makes itself (multipart
 * completion, form POST) or for copies.
 */
const declaredSha256 = (ctx: RequestContext | undefined) =>
  ctx?.method === 'PUT' && !header(ctx, 'x-amz-copy-source')
    ? header(ctx, 'x-amz-checksum-sha256')
    : undefined;

function noSuchUpload(uploadId: string): Error {
  // S3: 404 NoSuchUpload, <Error><Code>NoSuchUpload</Code><Message>…</Message><UploadId>…</UploadId>.
  return new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );
}

/**
 * Writes `content` beside `path` and renames it into place once it is whole and, when a SHA-256
 * was declared, matches it. `beforeCommit` stores what must be there when the file appears.
 */
async function writeWhole(
  path: string,
  content: Content,
  sha256: string | undefined,
  beforeCommit: (md5: string) => Promise<void>,
): Promise<Written> {
  const partial = `${path}.${randomUUID()}.partial`;
  const md5 = createHash('md5');
  const checksum = sha256 === undefined ? undefined : createHash('sha256');
  let size = 0;
  try {
    await pipeline(
      Buffer.isBuffer(content) ? Readable.from([content]) : content,
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          md5.update(chunk);
          checksum?.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      }),
      createWriteStream(partial),
    );
    if (checksum && checksum.digest('base64') !== sha256) {
      // S3 (PutObject, UploadPart with x-amz-checksum-sha256): 400 BadDigest,
      // <Error><Code>BadDigest</Code><Message>The SHA256 you specified did not match the
      // calculated checksum.</Message>…</Error>; nothing is stored.
      throw new S3Error('BadDigest', 'The SHA256 you specified did not match the calculated checksum.');
    }
    const etag = md5.digest('hex');
    await beforeCommit(etag);
    await rename(partial, path);
    return { size, md5: etag };
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

/**
 * Makes s3rver write like S3 (see the module comment) and returns what the proxy asks the store.
 * Call before `run()`: the request context is installed as s3rver's first middleware.
 */
export function hardenStore(s3rver: { store: S3rverStore; middleware: Middleware[] }): LocalStore {
  const { store } = s3rver;
  // s3rver hands the store a body without its request: the request rides along with the call.
  const requests = new AsyncLocalStorage<RequestContext>();
  s3rver.middleware.unshift((ctx, next) => requests.run(ctx, next));

  const uploadDir = (bucket: string, uploadId: string) =>
    join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);

  const upload = async (bucket: string, uploadId: string): Promise<Upload | undefined> => {
    if (!UPLOAD_ID.test(uploadId)) return undefined;
    const dir = uploadDir(bucket, uploadId);
    let key: string;
    let files: string[];
    try {
      key = await readFile(join(dir, 'key'), 'utf8');
      files = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parts = new Map<number, StoredPart>();
    for (const name of files.filter((f) => /^\d+$/.test(f) && files.includes(`${f}.md5`))) {
      const [{ size }, etag] = await Promise.all([
        stat(join(dir, name)),
        readFile(join(dir, `${name}.md5`), 'utf8'),
      ]);
      parts.set(Number(name), { size, etag });
    }
    return { key, parts };
  };

  store.putObject = async (object) => {
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    return writeWhole(path, object.content, declaredSha256(requests.getStore()), (md5) =>
      store.putMetadata(object.bucket, object.key, object.metadata, md5),
    );
  };

  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const ctx = requests.getStore();
    const current = await upload(bucket, uploadId);
    // s3rver would create the upload's directory again; S3 refuses a part for an upload that is
    // not open (never created, completed or aborted) or that belongs to another key.
    if (!current || (ctx?.params?.key !== undefined && current.key !== ctx.params.key)) {
      throw noSuchUpload(uploadId);
    }
    const path = join(uploadDir(bucket, uploadId), String(partNumber));
    try {
      return await writeWhole(path, content, declaredSha256(ctx), (md5) => writeFile(`${path}.md5`, md5));
    } catch (err) {
      // Completed or aborted while this part was arriving.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw noSuchUpload(uploadId);
      throw err;
    }
  };

  return {
    existsObject: (bucket, key) => store.existsObject(bucket, key),
    tags: async (bucket, key) => {
      let xml: string;
      try {
        // Where s3rver keeps an object's tagging subresource.
        xml = await readFile(store.getResourcePath(bucket, key, 'tagging.xml'), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
        throw err;
      }
      const tags: Record<string, string> = {};
      for (const [, tag] of xml.matchAll(/<Tag>([\s\S]*?)<\/Tag>/g)) {
        const k = /<Key>([\s\S]*?)<\/Key>/.exec(tag!)?.[1];
        if (k !== undefined) tags[k] = /<Value>([\s\S]*?)<\/Value>/.exec(tag!)?.[1] ?? '';
      }
      return tags;
    },
    upload,
    abortUpload: async (bucket, uploadId) => {
      if (UPLOAD_ID.test(uploadId)) await rm(uploadDir(bucket, uploadId), { recursive: true, force: true });
    },
  };
}
