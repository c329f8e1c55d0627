/**
 * Operations are typed by their schemas, and responses are checked against them: what the
 * compiler cannot see (a field that is undefined at run time) the handler refuses with a 500 and
 * a clear log wherever responses are validated (the local runtime and the tests).
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { OPERATIONS, operation } from '../../functions/api/contract';
import { IMPLEMENTATIONS } from '../../functions/api/operations';
import { versionJson } from '../../functions/api/presenters';
import {
  Accepted,
  defineProtocol,
  type Impl,
  type Implementations,
  type OperationContext,
} from '../../functions/api/protocol';
import { REGISTRY_PROTOCOL } from '../../functions/api/protocols';
import { DEFAULT_IDENTITY_TRUST } from '../../functions/domain/identity';
import { buildApiHandler } from '../../functions/handlers/api-factory';
import { createApiHandler } from '../../functions/handlers/http/api-handler';
import { errorResponse, validationMessage } from '../../functions/handlers/http/errors';
import { documentClient, logger, registryServices } from '../../functions/handlers/runtime';
import { webhookService } from '../../functions/handlers/webhook-runtime';
import { LOCAL_AWS } from '../../local/dynamodb';
import { dynamoEndpoint, freshTable } from '../support/engines';

const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'test',
  functionVersion: '1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test',
  memoryLimitInMB: '128',
  awsRequestId: 'req-1',
  logGroupName: 'test',
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 1000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

function event(
  method: string,
  resource: string,
  pathParameters: Record<string, string> | null,
  body?: unknown,
): APIGatewayProxyEvent {
  const path = Object.entries(pathParameters ?? {}).reduce((p, [k, v]) => p.replace(`{${k}}`, v), resource);
  return {
    resource,
    path,
    httpMethod: method,
    headers: body !== undefined ? { 'Content-Type': 'application/json' } : {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters,
    stageVariables: null,
    body: body !== undefined ? JSON.stringify(body) : null,
    isBase64Encoded: false,
    requestContext: JSON.parse(
      JSON.stringify({
        requestId: 'req-1',
        identity: { userArn: 'arn:aws:iam::123456789012:role/ml-engineer' },
      }),
    ),
  };
}

let context: OperationContext;
const name = `typed-${Date.now().toString(36)}`;

beforeAll(async () => {
  process.env.AWS_REGION ??= LOCAL_AWS.region;
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_AWS.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_AWS.credentials.secretAccessKey;
  const env = { TABLE_NAME: await freshTable(), DYNAMODB_ENDPOINT: dynamoEndpoint() };
  const db = documentClient(env);
  const services = registryServices(env, db);
  context = {
    ...services,
    openApiDocument: () => Promise.reject(new Error('not served here')),
    webhooks: webhookService(env, db),
  };
  const write = buildApiHandler('write', env, { validateResponses: true });
  const upload = buildApiHandler('upload', env, { validateResponses: true });
  expect((await write(event('POST', '/models', null, { name }), lambdaContext)).statusCode).toBe(201);
  const created = await upload(
    event('POST', '/models/{name}/versions', { name }, { source: 's3://bucket/model' }),
    lambdaContext,
  );
  expect(created.statusCode).toBe(201);
});

/** The registry API's getModelVersion with a presenter that leaves `created_by` out at run time. */
const justGetModelVersion = [operation('getModelVersion')] as const;
const droppingPresenter = defineProtocol({
  name: 'registry',
  operations: justGetModelVersion,
  implementations: {
    async getModelVersion({ cards }, { path }) {
      const view = await cards.versionWithCard(path.name, Number(path.version));
      // What the compiler cannot see: a value that is undefined at run time (an old item, a
      // codec that lost a field) vanishes from the JSON.
      const presented = JSON.parse(JSON.stringify({ ...versionJson(view), created_by: undefined }));
      return { model_version: presented };
    },
  },
  validationMessage,
  errorResponse,
  owns: () => true,
});

const getVersion = event('GET', '/models/{name}/versions/{version}', { name, version: '1' });

describe('responses checked against their schemas', () => {
  it('answers 500 and logs which field is missing when a presenter drops a required field', async () => {
    const handler = createApiHandler(
      [droppingPresenter],
      'read',
      () => context,
      logger,
      DEFAULT_IDENTITY_TRUST,
      { validateResponses: true },
    );
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const res = await handler(getVersion, lambdaContext);
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ error_code: 'INTERNAL_ERROR' });
    expect(res.body).not.toContain('created_by');
    expect(logged).toHaveBeenCalledWith(
      'Response does not match its schema',
      expect.objectContaining({
        operationId: 'getModelVersion',
        issues: [expect.objectContaining({ path: ['model_version', 'created_by'] })],
      }),
    );
    logged.mockRestore();
  });

  it('answers the same response when responses are not validated (deployed functions)', async () => {
    const handler = createApiHandler(
      [droppingPresenter],
      'read',
      () => context,
      logger,
      DEFAULT_IDENTITY_TRUST,
    );
    const res = await handler(getVersion, lambdaContext);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).model_version.created_by).toBeUndefined();
  });

  it('passes the real presenter', async () => {
    const handler = createApiHandler(
      [REGISTRY_PROTOCOL],
      'read',
      () => context,
      logger,
      DEFAULT_IDENTITY_TRUST,
      {
        validateResponses: true,
      },
    );
    const res = await handler(getVersion, lambdaContext);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).model_version).toMatchObject({
      name,
      version: 1,
      created_by: expect.any(String),
    });
  });
});

describe('implementations typed by their schemas', () => {
  it('implements every operation of the contract', () => {
    for (const o of OPERATIONS) expect(typeof IMPLEMENTATIONS[o.operationId]).toBe('function');
  });

  it('does not compile a missing implementation, a misread input or a dropped field', () => {
    const { getModelVersion: _left, ...rest } = IMPLEMENTATIONS;
    // @ts-expect-error getModelVersion is missing
    const incomplete: Implementations<typeof OPERATIONS> = rest;

    const misread: Impl<ReturnType<typeof operation<'getModelVersion'>>> = async ({ cards }, { path }) =>
      // @ts-expect-error the path has `name` and `version`, not `versoin`
      ({ model_version: versionJson(await cards.versionWithCard(path.name, Number(path.versoin))) });

    // @ts-expect-error the response schema requires created_by
    const dropped: Impl<ReturnType<typeof operation<'getModelVersion'>>> = async ({ cards }, { path }) => {
      const { created_by: _gone, ...rest } = versionJson(
        await cards.versionWithCard(path.name, Number(path.version)),
      );
      return { model_version: rest };
    };

    // @ts-expect-error getModelVersion is not declared `accepted`: it cannot answer 202
    const accepted: Impl<ReturnType<typeof operation<'getModelVersion'>>> = async () => new Accepted({});

    expect([incomplete, misread, dropped, accepted]).toHaveLength(4);
  });
});
