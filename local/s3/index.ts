/**
 * The local S3: `@20minutes/s3rver` (it verifies SigV4 signatures, expiry and a signed
 * Content-Length) made to follow the S3 rules the registry relies on, which s3rver lacks:
 *
 * - an object or part is visible whole or not at all, and a PUT or UploadPart whose body does not
 *   match its `x-amz-checksum-sha256` is refused with 400 BadDigest and stores nothing (store.ts,
 *   inside s3rver, after its signature check; bodies are streamed to disk, never held in memory);
 * - a write with `If-None-Match: *` (PUT, CompleteMultipartUpload) gets 412 PreconditionFailed when
 *   the key exists and 409 ConditionalRequestConflict while another one to the key is in flight;
 * - CompleteMultipartUpload refuses parts under 5 MiB but the last (400 EntityTooSmall), parts
 *   that were not uploaded or whose ETag differs (400 InvalidPart) and parts out of order (400
 *   InvalidPartOrder);
 * - a completed or aborted upload is gone: UploadPart (store.ts), CompleteMultipartUpload,
 *   ListParts and AbortMultipartUpload get 404 NoSuchUpload (and AbortMultipartUpload works);
 * - CORS for pages on the allowed origins (default: any loopback origin), as one bucket CORS rule;
 * - reading an object tagged `registry-deleted=true` gets 403 AccessDenied, as the deployed bucket
 *   policy answers (the registry tags the files of deleted models and versions).
 *
 * The rest is answered by a thin proxy in front of s3rver (proxy.ts), which forwards everything
 * else untouched, the Host header too, so signatures still verify.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_AWS } from '../dynamodb';
import { CorsRule, LOOPBACK_ORIGINS } from './cors';
import { s3Proxy } from './proxy';
import { hardenStore, type S3rverStore } from './store';

export const LOCAL_BUCKET = 'model-registry-artifacts';

export interface LocalS3 {
  /** The endpoint clients use (the proxy). */
  readonly endpoint: string;
  readonly bucket: string;
  stop(): Promise<void>;
}

export interface LocalS3Options {
  /** Where objects are kept (they survive a restart); a temporary directory by default. */
  readonly dataDir?: string;
  /** Origins whose pages may call the local S3 from a browser, as S3 CORS AllowedOrigin patterns. */
  readonly corsAllowedOrigins?: readonly string[];
}

// s3rver has no typings.
type S3rverInstance = {
  store: S3rverStore;
  middleware: Parameters<typeof hardenStore>[0]['middleware'];
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
};

export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const S3rver = require('@20minutes/s3rver') as new (opts: Record<string, unknown>) => S3rverInstance;
  const { DUMMY_ACCOUNT } = require('@20minutes/s3rver/lib/models/account') as {
    DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
  };
  DUMMY_ACCOUNT.createKeyPair(LOCAL_AWS.credentials.accessKeyId, LOCAL_AWS.credentials.secretAccessKey);

  const temporary = options.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'mreg-s3-'));
  const directory = options.dataDir ?? temporary!;
  mkdirSync(directory, { recursive: true });
  // Port 0 everywhere: the kernel picks and the server keeps it (a port picked and released first
  // could be bound by another process before this one binds it).
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: LOCAL_BUCKET }],
  });
  const store = hardenStore(s3rver);
  const { port: backendPort } = await s3rver.run();

  const cors = new CorsRule(options.corsAllowedOrigins ?? LOOPBACK_ORIGINS);
  const proxy: Server = createServer(s3Proxy({ backendPort, store, cors }));
  await new Promise<void>((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = proxy.address() as AddressInfo;

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
