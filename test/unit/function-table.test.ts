/**
 * The function table (functions/deployment/functions.ts) is the one list of functions: its entries
 * exist, its API functions are exactly the route groups, and what each handler is built with
 * agrees with what its role may do.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_OPERATIONS } from '../../functions/api/routes';
import { ENVIRONMENT_NAMES } from '../../functions/deployment/environment';
import {
  API_FUNCTION_NAMES,
  FUNCTION_NAMES,
  FUNCTIONS,
  hasCapability,
} from '../../functions/deployment/functions';

const ROOT = join(__dirname, '..', '..');

describe('function table', () => {
  it.each(FUNCTION_NAMES)('%s has an entry point on disk', (name) => {
    expect(existsSync(join(ROOT, FUNCTIONS[name].entry))).toBe(true);
  });

  it('lists as API functions exactly the groups the routes are served by', () => {
    expect([...new Set(ALL_OPERATIONS.map((o) => o.group))].sort()).toEqual([...API_FUNCTION_NAMES].sort());
  });

  it('names only variables of the environment schema, each once', () => {
    for (const name of FUNCTION_NAMES) {
      const vars = FUNCTIONS[name].environment;
      expect(new Set(vars).size, name).toBe(vars.length);
      for (const v of vars) expect(ENVIRONMENT_NAMES, `${name} ${v}`).toContain(v);
    }
  });

  it('gives each capability to the functions whose role holds its actions, and only those', () => {
    for (const name of FUNCTION_NAMES) {
      const { actions } = FUNCTIONS[name];
      expect(hasCapability(name, 'artifacts'), name).toBe(actions.artifacts.length > 0);
      expect(hasCapability(name, 'queueVerification'), name).toBe(
        (actions.verifyFunction as readonly string[]).includes('lambda:InvokeFunction'),
      );
      expect(hasCapability(name, 'resumeApproval'), name).toBe(
        (actions.stateMachine as readonly string[]).includes('states:SendTaskSuccess'),
      );
      expect(hasCapability(name, 'startApproval'), name).toBe(
        (actions.stateMachine as readonly string[]).includes('states:StartExecution'),
      );
      // The bucket's name: to use it (artifacts), or to refuse a version whose source points into
      // another model's managed files (every function that creates versions).
      const createsVersions = ALL_OPERATIONS.some(
        (op) => op.group === name && /^(mlflowC|c)reateModelVersion$/.test(op.operationId),
      );
      expect(FUNCTIONS[name].environment.includes('ARTIFACT_BUCKET' as never), name).toBe(
        hasCapability(name, 'artifacts') || createsVersions,
      );
    }
  });
});
