/**
 * The two APIs the registry serves, each as one `Protocol` value: its operations and their typed
 * implementations, its validation messages and its error mapping. The HTTP handler takes this
 * list and binds every route to its protocol once, when it is built.
 */
import { errorResponse, validationMessage } from '../handlers/http/errors';
import { OPERATIONS } from './contract';
import { isMlflowPath, MLFLOW_OPERATIONS } from './mlflow/contract';
import { mlflowErrorResponse, mlflowValidationMessage } from './mlflow/errors';
import { MLFLOW_IMPLEMENTATIONS } from './mlflow/operations';
import { IMPLEMENTATIONS } from './operations';
import { defineProtocol, type Protocol } from './protocol';

/** The registry's own API (docs/openapi.json). */
export const REGISTRY_PROTOCOL: Protocol = defineProtocol({
  name: 'registry',
  operations: OPERATIONS,
  implementations: IMPLEMENTATIONS,
  validationMessage,
  errorResponse,
  owns: (path) => !isMlflowPath(path),
});

/** MLflow's Model Registry REST API, with MLflow's messages, error codes and statuses. */
export const MLFLOW_PROTOCOL: Protocol = defineProtocol({
  name: 'mlflow',
  operations: MLFLOW_OPERATIONS,
  implementations: MLFLOW_IMPLEMENTATIONS,
  validationMessage: mlflowValidationMessage,
  errorResponse: mlflowErrorResponse,
  owns: isMlflowPath,
});

export const PROTOCOLS: readonly Protocol[] = [REGISTRY_PROTOCOL, MLFLOW_PROTOCOL];
