/** Lambda entry point of the `download` group: presigned GETs of READY versions, models:/ resolution. */
import { buildApiHandler } from './api-factory';
import { readEnvironment } from './runtime';

export const handler = buildApiHandler('download', readEnvironment());
