/** Lambda entry point of the `write` group (mutations of models, versions, stages, aliases, tags). */
import { buildApiHandler } from './api-factory';
import { readEnvironment } from './runtime';

export const handler = buildApiHandler('write', readEnvironment());
