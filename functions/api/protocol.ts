/**
 * How an operation is typed and how an API is served.
 *
 * An operation is declared once in a contract (`op({...})`, functions/api/contract.ts) with zod
 * schemas for its path, query, body and response. Its implementation is typed by those schemas:
 * it receives the parsed path, query and body and must return what the response schema accepts,
 * so a missing implementation, a misread field or a presenter that drops a required field is a
 * compile error, not a surprise in production.
 *
 * A `Protocol` is one API (the registry's own, MLflow's): its operations with their
 * implementations, how a request that fails validation is worded, and how errors become statuses
 * and codes. The HTTP handler picks the protocol once per route when it is built.
 */
import type { z } from 'zod';
import type { Principal } from '../domain/identity';
import type { ArtifactService } from '../use-cases/artifacts';
import type { BreakGlassService } from '../use-cases/break-glass';
import type { GovernanceService } from '../use-cases/governance';
import type { ModelCardService } from '../use-cases/model-cards';
import type { PolicyService } from '../use-cases/policy';
import type { RegistryService } from '../use-cases/registry';
import type { EventReplay } from '../use-cases/replay';
import type { WebhookService } from '../use-cases/webhooks';
import type { OperationSpec } from './contract';
import type { openApiDocumentResponse } from './schemas';

export interface OperationContext {
  readonly registry: RegistryService;
  readonly governance: GovernanceService;
  readonly policies: PolicyService;
  readonly breakGlass: BreakGlassService;
  readonly cards: ModelCardService;
  /** Present in the functions that handle registry-managed artifacts. */
  readonly artifacts?: ArtifactService;
  /** Replays recorded events to the bus (the write function). */
  readonly replay?: EventReplay;
  /** The OpenAPI document, loaded lazily by the one route that serves it. */
  readonly openApiDocument: () => Promise<z.input<typeof openApiDocumentResponse>>;
  /** Webhooks (MLflow's webhooks API and the registry's own routes). */
  readonly webhooks: WebhookService;
}

/** A result answered with 202 Accepted (the change waits for approval). */
export class Accepted<T = unknown> {
  constructor(readonly body: T) {}
}

/** The parsed value of one part of the request, or an empty object when the spec has no schema. */
type Part<Spec, K extends 'pathParams' | 'query' | 'body'> = Spec extends {
  readonly [P in K]: infer S extends z.ZodType;
}
  ? z.output<S>
  : Record<string, never>;

/** What an implementation receives: the request parsed by its spec's schemas, and the caller. */
export interface OperationInput<Spec extends OperationSpec = OperationSpec> {
  readonly path: Part<Spec, 'pathParams'>;
  readonly query: Part<Spec, 'query'>;
  readonly body: Part<Spec, 'body'>;
  /** Who signed the request: the person and the IAM principal ARN (docs/identity.md). */
  readonly caller: Principal;
}

/** The body an operation answers: what its response schema accepts. */
export type ResponseOf<Spec extends OperationSpec> = z.input<Spec['response']>;

/** An operation declared `accepted: true` may also answer 202 with the same response shape. */
export type ResultOf<Spec extends OperationSpec> =
  | ResponseOf<Spec>
  | (Spec extends { readonly accepted: true } ? Accepted<ResponseOf<Spec>> : never);

/** The implementation of one operation, typed by its spec. */
export type Impl<Spec extends OperationSpec> = (
  ctx: OperationContext,
  input: OperationInput<Spec>,
) => Promise<ResultOf<Spec>>;

/** One implementation per operation of a contract: a missing or mistyped one does not compile. */
export type Implementations<Ops extends readonly OperationSpec[]> = {
  readonly [Id in Ops[number]['operationId']]: Impl<Extract<Ops[number], { readonly operationId: Id }>>;
};

/** Input validated by the route's own schemas, as the handler holds it before dispatch. */
export interface ValidatedInput {
  readonly path: Readonly<Record<string, unknown>>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly body: Readonly<Record<string, unknown>>;
  readonly caller: Principal;
}

/**
 * An implementation seen from the handler. Declared as a method: the handler only calls it with
 * input its spec's schemas produced, which is what the typed implementation expects.
 */
export interface BoundOperation {
  run(ctx: OperationContext, input: ValidatedInput): Promise<unknown>;
}

/** Which part of the request a validation issue is about. */
export type RequestPart = 'path' | 'query' | 'body';

export interface ErrorBody {
  readonly error_code: string;
  readonly message: string;
}

/** An error as a protocol answers it; `internal` errors are logged and never detailed to the caller. */
export interface ErrorResponse {
  readonly status: number;
  readonly body: ErrorBody;
  readonly internal: boolean;
}

export interface Protocol {
  /** `registry`: this registry's own API; `mlflow`: MLflow's Model Registry REST API. */
  readonly name: 'registry' | 'mlflow';
  readonly operations: readonly OperationSpec[];
  /** The implementation of one of `operations`. */
  operation(operationId: string): BoundOperation | undefined;
  /** The message of the 400 answered when a request part fails its schema. */
  validationMessage(issues: readonly z.core.$ZodIssue[], where: RequestPart): string;
  /** Any error thrown while serving a request, as this protocol answers it. */
  errorResponse(err: unknown, requestId: string): ErrorResponse;
  /** Whether a path no route matches belongs to this API (its 404 and 405 then use its errors). */
  owns(path: string): boolean;
}

export interface ProtocolDefinition<Ops extends readonly OperationSpec[]> {
  readonly name: Protocol['name'];
  readonly operations: Ops;
  readonly implementations: Implementations<NoInfer<Ops>>;
  readonly validationMessage: Protocol['validationMessage'];
  readonly errorResponse: Protocol['errorResponse'];
  readonly owns: Protocol['owns'];
}

/** Builds a protocol from its contract and the implementations typed by it. */
export function defineProtocol<const Ops extends readonly OperationSpec[]>(
  definition: ProtocolDefinition<Ops>,
): Protocol {
  const bound = new Map<string, BoundOperation>();
  const table: Readonly<Record<string, BoundOperation['run']>> = definition.implementations;
  for (const spec of definition.operations) {
    bound.set(spec.operationId, { run: table[spec.operationId] });
  }
  return {
    name: definition.name,
    operations: definition.operations,
    operation: (operationId) => bound.get(operationId),
    validationMessage: definition.validationMessage,
    errorResponse: definition.errorResponse,
    owns: definition.owns,
  };
}
