/**
 * The local outbox relay: reads DynamoDB Local's stream of the registry table and hands the
 * records, as Lambda's event source mapping would, to the same relay handler the deployed relay
 * function runs. Progress is checkpointed per shard (in the data directory when there is one), so
 * after a crash or restart the relay resumes where it stopped and no recorded event is lost;
 * delivery may repeat, as on AWS.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { RelayHandler } from '../functions/handlers/relay-factory';
import { LOCAL_AWS } from './dynamodb';
import { lambdaContext } from './lambda-context';

export interface LocalOutbox {
  /** Resolves once everything in the stream so far has been relayed. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalOutbox(options: {
  endpoint: string;
  tableName: string;
  relay: RelayHandler;
  checkpointFile?: string;
  intervalMs?: number;
}): Promise<LocalOutbox> {
  const config = { endpoint: options.endpoint, ...LOCAL_AWS };
  const { Table } = await new DynamoDBClient(config).send(
    new DescribeTableCommand({ TableName: options.tableName }),
  );
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`Table ${options.tableName} has no stream`);
  const streams = new DynamoDBStreamsClient(config);
  const checkpoints: Record<string, string> =
    options.checkpointFile && existsSync(options.checkpointFile)
      ? JSON.parse(readFileSync(options.checkpointFile, 'utf8'))
      : {};
  const iterators = new Map<string, string | null>();
  /** Shards whose iterator was just lost (expired or trimmed) and restarted from the checkpoint. */
  const restarted = new Set<string>();
  let stopped = false;

  const save = () => {
    if (options.checkpointFile) writeFileSync(options.checkpointFile, JSON.stringify(checkpoints));
  };

  /** One pass over every shard; true when it relayed something. */
  const poll = async (): Promise<boolean> => {
    let relayed = false;
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      const shardId = shard.ShardId!;
      if (iterators.get(shardId) === null) continue; // closed and fully read
      let iterator: string | null | undefined = iterators.get(shardId);
      if (iterator === undefined) {
        const after = checkpoints[shardId];
        const from = (position: { SequenceNumber?: string }) =>
          streams.send(
            new GetShardIteratorCommand({
              StreamArn: streamArn,
              ShardId: shardId,
              ...(position.SequenceNumber
                ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: position.SequenceNumber }
                : { ShardIteratorType: 'TRIM_HORIZON' }),
            }),
          );
        const out = await from(after ? { SequenceNumber: after } : {}).catch((err: Error) => {
          // The checkpoint is older than the stream keeps (24 hours): what is left, from the start.
          if (err.name !== 'TrimmedDataAccessException') throw err;
          console.error(
            `Local outbox relay: records after ${after} were trimmed; resuming at the oldest kept.`,
          );
          return from({});
        });
        iterator = out.ShardIterator ?? null;
      }
      while (iterator) {
        let out: { Records?: unknown[]; NextShardIterator?: string };
        try {
          out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
        } catch (err) {
          // An iterator that expired, or that DynamoDB Local trimmed under it: start again from the
          // checkpoint on the next pass, as Lambda's event source mapping does.
          const name = (err as Error).name;
          if (name !== 'ExpiredIteratorException' && name !== 'TrimmedDataAccessException') throw err;
          iterators.delete(shardId);
          // Try again at once, but not forever: a second failure in a row waits for the next pass.
          relayed = !restarted.has(shardId);
          restarted.add(shardId);
          break;
        }
        restarted.delete(shardId);
        const records = (out.Records ?? []) as DynamoDBStreamEvent['Records'];
        if (records.length) {
          const event = { Records: records } as unknown as DynamoDBStreamEvent;
          const result = await options.relay(event, lambdaContext('relay', { timeoutMs: 60_000 }));
          const failed = result?.batchItemFailures?.[0]?.itemIdentifier;
          const done = failed
            ? records.slice(
                0,
                records.findIndex((r) => r.dynamodb?.SequenceNumber === failed),
              )
            : records;
          const last = done.at(-1)?.dynamodb?.SequenceNumber;
          if (last) {
            checkpoints[shardId] = last;
            save();
          }
          relayed = true;
          if (failed) {
            iterators.delete(shardId); // retry from the checkpoint next time
            break;
          }
        }
        const next: string | null = out.NextShardIterator ?? null;
        iterators.set(shardId, next);
        if (!records.length) break;
        iterator = next;
      }
    }
    return relayed;
  };

  // Passes never overlap (a drain and the background loop share the shard iterators).
  let chain: Promise<unknown> = Promise.resolve();
  const pollSerial = (): Promise<boolean> => {
    const pass = chain.then(poll);
    chain = pass.catch(() => undefined);
    return pass;
  };

  const loop = async () => {
    while (!stopped) {
      await pollSerial().catch((err) => {
        if (!stopped) console.error('Local outbox relay:', err instanceof Error ? err.message : err);
      });
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
    }
  };
  const looping = loop();

  return {
    async drain() {
      while (await pollSerial()) {
        // keep going until a pass finds nothing new
      }
    },
    async stop() {
      stopped = true;
      await looping;
    },
  };
}
