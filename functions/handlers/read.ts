/** Lambda entry point of the `read` group (GET routes; read-only table access). */
import { buildApiHandler } from './api-factory';
import { readEnvironment } from './runtime';

export const handler = buildApiHandler('read', readEnvironment(), {
  openApiDocument: async () => (await import('../../docs/openapi.json')).default,
});
