/**
 * The verify function: re-reads every file of a finalized version and settles it (READY or
 * FAILED_REGISTRATION). Invoked asynchronously by finalize on Lambda, in-process locally.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { artifactService } from './artifact-runtime';
import { documentClient, type Environment, logger, registryServices, type SdkCallObserver } from './runtime';

const jobSchema = z.object({
  name: z.string().min(1),
  modelId: z.string().min(1),
  version: z.number().int().positive(),
});

export type VerifyHandler = middy.MiddyfiedHandler<unknown, { status: string }>;

export function buildVerifyHandler(env: Environment, observe?: SdkCallObserver): VerifyHandler {
  const service = artifactService(
    env,
    registryServices(env, documentClient(env, observe)),
    { enqueue: () => Promise.reject(new Error('The verify function does not queue verifications.')) },
    observe,
  );
  return middy<unknown, { status: string }>()
    .use(injectLambdaContext(logger))
    .handler(async (event) => {
      const job = jobSchema.parse(event);
      const status = await service.verify(job);
      logger.info('Verified model version', { ...job, status });
      return { status };
    });
}
