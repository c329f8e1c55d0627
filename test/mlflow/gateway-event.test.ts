/**
 * The deployed path: API Gateway REST proxy events (payload 1.0) straight into the Lambda entry
 * points' handler stack. API Gateway has already form-decoded the query string into
 * multiValueQueryStringParameters ('+' is a space, %2B a plus); the handler must use those values
 * as they are, exactly as the local front's events (test/mlflow/conformance.test.ts).
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApiHandler } from '../../functions/handlers/api-factory';
import { LOCAL_AWS } from '../../local/dynamodb';
import { dynamoEndpoint, freshTable } from '../support/engines';

type Handler = ReturnType<typeof buildApiHandler>;
let read: Handler;
let write: Handler;

beforeAll(async () => {
  process.env.AWS_REGION ??= LOCAL_AWS.region;
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_AWS.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_AWS.credentials.secretAccessKey;
  const env = { TABLE_NAME: await freshTable(), DYNAMODB_ENDPOINT: dynamoEndpoint() };
  read = buildApiHandler('read', env, { validateResponses: true });
  write = buildApiHandler('write', env, { validateResponses: true });
});

const lambdaContext = { awsRequestId: 'req-1', functionName: 'test' } as Context;

function event(
  method: string,
  resource: string,
  options: { query?: Record<string, string[]>; body?: unknown } = {},
): APIGatewayProxyEvent {
  const query = options.query ?? null;
  return {
    resource,
    path: resource,
    httpMethod: method,
    headers: options.body !== undefined ? { 'Content-Type': 'application/json' } : {},
    multiValueHeaders: {},
    queryStringParameters: query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v.at(-1)!])),
    multiValueQueryStringParameters: query,
    pathParameters: null,
    stageVariables: null,
    body: options.body !== undefined ? JSON.stringify(options.body) : null,
    isBase64Encoded: false,
    requestContext: {
      requestId: 'req-1',
      identity: { userArn: 'arn:aws:iam::123456789012:role/ml-engineer' },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

const send = async (handler: Handler, e: APIGatewayProxyEvent) => {
  const res = await handler(e, lambdaContext);
  return { status: res.statusCode, body: JSON.parse(res.body) };
};

describe('MLflow routes behind API Gateway', () => {
  it('uses the decoded query values as they are (a space stays a space, a plus a plus)', async () => {
    const name = `gw-${Date.now().toString(36)}`;
    expect(
      (await send(write, event('POST', '/api/2.0/mlflow/registered-models/create', { body: { name } })))
        .status,
    ).toBe(200);
    await send(
      write,
      event('POST', '/api/2.0/mlflow/registered-models/set-tag', {
        body: { name, key: 'f', value: 'a+b c' },
      }),
    );
    // From ?filter=name+%3D+%27...%27+AND+tags.f+%3D+%27a%2Bb+c%27 API Gateway passes:
    const res = await send(
      read,
      event('GET', '/api/2.0/mlflow/registered-models/search', {
        query: { filter: [`name = '${name}' AND tags.f = 'a+b c'`] },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body.registered_models.map((m: { name: string }) => m.name)).toEqual([name]);
    expect(res.body.registered_models[0].user_id).toBe('arn:aws:iam::123456789012:role/ml-engineer');
  });

  it('takes repeated keys as lists (stages=A&stages=B)', async () => {
    const name = `gw-latest-${Date.now().toString(36)}`;
    await send(write, event('POST', '/api/2.0/mlflow/registered-models/create', { body: { name } }));
    const res = await send(
      read,
      event('GET', '/api/2.0/mlflow/registered-models/get-latest-versions', {
        query: { name: [name], stages: ['Production', 'Staging'] },
      }),
    );
    expect(res).toEqual({ status: 200, body: { model_versions: [] } });
  });

  it("answers in MLflow's taxonomy: 404 RESOURCE_DOES_NOT_EXIST with MLflow's message", async () => {
    const res = await send(
      read,
      event('GET', '/api/2.0/mlflow/registered-models/get', { query: { name: ['absent-model'] } }),
    );
    expect(res).toEqual({
      status: 404,
      body: {
        error_code: 'RESOURCE_DOES_NOT_EXIST',
        message: 'Registered Model with name=absent-model not found',
      },
    });
  });

  it('answers an MLflow path the function does not serve with 404 ENDPOINT_NOT_FOUND', async () => {
    const res = await send(
      read,
      event('POST', '/api/2.0/mlflow/registered-models/create', { body: { name: 'x' } }),
    );
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('ENDPOINT_NOT_FOUND');
  });
});
