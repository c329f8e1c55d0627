/**
 * The Lambda entry points behind API Gateway, one per function group of the contract
 * (functions/api/contract.ts), so each function's role holds only what its operations call:
 * `read` serves the GET routes with read-only table access, `write` serves the mutations.
 */
import { buildApiHandlers } from './api-factory';
import { readEnvironment } from './runtime';

export const { read, write } = buildApiHandlers(readEnvironment());
