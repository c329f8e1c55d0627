/**
 * Builds the Lambda handler of one function group: finds the operation API Gateway routed the
 * request to (by resource template and method, from the contract), validates the input, runs it
 * and maps every error in one place.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { IdempotencyStore } from '../../adapters/dynamodb/idempotency';
import type { OperationSpec } from '../../api/contract';
import { isMlflowPath } from '../../api/mlflow/contract';
import { mlflowErrorResponse } from '../../api/mlflow/errors';
import { MLFLOW_IMPLEMENTATIONS } from '../../api/mlflow/operations';
import { Accepted, IMPLEMENTATIONS, type OperationContext } from '../../api/operations';
import { EndpointNotFoundError } from '../../domain/errors';
import type { IdentityTrust } from '../../domain/identity';
import { errorResponse, IdempotencyInProgressError, MethodNotAllowedError } from './errors';
import { idempotencyKeyOf, requestFingerprint, runIdempotently } from './idempotency';
import { readInput } from './request';

const JSON_HEADERS = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

export function json(
  status: number,
  body: unknown,
  requestId?: string,
  extraHeaders: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { ...JSON_HEADERS, ...(requestId ? { 'X-Request-Id': requestId } : {}), ...extraHeaders },
    body: JSON.stringify(body),
  };
}

export function createApiHandler(
  operations: readonly OperationSpec[],
  context: () => OperationContext,
  logger: Logger,
  trust: IdentityTrust,
  idempotency?: IdempotencyStore,
): (event: APIGatewayProxyEvent, lambdaContext: Context) => Promise<APIGatewayProxyResult> {
  const byRoute = new Map(operations.map((o) => [`${o.method} ${o.path}`, o]));
  const paths = new Set(operations.map((o) => o.path));

  return async (event, lambdaContext) => {
    const requestId = event.requestContext?.requestId ?? lambdaContext.awsRequestId;
    const spec = byRoute.get(`${event.httpMethod} ${event.resource}`);
    // MLflow routes answer in MLflow's error taxonomy (functions/api/mlflow/errors.ts).
    const mlflow = spec ? spec.protocol === 'mlflow' : isMlflowPath(event.resource ?? event.path);
    try {
      if (!spec) {
        if (paths.has(event.resource)) {
          throw new MethodNotAllowedError(`${event.httpMethod} is not allowed on ${event.resource}.`);
        }
        throw new EndpointNotFoundError(`No route for ${event.httpMethod} ${event.path}.`);
      }
      const input = readInput(event, spec, trust);
      logger.appendKeys({
        operation: spec.operationId,
        caller: input.caller.arn,
        person: input.caller.person,
      });
      const execute = async () => {
        const result = await (spec.protocol === 'mlflow'
          ? MLFLOW_IMPLEMENTATIONS[spec.operationId as keyof typeof MLFLOW_IMPLEMENTATIONS]
          : IMPLEMENTATIONS[spec.operationId as keyof typeof IMPLEMENTATIONS])(context(), input);
        if (result instanceof Accepted) return json(202, result.body, requestId);
        return json(spec.successStatus, result, requestId);
      };
      // A mutating request with an Idempotency-Key runs at most once per caller, route and key
      // (functions/handlers/http/idempotency.ts).
      const key = idempotencyKeyOf(event, spec);
      if (key === undefined || !idempotency) return await execute();
      const replayed = await runIdempotently(
        idempotency,
        { caller: input.caller.person, route: `${spec.method} ${spec.path}`, key },
        requestFingerprint(input),
        lambdaContext.getRemainingTimeInMillis?.(),
        async () => {
          try {
            return await execute();
          } catch (err) {
            // A refusal is answered (and not recorded); anything else propagates and releases the key.
            const mapped = mlflow ? mlflowErrorResponse(err, requestId) : errorResponse(err, requestId);
            if (mapped.internal) throw err;
            logger.info('Request rejected', { errorCode: mapped.body.error_code, status: mapped.status });
            return json(mapped.status, mapped.body, requestId);
          }
        },
        (err) => logger.warn('Could not record the idempotent response', { error: err as Error }),
      );
      return { ...replayed, headers: { ...replayed.headers, 'X-Request-Id': requestId } };
    } catch (err) {
      const mapped = mlflow ? mlflowErrorResponse(err, requestId) : errorResponse(err, requestId);
      if (mapped.internal) logger.error('Request failed', { error: err as Error });
      else logger.info('Request rejected', { errorCode: mapped.body.error_code, status: mapped.status });
      return json(
        mapped.status,
        mapped.body,
        requestId,
        err instanceof IdempotencyInProgressError ? { 'Retry-After': '1' } : {},
      );
    } finally {
      logger.removeKeys(['operation', 'caller', 'person']);
    }
  };
}
