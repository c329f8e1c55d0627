/**
 * Builds the middy handler stacks of the API functions from a validated environment. The Lambda
 * entry point (api.ts) calls it once at cold start; the local runtime calls it with the local
 * configuration, so both serve requests through the same stack.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type FunctionGroup, operationsOf } from '../api/contract';
import type { OperationContext } from '../api/operations';
import { createApiHandler } from './http/api-handler';
import { documentClient, type Environment, logger, registryService, type SdkCallObserver } from './runtime';

export type ApiHandler = middy.MiddyfiedHandler<APIGatewayProxyEvent, APIGatewayProxyResult>;

/**
 * @param observe Local runtime, tests and benchmarks only: sees each SDK command of each function
 * group (the permission test checks them against the synthesized roles).
 */
export function buildApiHandlers(
  env: Environment,
  observe?: (group: FunctionGroup, call: Parameters<SdkCallObserver>[0]) => void,
): Record<FunctionGroup, ApiHandler> {
  const build = (group: FunctionGroup) => {
    // One client per function, as each deployed function has its own process.
    const db = documentClient(env, observe ? (call) => observe(group, call) : undefined);
    const context: OperationContext = {
      registry: registryService(env, db),
      openApiDocument: async () => (await import('../../docs/openapi.json')).default,
    };
    return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
      .use(injectLambdaContext(logger))
      .handler(createApiHandler(operationsOf(group), () => context, logger));
  };
  return { read: build('read'), write: build('write') };
}
