/**
 * The workflow function: each Task state of the approval state machine
 * (functions/deployment/approval-workflow.ts) invokes it with its action. Locally the same handler
 * runs under aws-local-stepfunctions (local/workflow.ts).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { ConcurrentModificationError } from '../domain/errors';
import { documentClient, type Environment, logger, registryServices, type SdkCallObserver } from './runtime';

const jobSchema = z.object({
  action: z.enum(['checkGates', 'awaitApproval', 'apply', 'expire', 'fail']),
  modelId: z.string().min(1),
  requestId: z.string().min(1),
  taskToken: z.string().optional(),
  timeoutSeconds: z.number().optional(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

export type WorkflowHandler = middy.MiddyfiedHandler<unknown, { outcome: string }>;

export function buildWorkflowHandler(env: Environment, observe?: SdkCallObserver): WorkflowHandler {
  const { governance } = registryServices(env, documentClient(env, observe));
  return middy<unknown, { outcome: string }>()
    .use(injectLambdaContext(logger))
    .handler(async (event) => {
      const job = jobSchema.parse(event);
      logger.appendKeys({ action: job.action, requestId: job.requestId });
      try {
        switch (job.action) {
          case 'checkGates':
            return await governance.checkGates(job);
          case 'awaitApproval':
            return await governance.awaitApproval({ ...job, taskToken: job.taskToken ?? '' });
          case 'apply':
            return await governance.apply(job);
          case 'expire':
            return await governance.expire(job);
          case 'fail':
            return await governance.fail(job);
        }
      } catch (err) {
        // Named so the state machine's Retry can match it.
        if (err instanceof ConcurrentModificationError) err.name = 'ConcurrentModificationError';
        throw err;
      } finally {
        logger.removeKeys(['action', 'requestId']);
      }
    });
}
