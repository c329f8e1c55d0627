/**
 * Every operation of the API contract has an SDK method (named after its operationId) and the
 * SDK's route table agrees with the contract: adding a route without its SDK method fails here.
 */
import { describe, expect, it } from 'vitest';
import { OPERATIONS, type OperationSpec } from '../../functions/api/contract';
import { RegistryClient, ROUTES } from '../../sdk';

/** This registry's own API (routes speaking MLflow's protocol belong to MLflow clients). */
const OWN: readonly OperationSpec[] = OPERATIONS.filter((o: OperationSpec) => o.protocol !== 'mlflow');

describe('SDK coverage of the API contract', () => {
  it.each(OWN.map((o) => [o.operationId, o] as const))('%s has an SDK method and route', (id, op) => {
    expect(typeof (RegistryClient.prototype as any)[id], `RegistryClient.${id} is missing`).toBe('function');
    expect((ROUTES as Record<string, unknown>)[id], `ROUTES.${id} is missing`).toEqual({
      method: op.method,
      path: op.path,
    });
  });

  it('has no route the contract does not know', () => {
    const known = new Set<string>(OWN.map((o) => o.operationId));
    expect(Object.keys(ROUTES).filter((id) => !known.has(id))).toEqual([]);
  });
});
