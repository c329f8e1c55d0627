/**
 * The reconcile function. Its two triggers bring governed requests (and interrupted creates) to an end:
 * - each TransitionRequested event (the start-approval rule): starts the request's approval
 *   workflow, one execution per request, named by its id (a duplicate delivery is a no-op);
 * - a schedule (deployed: every minute; local mode: a timer): applies or fails any request left
 *   approved, expires, cancels or restarts the others (GovernanceService.reconcile), and finishes
 *   the writes that stopped midway (RegistryService.settleInterruptedWrites).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import type { ApprovalWorkflow } from '../use-cases/ports';
import { documentClient, type Environment, logger, registryServices, type SdkCallObserver } from './runtime';

const requested = z.object({
  'detail-type': z.literal('TransitionRequested'),
  detail: z.object({
    model: z.object({ id: z.string().min(1) }),
    data: z.object({ request_id: z.string().min(1) }),
  }),
});

export type ReconcileHandler = middy.MiddyfiedHandler<unknown, Record<string, unknown>>;

export function buildReconcileHandler(
  env: Environment,
  workflow: ApprovalWorkflow,
  observe?: SdkCallObserver,
): ReconcileHandler {
  const { governance, registry } = registryServices(env, documentClient(env, observe), workflow);
  return middy<unknown, Record<string, unknown>>()
    .use(injectLambdaContext(logger))
    .handler(async (event) => {
      const start = requested.safeParse(event);
      if (start.success) {
        const ref = { modelId: start.data.detail.model.id, requestId: start.data.detail.data.request_id };
        const outcome = await governance.startWorkflow(ref);
        logger.info('Approval workflow', { ...ref, outcome });
        return { outcome };
      }
      // Anything else is the schedule (EventBridge's Scheduled Event, or the local timer). Local
      // mode asks for every request at start, when no execution of before can still be running.
      const all = (event as { detail?: { reconcile_all?: unknown } })?.detail?.reconcile_all === true;
      const report = await governance.reconcile({ all });
      if (report.applied + report.failed + report.expired + report.cancelled + report.started > 0) {
        logger.info('Reconciled transition requests', { ...report });
      }
      const settled = await registry.settleInterruptedWrites({ all });
      if (settled.skipped + settled.archives > 0) logger.warn('Finished writes that stopped midway', settled);
      return { ...report, ...settled };
    });
}
