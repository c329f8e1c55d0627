/**
 * Lambda entry point of the `upload` group: creating versions (with presigned upload
 * instructions), fresh upload URLs, and finalize, which queues verification by invoking the
 * verify function asynchronously.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { LambdaVerificationQueue } from '../adapters/lambda/verification-queue';
import { buildApiHandler } from './api-factory';
import { artifactService } from './artifact-runtime';
import { readEnvironment } from './runtime';

const env = readEnvironment();
const verifyFunction = env.VERIFY_FUNCTION_NAME;
if (!verifyFunction) throw new Error('Invalid function configuration: VERIFY_FUNCTION_NAME is not set');
const lambda = new LambdaClient({});

export const handler = buildApiHandler('upload', env, {
  artifacts: (services, queue) => artifactService(env, services, queue),
  verificationQueue: () => new LambdaVerificationQueue(lambda, verifyFunction),
});
