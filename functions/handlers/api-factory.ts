/**
 * Builds the middy handler stack of one API function group from a validated environment. The
 * Lambda entry points (read.ts, write.ts, upload.ts, download.ts) call it once at cold start; the
 * local runtime calls it with the local configuration, so both serve requests through the same
 * stack.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { IdempotencyStore } from '../adapters/dynamodb/idempotency';
import type { FunctionGroup } from '../api/contract';
import type { OperationContext } from '../api/protocol';
import { PROTOCOLS } from '../api/protocols';
import { hasCapability } from '../deployment/functions';
import type { ArtifactService } from '../use-cases/artifacts';
import type { ApprovalWorkflow, VerificationQueue } from '../use-cases/ports';
import { EventReplay, type EventSink } from '../use-cases/replay';
import { type ApiHandlerOptions, createApiHandler } from './http/api-handler';
import { cors, parseOrigins } from './http/cors';
import {
  documentClient,
  type Environment,
  identityTrust,
  logger,
  type RegistryServices,
  registryServices,
  type SdkCallObserver,
} from './runtime';
import { webhookService } from './webhook-runtime';

export type ApiHandler = middy.MiddyfiedHandler<APIGatewayProxyEvent, APIGatewayProxyResult>;

export interface BuildOptions extends ApiHandlerOptions {
  /** Local runtime, tests and benchmarks only: sees each SDK command the function sends. */
  readonly observe?: SdkCallObserver;
  /** Where finalize queues verification (the upload function needs one). */
  readonly verificationQueue?: () => VerificationQueue;
  /** Builds the artifact service (upload and download functions; keeps S3 out of the others). */
  readonly artifacts?: (services: RegistryServices, queue: VerificationQueue) => ArtifactService;
  /** Loads the OpenAPI document (the read function serves it; other bundles leave it out). */
  readonly openApiDocument?: OperationContext['openApiDocument'];
  /** How decisions resume the approval workflow (the approve function needs it). */
  readonly approvalWorkflow?: () => ApprovalWorkflow;
  /** Where replayed events are published (the write function serves the replay route). */
  readonly eventPublisher?: () => EventSink;
}

export function buildApiHandler(
  group: FunctionGroup,
  env: Environment,
  options: BuildOptions = {},
): ApiHandler {
  const db = documentClient(env, options.observe);
  const noQueue: VerificationQueue = {
    enqueue: () => Promise.reject(new Error('This function does not queue verifications.')),
  };
  const services = registryServices(
    env,
    db,
    hasCapability(group, 'resumeApproval') && options.approvalWorkflow
      ? options.approvalWorkflow()
      : undefined,
  );
  const context: OperationContext = {
    registry: services.registry,
    governance: services.governance,
    policies: services.policies,
    breakGlass: services.breakGlass,
    cards: services.cards,
    ...(hasCapability(group, 'replayEvents')
      ? { replay: new EventReplay(services.core, options.eventPublisher?.()) }
      : {}),
    ...(hasCapability(group, 'artifacts') && options.artifacts
      ? {
          artifacts: options.artifacts(
            services,
            hasCapability(group, 'queueVerification') && options.verificationQueue
              ? options.verificationQueue()
              : noQueue,
          ),
        }
      : {}),
    openApiDocument:
      hasCapability(group, 'openApiDocument') && options.openApiDocument
        ? options.openApiDocument
        : () => Promise.reject(new Error('The OpenAPI document is served by the read function.')),
    webhooks: webhookService(env, db, options.observe ? { observe: options.observe } : {}),
  };
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger))
    .use(cors(parseOrigins(env.CORS_ALLOWED_ORIGINS)))
    .handler(
      createApiHandler(PROTOCOLS, group, () => context, logger, identityTrust(env), {
        validateResponses: options.validateResponses ?? false,
        idempotency: new IdempotencyStore(db, services.repo.tableName),
      }),
    );
}
