/**
 * Module-scope singletons shared by the handlers: configuration read and validated once per cold
 * start, one SDK client per process, Powertools logger.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { DynamoDbRegistryRepository } from '../adapters/dynamodb/registry-repository';
import { RegistryService } from '../use-cases/registry';
import { TABLE_NAME_ENV } from '../wiring/table';

export const logger = new Logger({ serviceName: 'model-registry' });

const envSchema = z.object({
  [TABLE_NAME_ENV]: z.string().min(1),
  /** Only set by the local runtime and tests: the DynamoDB Local endpoint. */
  DYNAMODB_ENDPOINT: z.string().url().optional(),
});

export type Environment = z.infer<typeof envSchema>;

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `Invalid function configuration: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`,
    );
  }
  return parsed.data;
}

/** Sees every AWS SDK command a function sends (local runtime, tests and benchmarks only). */
export type SdkCallObserver = (call: { readonly command: string; readonly input: unknown }) => void;

export function documentClient(env: Environment, observe?: SdkCallObserver): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    ...(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}),
    maxAttempts: 4,
  });
  if (observe) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        observe({ command: String(context.commandName ?? 'unknown'), input: args.input });
        return next(args);
      },
      { step: 'initialize', name: 'observeSdkCalls' },
    );
  }
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
}

export function registryService(env: Environment, db = documentClient(env)): RegistryService {
  return new RegistryService(new DynamoDbRegistryRepository(db, env[TABLE_NAME_ENV]));
}
