/**
 * The approval state machine, one definition for both worlds: the CDK stack deploys it with the
 * workflow function's ARN, and the local runtime runs the same JSON under aws-local-stepfunctions
 * with each Task bound to the same handler code (local/workflow.ts).
 *
 * One execution per request, named by the request id (so a duplicate start is a no-op), started
 * by the reconcile function for each TransitionRequested event. Input: `workflowInput`. Flow:
 * quality gates → (passed) a human approval task that waits for its task token (stored with the
 * request; the approve route sends SendTaskSuccess, reject/cancel SendTaskFailure) → apply the
 * change after checking it again → done. The approval task times out when the request expires: a
 * request still pending expires, one approved whose resume was lost is applied. Failures are
 * recorded on the request.
 */
import type { WorkflowExecution } from '../use-cases/ports';

/** Actions of the workflow function, one per Task state. */
export type WorkflowAction = 'checkGates' | 'awaitApproval' | 'apply' | 'expire' | 'fail';

export const WORKFLOW_STATES = {
  prepare: 'Prepare',
  gates: 'CheckQualityGates',
  gatesPassed: 'GatesPassed',
  approval: 'WaitForApproval',
  apply: 'ApplyTransition',
  applied: 'Applied',
  expire: 'ExpireRequest',
  expired: 'Expired',
  fail: 'RecordFailure',
  closed: 'Closed',
  done: 'Done',
  failed: 'Failed',
} as const;

/** Task state → the workflow action it runs. */
export const TASK_ACTIONS: Readonly<Record<string, WorkflowAction>> = {
  [WORKFLOW_STATES.gates]: 'checkGates',
  [WORKFLOW_STATES.approval]: 'awaitApproval',
  [WORKFLOW_STATES.apply]: 'apply',
  [WORKFLOW_STATES.expire]: 'expire',
  [WORKFLOW_STATES.fail]: 'fail',
};

/** Errors a decision sends to the waiting task (SendTaskFailure), and that the workflow throws. */
export const WORKFLOW_ERRORS = {
  rejected: 'TransitionRejected',
  cancelled: 'TransitionCancelled',
  closed: 'RequestClosed',
} as const;

const TRANSIENT = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'ConcurrentModificationError',
];

const request = {
  'modelId.$': '$.modelId',
  'requestId.$': '$.requestId',
};

/** The input of an execution (its name is the request id). */
export function workflowInput(execution: WorkflowExecution) {
  return {
    requestId: execution.requestId,
    modelId: execution.modelId,
    name: execution.name,
    approvalTimeoutSeconds: execution.approvalTimeoutSeconds,
  };
}

/** The execution of a request is named by its id (Step Functions: 1-80 characters). */
export const executionName = (requestId: string) => requestId;

export function approvalWorkflowDefinition(workflowFunctionArn: string) {
  const invoke = (action: WorkflowAction, extra: Record<string, unknown> = {}) => ({
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: workflowFunctionArn, Payload: { action, ...request, ...extra } },
    ResultSelector: { 'outcome.$': '$.Payload.outcome' },
    TimeoutSeconds: 60,
    Retry: [{ ErrorEquals: TRANSIENT, IntervalSeconds: 1, MaxAttempts: 5, BackoffRate: 2 }],
  });
  return {
    Comment: 'Governed promotion: quality gates, human approval (task token), apply.',
    StartAt: WORKFLOW_STATES.prepare,
    States: {
      [WORKFLOW_STATES.prepare]: {
        Type: 'Pass',
        Parameters: {
          'modelId.$': '$.modelId',
          'requestId.$': '$.requestId',
          // At `$.Payload.timeoutSeconds` on purpose: Step Functions reads TimeoutSecondsPath from
          // the state's input, aws-local-stepfunctions from its Parameters; the Payload of both has it.
          Payload: { 'timeoutSeconds.$': '$.approvalTimeoutSeconds' },
        },
        Next: WORKFLOW_STATES.gates,
      },
      [WORKFLOW_STATES.gates]: {
        ...invoke('checkGates'),
        ResultPath: '$.gates',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: WORKFLOW_STATES.fail }],
        Next: WORKFLOW_STATES.gatesPassed,
      },
      [WORKFLOW_STATES.gatesPassed]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.gates.outcome', StringEquals: 'passed', Next: WORKFLOW_STATES.approval }],
        Default: WORKFLOW_STATES.closed,
      },
      [WORKFLOW_STATES.approval]: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: {
          FunctionName: workflowFunctionArn,
          Payload: {
            action: 'awaitApproval',
            ...request,
            'taskToken.$': '$$.Task.Token',
            'timeoutSeconds.$': '$.Payload.timeoutSeconds',
          },
        },
        TimeoutSecondsPath: '$.Payload.timeoutSeconds',
        ResultPath: '$.approval',
        Retry: [{ ErrorEquals: TRANSIENT, IntervalSeconds: 1, MaxAttempts: 5, BackoffRate: 2 }],
        Catch: [
          { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: WORKFLOW_STATES.expire },
          {
            ErrorEquals: [WORKFLOW_ERRORS.rejected, WORKFLOW_ERRORS.cancelled, WORKFLOW_ERRORS.closed],
            ResultPath: '$.error',
            Next: WORKFLOW_STATES.closed,
          },
          { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: WORKFLOW_STATES.fail },
        ],
        Next: WORKFLOW_STATES.apply,
      },
      [WORKFLOW_STATES.apply]: {
        ...invoke('apply'),
        ResultPath: '$.applied',
        Catch: [
          { ErrorEquals: [WORKFLOW_ERRORS.closed], ResultPath: '$.error', Next: WORKFLOW_STATES.closed },
          { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: WORKFLOW_STATES.fail },
        ],
        Next: WORKFLOW_STATES.applied,
      },
      // apply checks the request again first: one that can no longer apply is recorded FAILED.
      [WORKFLOW_STATES.applied]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.applied.outcome', StringEquals: 'applied', Next: WORKFLOW_STATES.done }],
        Default: WORKFLOW_STATES.failed,
      },
      [WORKFLOW_STATES.expire]: {
        ...invoke('expire'),
        ResultPath: '$.expired',
        Next: WORKFLOW_STATES.expired,
      },
      // A request approved just before its task timed out (its resume lost) is applied, not dropped.
      [WORKFLOW_STATES.expired]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.expired.outcome', StringEquals: 'approved', Next: WORKFLOW_STATES.apply }],
        Default: WORKFLOW_STATES.closed,
      },
      [WORKFLOW_STATES.fail]: {
        ...invoke('fail', { 'error.$': '$.error' }),
        ResultPath: '$.failure',
        Next: WORKFLOW_STATES.failed,
      },
      [WORKFLOW_STATES.closed]: { Type: 'Succeed' },
      [WORKFLOW_STATES.done]: { Type: 'Succeed' },
      [WORKFLOW_STATES.failed]: {
        Type: 'Fail',
        Error: 'TransitionFailed',
        Cause: 'The transition request failed; its status and reason say why.',
      },
    },
  };
}
