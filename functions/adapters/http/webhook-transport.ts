/**
 * Sends webhook deliveries with Node's own HTTP client: one POST, no redirect followed, a timeout
 * over the whole exchange, and (deployed) a target check on every address the host resolves to,
 * at each delivery. The connection is made to the address that was checked (the request's DNS
 * lookup is answered with it), so a name that resolves to a public address for the check and to a
 * private one a moment later (DNS rebinding) cannot slip through.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { addressLiteral, nonPublicReason } from '../../domain/addresses';
import type { TransportResult, WebhookTransport } from '../../use-cases/ports';

/** Resolves a host name to all of its addresses (node:dns `lookup` with `all: true` by default). */
export type Resolver = (host: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    ),
  );

/** The most of a response body that is kept (MLflow's test result shows it). */
export const RESPONSE_BODY_LIMIT = 16 * 1024;

export interface TransportOptions {
  readonly timeoutMs: number;
  /** Local mode: private and loopback targets are allowed. */
  readonly allowPrivateTargets: boolean;
  /** Tests: another resolver (e.g. one that answers a private address). */
  readonly resolve?: Resolver;
  readonly userAgent?: string;
}

/** Why a target cannot be delivered to, or its addresses (the first one is connected to). */
export async function checkTarget(
  url: URL,
  options: Pick<TransportOptions, 'allowPrivateTargets' | 'resolve'>,
): Promise<{ refused: string } | { addresses: LookupAddress[] }> {
  const host = url.hostname;
  const literal = addressLiteral(host);
  let addresses: LookupAddress[];
  if (literal) {
    addresses = [{ address: literal, family: isIP(literal) }];
  } else {
    try {
      addresses = await (options.resolve ?? systemResolver)(host);
    } catch (err) {
      return { refused: `Cannot resolve webhook URL hostname '${host}': ${(err as Error).message}` };
    }
    if (addresses.length === 0) return { refused: `Cannot resolve webhook URL hostname '${host}'` };
  }
  if (!options.allowPrivateTargets) {
    for (const { address } of addresses) {
      const why = nonPublicReason(address);
      if (why) {
        return {
          refused: `Webhook URL must not resolve to a non-public IP address. '${host}' resolves to ${address} (${why}).`,
        };
      }
    }
  }
  return { addresses };
}

export class NodeWebhookTransport implements WebhookTransport {
  constructor(private readonly options: TransportOptions) {}

  async check(url: string): Promise<string | undefined> {
    const checked = await checkTarget(new URL(url), this.options);
    return 'refused' in checked ? checked.refused : undefined;
  }

  async post(url: string, headers: Readonly<Record<string, string>>, body: string): Promise<TransportResult> {
    const target = new URL(url);
    const checked = await checkTarget(target, this.options);
    if ('refused' in checked) return { kind: 'error', error: checked.refused };
    const chosen = checked.addresses[0]!;
    const payload = Buffer.from(body, 'utf8');
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const literal = addressLiteral(target.hostname);
    return new Promise<TransportResult>((resolve) => {
      let settled = false;
      const done = (result: TransportResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = send(
        {
          method: 'POST',
          host: literal ?? target.hostname,
          port: target.port || undefined,
          path: `${target.pathname}${target.search}`,
          headers: {
            ...headers,
            'Content-Length': String(payload.length),
            'User-Agent': this.options.userAgent ?? 'serverless-model-registry-webhooks',
          },
          // Connect to the address that was checked, whatever the resolver would say now.
          lookup: (_host, opts, callback) => {
            const cb = callback as unknown as (
              err: Error | null,
              address: string | LookupAddress[],
              family?: number,
            ) => void;
            if ((opts as { all?: boolean }).all) cb(null, [chosen]);
            else cb(null, chosen.address, chosen.family);
          },
          ...(target.protocol === 'https:' && !literal ? { servername: target.hostname } : {}),
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (size < RESPONSE_BODY_LIMIT) chunks.push(chunk.subarray(0, RESPONSE_BODY_LIMIT - size));
            size += chunk.length;
          });
          res.on('end', () =>
            done({
              kind: 'response',
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', (err) => done({ kind: 'error', error: err.message }));
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        done({ kind: 'error', error: `No answer within ${this.options.timeoutMs / 1000} s` });
      }, this.options.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) =>
        done({ kind: 'error', error: err.code ? `${err.code}: ${err.message}` : err.message }),
      );
      req.end(payload);
    });
  }
}
