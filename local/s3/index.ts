/**
 * The local S3: `@20minutes/s3rver` (it verifies SigV4 signatures, expiry and a signed
 * Content-Length) made to follow the S3 rules the registry relies on, which s3rver lacks:
 *
 * - an object or part is visible whole or not at all, and a PUT or UploadPart whose body does not
 *   match its `x-amz-checksum-sha256` is refused with 400 BadDigest and stores nothing (store.ts,
 *   inside s3rver, after its signature check; bodies are streamed to disk, never held in memory);
 * - a write with `If-None-Match: *` (PUT, CompleteMultipartUpload) to a key that already exists is
 *   refused with 412 PreconditionFailed, by a thin proxy in front of s3rver. Everything else passes
 *   through it unchanged (the Host header too, so signatures still verify).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, LOCAL_AWS } from '../dynamodb';
import { hardenStore, type S3rverStore } from './store';

export const LOCAL_BUCKET = 'model-registry-artifacts';

export interface LocalS3 {
  /** The endpoint clients use (the proxy). */
  readonly endpoint: string;
  readonly bucket: string;
  stop(): Promise<void>;
}

// s3rver has no typings.
type S3rverInstance = {
  store: S3rverStore;
  middleware: Parameters<typeof hardenStore>[0]['middleware'];
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
};

function preconditionFailed(key: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition><Resource>${key.replace(/[<>&]/g, '')}</Resource></Error>`;
}

export async function startLocalS3(options: { dataDir?: string } = {}): Promise<LocalS3> {
  const S3rver = require('@20minutes/s3rver') as new (opts: Record<string, unknown>) => S3rverInstance;
  const { DUMMY_ACCOUNT } = require('@20minutes/s3rver/lib/models/account') as {
    DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
  };
  DUMMY_ACCOUNT.createKeyPair(LOCAL_AWS.credentials.accessKeyId, LOCAL_AWS.credentials.secretAccessKey);

  const temporary = options.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'mreg-s3-'));
  const directory = options.dataDir ?? temporary!;
  mkdirSync(directory, { recursive: true });
  const backendPort = await freePort();
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: backendPort,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: LOCAL_BUCKET }],
  });
  hardenStore(s3rver);
  await s3rver.run();

  // One write at a time per key, so that check-then-write is atomic like S3's conditional write.
  const locks = new Map<string, Promise<void>>();
  const withKeyLock = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((r) => {
      release = r;
    });
    const chained = previous.then(() => current);
    locks.set(key, chained);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (locks.get(key) === chained) locks.delete(key);
    }
  };

  const forward = (req: IncomingMessage, res: import('node:http').ServerResponse) =>
    new Promise<void>((resolve) => {
      const upstream = httpRequest(
        { host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          up.on('end', () => resolve());
          up.on('error', () => resolve());
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

  const proxy: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = rest.map((s) => decodeURIComponent(s)).join('/');
    const conditional = req.headers['if-none-match'] === '*';
    const isObjectWrite =
      key !== '' &&
      ((req.method === 'PUT' && !url.searchParams.has('partNumber')) ||
        (req.method === 'POST' && url.searchParams.has('uploadId')));
    if (!conditional || !isObjectWrite || !bucket) {
      void forward(req, res);
      return;
    }
    void withKeyLock(`${bucket}/${key}`, async () => {
      const exists = await s3rver.store.existsObject(bucket, key);
      if (exists) {
        req.resume();
        res.writeHead(412, { 'Content-Type': 'application/xml' });
        res.end(preconditionFailed(key));
        return;
      }
      await forward(req, res);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', () => resolve()));

  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket: LOCAL_BUCKET,
    async stop() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await s3rver.close();
      if (temporary) rmSync(temporary, { recursive: true, force: true });
    },
  };
}
