/**
 * Builds the Lambda handler of one function group: finds the operation API Gateway routed the
 * request to (by resource template and method, from the contract), validates the input with the
 * route's schemas, runs its typed implementation and maps every error in one place, each route in
 * the protocol (API) it belongs to, chosen once when the handler is built.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import type { IdempotencyStore } from '../../adapters/dynamodb/idempotency';
import type { FunctionGroup, OperationSpec } from '../../api/contract';
import { Accepted, type BoundOperation, type OperationContext, type Protocol } from '../../api/protocol';
import { EndpointNotFoundError } from '../../domain/errors';
import type { IdentityTrust } from '../../domain/identity';
import { IdempotencyInProgressError, MethodNotAllowedError } from './errors';
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

/** A response its operation's schema refuses: a bug in the registry, answered as a 500. */
export class ResponseSchemaError extends Error {
  constructor(
    readonly operationId: string,
    readonly issues: readonly z.core.$ZodIssue[],
  ) {
    super(
      `The response of ${operationId} does not match its response schema:\n${z.prettifyError({ issues: [...issues] })}`,
    );
    this.name = 'ResponseSchemaError';
  }
}

export interface ApiHandlerOptions {
  /**
   * Parse every response with its operation's response schema; a mismatch (a missing or mistyped
   * field) is answered as a 500 and logged. On in the local runtime and in tests; off when
   * deployed, where it would add latency and cost to every request for a check the compiler and
   * the tests already make.
   */
  readonly validateResponses?: boolean;
  /** Where mutating requests with an Idempotency-Key record their first answer. */
  readonly idempotency?: IdempotencyStore;
}

interface Route {
  readonly spec: OperationSpec;
  readonly protocol: Protocol;
  readonly operation: BoundOperation;
}

export function createApiHandler(
  protocols: readonly Protocol[],
  group: FunctionGroup,
  context: () => OperationContext,
  logger: Logger,
  trust: IdentityTrust,
  options: ApiHandlerOptions = {},
): (event: APIGatewayProxyEvent, lambdaContext: Context) => Promise<APIGatewayProxyResult> {
  const byRoute = new Map<string, Route>();
  for (const protocol of protocols) {
    for (const spec of protocol.operations.filter((o) => o.group === group)) {
      const operation = protocol.operation(spec.operationId);
      if (!operation)
        throw new Error(`The ${protocol.name} API has no implementation of ${spec.operationId}.`);
      byRoute.set(`${spec.method} ${spec.path}`, { spec, protocol, operation });
    }
  }
  const paths = new Set([...byRoute.values()].map((r) => r.spec.path));
  const [first] = protocols;
  if (!first) throw new Error('An API handler serves at least one protocol.');
  /** The API a path no route matches belongs to (its 404 or 405 answers in that API's errors). */
  const protocolOf = (path: string): Protocol => protocols.find((p) => p.owns(path)) ?? first;

  return async (event, lambdaContext) => {
    const requestId = event.requestContext?.requestId ?? lambdaContext.awsRequestId;
    const route = byRoute.get(`${event.httpMethod} ${event.resource}`);
    const protocol = route?.protocol ?? protocolOf(event.resource ?? event.path);
    try {
      if (!route) {
        if (paths.has(event.resource)) {
          throw new MethodNotAllowedError(`${event.httpMethod} is not allowed on ${event.resource}.`);
        }
        throw new EndpointNotFoundError(`No route for ${event.httpMethod} ${event.path}.`);
      }
      const { spec } = route;
      const input = readInput(event, spec, route.protocol, trust);
      logger.appendKeys({
        operation: spec.operationId,
        caller: input.caller.arn,
        person: input.caller.person,
      });
      const execute = async () => {
        const result = await route.operation.run(context(), input);
        const accepted = result instanceof Accepted;
        const body = accepted ? result.body : result;
        if (options.validateResponses) {
          const checked = spec.response.safeParse(body);
          if (!checked.success) throw new ResponseSchemaError(spec.operationId, checked.error.issues);
        }
        return json(accepted ? 202 : spec.successStatus, body, requestId);
      };
      // A mutating request with an Idempotency-Key runs at most once per caller, route and key
      // (functions/handlers/http/idempotency.ts).
      const key = idempotencyKeyOf(event, spec);
      if (key === undefined || !options.idempotency) return await execute();
      const replayed = await runIdempotently(
        options.idempotency,
        { caller: input.caller.person, route: `${spec.method} ${spec.path}`, key },
        requestFingerprint(input),
        lambdaContext.getRemainingTimeInMillis?.(),
        async () => {
          try {
            return await execute();
          } catch (err) {
            // A refusal is answered (and not recorded); anything else propagates and releases the key.
            const mapped = route.protocol.errorResponse(err, requestId);
            if (mapped.internal) throw err;
            logger.info('Request rejected', { errorCode: mapped.body.error_code, status: mapped.status });
            return json(mapped.status, mapped.body, requestId);
          }
        },
        (err) => logger.warn('Could not record the idempotent response', { error: err as Error }),
      );
      return { ...replayed, headers: { ...replayed.headers, 'X-Request-Id': requestId } };
    } catch (err) {
      const mapped = protocol.errorResponse(err, requestId);
      if (err instanceof ResponseSchemaError) {
        logger.error('Response does not match its schema', {
          error: err,
          operationId: err.operationId,
          issues: err.issues,
        });
      } else if (mapped.internal) logger.error('Request failed', { error: err as Error });
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
