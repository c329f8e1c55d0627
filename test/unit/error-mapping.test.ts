/**
 * Errors map by class on both APIs: every error class a request can end with has a mapping on
 * the registry API and on MLflow's, resolution never depends on list order (the class itself
 * first, then its nearest mapped ancestor), and a new class without a mapping does not compile.
 */
import { describe, expect, it } from 'vitest';
import { type ErrorTable, errorRegistry } from '../../functions/api/error-registry';
import {
  MLFLOW_ERROR_TABLE,
  MLFLOW_ERRORS,
  mlflowErrorResponse,
  TransitionPendingApprovalError,
} from '../../functions/api/mlflow/errors';
import { MLFLOW_PROTOCOL, REGISTRY_PROTOCOL } from '../../functions/api/protocols';
import * as domainErrors from '../../functions/domain/errors';
import { InvalidStateError, RegistryError } from '../../functions/domain/errors';
import {
  ERROR_CLASSES,
  errorResponse,
  REGISTRY_ERROR_TABLE,
  REGISTRY_ERRORS,
} from '../../functions/handlers/http/errors';

/** The concrete error classes of a module, found at run time (what the compiler checks by type). */
const concreteErrorClasses = (module: Record<string, unknown>) =>
  Object.entries(module).filter(
    (entry): entry is [string, new (message: string) => RegistryError] =>
      typeof entry[1] === 'function' &&
      entry[1] !== RegistryError &&
      entry[1].prototype instanceof RegistryError,
  );

describe('error mapping by class', () => {
  const domain = concreteErrorClasses(domainErrors);
  const all = concreteErrorClasses(ERROR_CLASSES);

  it('finds every domain error class among the classes the protocols map', () => {
    expect(domain.length).toBeGreaterThanOrEqual(10);
    for (const [name] of domain) expect(all.map(([n]) => n)).toContain(name);
  });

  it.each(all)('maps %s itself on both protocols', (name, cls) => {
    expect(REGISTRY_ERRORS.mapsExactly(cls)).toBe(true);
    expect(MLFLOW_ERRORS.mapsExactly(cls)).toBe(true);
    const err = new cls('x');
    const registry = REGISTRY_PROTOCOL.errorResponse(err, 'req');
    const mlflow = MLFLOW_PROTOCOL.errorResponse(err, 'req');
    expect(registry).toEqual({
      status: new Map(Object.entries(REGISTRY_ERROR_TABLE)).get(name)?.status,
      body: { error_code: err.code, message: 'x' },
      internal: false,
    });
    const want = new Map(Object.entries(MLFLOW_ERROR_TABLE)).get(name);
    expect(mlflow).toEqual({
      status: want?.status,
      body: { error_code: want?.code, message: 'x' },
      internal: false,
    });
    expect(registry.status).toBeLessThan(500);
    expect(mlflow.status === 503 || mlflow.status < 500).toBe(true);
  });

  it('maps a subclass by its nearest mapped ancestor', () => {
    const err = new TransitionPendingApprovalError('waits');
    expect(errorResponse(err, 'req').status).toBe(409);
    expect(mlflowErrorResponse(err, 'req')).toMatchObject({
      status: 400,
      body: { error_code: 'INVALID_STATE' },
    });
  });

  it('prefers the exact class over an ancestor, whatever order the table lists them in', () => {
    class Child extends InvalidStateError {}
    const classes = { InvalidStateError, Child };
    const childFirst = errorRegistry(classes, { Child: 'child', InvalidStateError: 'parent' });
    const parentFirst = errorRegistry(classes, { InvalidStateError: 'parent', Child: 'child' });
    for (const registry of [childFirst, parentFirst]) {
      expect(registry.resolve(new Child('x'))).toBe('child');
      expect(registry.resolve(new InvalidStateError('x'))).toBe('parent');
    }
  });

  it('does not compile a table that misses a class', () => {
    class QuotaExceededError extends RegistryError {
      readonly code = 'QUOTA_EXCEEDED';
    }
    const withNewClass = { ...ERROR_CLASSES, QuotaExceededError };
    // @ts-expect-error the registry API's table has no mapping for QuotaExceededError
    const registry: ErrorTable<typeof withNewClass, unknown> = REGISTRY_ERROR_TABLE;
    // @ts-expect-error nor has MLflow's
    const mlflow: ErrorTable<typeof withNewClass, unknown> = MLFLOW_ERROR_TABLE;
    expect([registry, mlflow]).toHaveLength(2);
  });
});
