/** Lambda entry point of the cleanup function (the files of deleted models and versions). */
import { buildCleanupHandler } from './cleanup-factory';
import { readEnvironment } from './runtime';

export const handler = buildCleanupHandler(readEnvironment());
