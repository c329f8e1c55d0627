/**
 * DynamoDB Local binds a port picked before it starts: a port another process binds first makes
 * the engine exit, and the start says so (a given port) or starts again on another (a picked one),
 * never hanging on a socket that does not answer and never left running; it sends no telemetry.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startDynamoDbLocal } from '../../local/dynamodb';
import { alive } from '../support/npm-start';

const picked: number[] = [];
vi.mock('../../local/ports', async (original) => {
  const real = await original<typeof import('../../local/ports')>();
  // The fault a real machine produces rarely: the first port picked is bound by someone else.
  return { freePort: async () => picked.shift() ?? real.freePort() };
});

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  picked.length = 0;
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A process holding a port and answering nothing on it. */
async function holdPort(): Promise<number> {
  const server = createServer((socket) => sockets.push(socket));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}

describe('DynamoDB Local on a port taken meanwhile', () => {
  it('starts on another port when the one it picked was taken, and stops', async () => {
    const taken = await holdPort();
    picked.push(taken);
    const engine = await startDynamoDbLocal();
    try {
      expect(engine.endpoint).not.toContain(`:${taken}`);
      // And it sends no telemetry (DynamoDB Local's default is to send it).
      const args = readFileSync(`/proc/${engine.pid}/cmdline`, 'utf8').split('\0');
      expect(args).toContain('-disableTelemetry');
      expect(args).toContain('-sharedDb');
      const res = await fetch(engine.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          authorization:
            'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
        },
        body: '{}',
      });
      expect(res.status).toBe(200);
    } finally {
      await engine.stop();
    }
    expect(alive(engine.pid)).toBe(false);
  }, 90_000);

  it('refuses a given port that is taken, saying so, instead of waiting on it', async () => {
    const taken = await holdPort();
    await expect(startDynamoDbLocal({ port: taken })).rejects.toThrow(`port ${taken} was taken`);
  }, 90_000);
});
