/**
 * Lambda entry point of the `approve` group: approve, reject and cancel requests. The only API
 * function allowed to resume the approval workflow (SendTaskSuccess / SendTaskFailure).
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { StepFunctionsApprovalWorkflow } from '../adapters/sfn/approval-workflow';
import { buildApiHandler } from './api-factory';
import { readEnvironment } from './runtime';

const sfn = new SFNClient({});

export const handler = buildApiHandler('approve', readEnvironment(), {
  approvalWorkflow: () => new StepFunctionsApprovalWorkflow(sfn),
});
