/** Lambda entry point of the verify function (asynchronous invocation by finalize). */
import { readEnvironment } from './runtime';
import { buildVerifyHandler } from './verify-factory';

export const handler = buildVerifyHandler(readEnvironment());
