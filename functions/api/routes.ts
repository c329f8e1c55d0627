/**
 * Every route the API serves: the registry's own operations and MLflow's Model Registry REST API.
 * The deployed API (CDK), the Lambda handlers and the local front all route with this list, so
 * what runs locally is what is deployed.
 */
import { type FunctionGroup, OPERATIONS, type OperationSpec } from './contract';
import { MLFLOW_OPERATIONS } from './mlflow/contract';

export const ALL_OPERATIONS: readonly OperationSpec[] = [...OPERATIONS, ...MLFLOW_OPERATIONS];

/** The routes one Lambda function serves. */
export function routesOf(group: FunctionGroup): OperationSpec[] {
  return ALL_OPERATIONS.filter((o) => o.group === group);
}
