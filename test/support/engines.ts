/** Test helpers: a fresh table (or a whole local registry) on the shared DynamoDB Local. */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { DynamoDbRegistryRepository } from '../../functions/adapters/dynamodb/repository';
import { DEFAULT_IDENTITY_TRUST, type Principal, principalOf } from '../../functions/domain/identity';
import { RegistryCore } from '../../functions/use-cases/core';
import type { Clock } from '../../functions/use-cases/ports';
import { applyAtOnce, type Gatekeeper, RegistryService } from '../../functions/use-cases/registry';
import { ensureTable, LOCAL_AWS } from '../../local/dynamodb';
import { type LocalRegistry, type LocalRegistryOptions, startLocalRegistry } from '../../local/registry';

export function dynamoEndpoint(): string {
  return inject('dynamoEndpoint');
}

export function documentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: dynamoEndpoint(), ...LOCAL_AWS }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export async function freshTable(): Promise<string> {
  const name = `test-${randomUUID()}`;
  await ensureTable(dynamoEndpoint(), name);
  return name;
}

export interface TestRegistry {
  readonly service: RegistryService;
  readonly repo: DynamoDbRegistryRepository;
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Every item in the table, sorted: for checking that a rejected request changed nothing. */
  snapshot(): Promise<unknown[]>;
}

export async function testRegistry(
  options: { gatekeeper?: Gatekeeper; clock?: Clock } = {},
): Promise<TestRegistry> {
  const tableName = await freshTable();
  const db = documentClient();
  const repo = new DynamoDbRegistryRepository(db, tableName, 'a-test-page-token-secret');
  const service = new RegistryService(
    new RegistryCore(repo, options.clock),
    options.gatekeeper ?? applyAtOnce,
  );
  return { service, repo, db, tableName, snapshot: () => tableSnapshot(db, tableName) };
}

export async function tableSnapshot(db: DynamoDBDocumentClient, tableName: string): Promise<unknown[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: tableName,
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
}

/** The caller an IAM principal ARN is, under the default identity trust (docs/identity.md). */
export function principal(userArn: string): Principal {
  return principalOf({ userArn }, DEFAULT_IDENTITY_TRUST);
}

/** Every governance guard off: the `mlflow` policy profile (transitions apply at once, as in MLflow). */
export const UNGUARDED = 'mlflow';

/** A whole local registry (HTTP front + handlers) on a fresh table of the shared engine. */
export async function localRegistry(options: Partial<LocalRegistryOptions> = {}): Promise<LocalRegistry> {
  return startLocalRegistry({
    dynamoEndpoint: dynamoEndpoint(),
    s3Endpoint: inject('s3Endpoint'),
    tableName: `test-${randomUUID()}`,
    port: 0,
    ...options,
  });
}

/** A small JSON HTTP client for API tests. */
export function apiClient(baseUrl: string, principal?: string) {
  return async function call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: any; headers: Headers }> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(principal
          ? {
              authorization: `AWS4-HMAC-SHA256 Credential=${principal}/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=0`,
            }
          : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}
