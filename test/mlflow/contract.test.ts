/**
 * The MLflow routes in the contract, and their errors: every endpoint of MLflow's registry table
 * is a separately authorizable route in the group holding the permissions it needs, and every
 * registry error class maps to MLflow's code and status, with 4xx for everything deterministic.
 */
import { describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../functions/api/contract';
import { MLFLOW_OPERATIONS, MLFLOW_PREFIX } from '../../functions/api/mlflow/contract';
import { mlflowErrorResponse, TransitionPendingApprovalError } from '../../functions/api/mlflow/errors';
import { MLFLOW_IMPLEMENTATIONS } from '../../functions/api/mlflow/operations';
import { ALL_OPERATIONS, routesOf } from '../../functions/api/routes';
import {
  ConcurrentModificationError,
  EndpointNotFoundError,
  InvalidParameterError,
  InvalidStateError,
  LimitExceededError,
  MalformedRequestError,
  PayloadTooLargeError,
  PermissionDeniedError,
  RegistryError,
  ResourceAlreadyExistsError,
  ResourceNotFoundError,
} from '../../functions/domain/errors';
import { MethodNotAllowedError, UnsupportedMediaTypeError } from '../../functions/handlers/http/errors';

const ENDPOINTS: [string, string, string][] = [
  ['POST', 'registered-models/create', 'write'],
  ['GET', 'registered-models/get', 'read'],
  ['PATCH', 'registered-models/update', 'write'],
  ['POST', 'registered-models/rename', 'write'],
  ['DELETE', 'registered-models/delete', 'write'],
  ['GET', 'registered-models/search', 'read'],
  ['POST', 'registered-models/get-latest-versions', 'read'],
  ['GET', 'registered-models/get-latest-versions', 'read'],
  ['POST', 'registered-models/set-tag', 'write'],
  ['DELETE', 'registered-models/delete-tag', 'write'],
  ['POST', 'registered-models/alias', 'write'],
  ['DELETE', 'registered-models/alias', 'write'],
  ['GET', 'registered-models/alias', 'read'],
  ['POST', 'model-versions/create', 'write'],
  ['GET', 'model-versions/get', 'read'],
  ['PATCH', 'model-versions/update', 'write'],
  ['POST', 'model-versions/transition-stage', 'write'],
  ['DELETE', 'model-versions/delete', 'write'],
  ['GET', 'model-versions/get-download-uri', 'download'],
  ['GET', 'model-versions/search', 'read'],
  ['POST', 'model-versions/set-tag', 'write'],
  ['DELETE', 'model-versions/delete-tag', 'write'],
  ['POST', 'transition-requests/create', 'write'],
  ['GET', 'transition-requests/list', 'read'],
  ['POST', 'transition-requests/approve', 'approve'],
  ['POST', 'transition-requests/reject', 'approve'],
  ['DELETE', 'transition-requests/delete', 'approve'],
  // MLflow 3's WebhookService: changes (and test, which opens the secret) in write, reads in read.
  ['POST', 'webhooks', 'write'],
  ['GET', 'webhooks', 'read'],
  ['GET', 'webhooks/{webhook_id}', 'read'],
  ['PATCH', 'webhooks/{webhook_id}', 'write'],
  ['DELETE', 'webhooks/{webhook_id}', 'write'],
  ['POST', 'webhooks/{webhook_id}/test', 'write'],
];

describe('MLflow routes', () => {
  it('serves every endpoint of the MLflow registry table, each in the group with the permissions it needs', () => {
    const served = MLFLOW_OPERATIONS.map((o) => [o.method, o.path.slice(MLFLOW_PREFIX.length + 1), o.group]);
    expect(served.sort()).toEqual([...ENDPOINTS].sort());
  });

  it('marks every MLflow route with protocol mlflow and success status 200, under /api/2.0/mlflow', () => {
    for (const o of MLFLOW_OPERATIONS) {
      expect(o.protocol).toBe('mlflow');
      expect(o.successStatus).toBe(200);
      expect(o.path.startsWith(`${MLFLOW_PREFIX}/`)).toBe(true);
    }
  });

  it('has an implementation for every MLflow operation', () => {
    for (const o of MLFLOW_OPERATIONS) expect(typeof MLFLOW_IMPLEMENTATIONS[o.operationId]).toBe('function');
  });

  it('routes the registry API and MLflow together, with no method and path twice and no id twice', () => {
    expect(ALL_OPERATIONS).toHaveLength(OPERATIONS.length + MLFLOW_OPERATIONS.length);
    expect(new Set(ALL_OPERATIONS.map((o) => `${o.method} ${o.path}`)).size).toBe(ALL_OPERATIONS.length);
    expect(new Set(ALL_OPERATIONS.map((o) => o.operationId)).size).toBe(ALL_OPERATIONS.length);
    expect(routesOf('download').map((o) => o.operationId)).toContain('mlflowGetModelVersionDownloadUri');
  });
});

describe("MLflow's error taxonomy", () => {
  const cases: [RegistryError, number, string][] = [
    [new InvalidParameterError('x'), 400, 'INVALID_PARAMETER_VALUE'],
    [new UnsupportedMediaTypeError('x'), 400, 'INVALID_PARAMETER_VALUE'],
    [new MalformedRequestError('x'), 400, 'MALFORMED_REQUEST'],
    [new PayloadTooLargeError('x'), 400, 'INVALID_PARAMETER_VALUE'],
    [new LimitExceededError('x'), 400, 'INVALID_PARAMETER_VALUE'],
    [new ResourceAlreadyExistsError('x'), 400, 'RESOURCE_ALREADY_EXISTS'],
    [new InvalidStateError('x'), 400, 'INVALID_STATE'],
    [new TransitionPendingApprovalError('x'), 400, 'INVALID_STATE'],
    [new PermissionDeniedError('x'), 403, 'PERMISSION_DENIED'],
    [new ResourceNotFoundError('x'), 404, 'RESOURCE_DOES_NOT_EXIST'],
    [new EndpointNotFoundError('x'), 404, 'ENDPOINT_NOT_FOUND'],
    [new MethodNotAllowedError('x'), 404, 'ENDPOINT_NOT_FOUND'],
    [new ConcurrentModificationError('x'), 503, 'TEMPORARILY_UNAVAILABLE'],
  ];

  it.each(cases)('%s → %i %s', (err, status, code) => {
    expect(mlflowErrorResponse(err, 'req')).toEqual({
      status,
      body: { error_code: code, message: 'x' },
      internal: false,
    });
  });

  it('answers a registry error it does not list with a 400 the client does not retry', () => {
    class NewError extends RegistryError {
      readonly code = 'SOMETHING_NEW';
    }
    expect(mlflowErrorResponse(new NewError('x'), 'req')).toMatchObject({
      status: 400,
      body: { error_code: 'BAD_REQUEST' },
    });
  });

  it('answers anything else with 500 INTERNAL_ERROR and no internals', () => {
    const res = mlflowErrorResponse(new Error('secret table arn'), 'req-9');
    expect(res.status).toBe(500);
    expect(res.internal).toBe(true);
    expect(res.body.error_code).toBe('INTERNAL_ERROR');
    expect(res.body.message).not.toContain('secret');
    expect(res.body.message).toContain('req-9');
  });
});
