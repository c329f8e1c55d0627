/**
 * Lambda entry point of the `approve` group: approve, reject and cancel transition requests. The
 * only function allowed to resume the approval workflow (SendTaskSuccess / SendTaskFailure).
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { StepFunctionsApprovalTasks } from '../adapters/sfn/approval-tasks';
import { buildApiHandler } from './api-factory';
import { readEnvironment } from './runtime';

const sfn = new SFNClient({});

export const handler = buildApiHandler('approve', readEnvironment(), {
  approvalTasks: () => new StepFunctionsApprovalTasks(sfn),
});
