/** Lambda entry point of the reconcile function (starts approval workflows; the reconciler's schedule). */
import { SFNClient } from '@aws-sdk/client-sfn';
import { StepFunctionsApprovalWorkflow } from '../adapters/sfn/approval-workflow';
import { buildReconcileHandler } from './reconcile-factory';
import { parseEnvironment, readEnvironment } from './runtime';

const env = readEnvironment();
const sfn = new SFNClient({});

export const handler = buildReconcileHandler(
  env,
  new StepFunctionsApprovalWorkflow(sfn, parseEnvironment(env).STATE_MACHINE_ARN),
);
