/**
 * The approval state machine, locally: the same definition the CDK stack deploys
 * (functions/wiring/approval-workflow.ts), run by aws-local-stepfunctions with every Task state
 * bound to the same workflow handler the deployed function runs. Executions are named by request
 * id, as deployed: starting one whose name exists is a no-op. The approval task waits on a promise
 * per task token; the approve function's decisions resolve or reject it, as SendTaskSuccess /
 * SendTaskFailure do on AWS. Executions live in this process: after a restart the reconciler finds
 * them gone and starts them again (or applies what was approved).
 */
import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import type { WorkflowHandler } from '../functions/handlers/workflow-factory';
import type { ApprovalWorkflow, WorkflowExecution } from '../functions/use-cases/ports';
import {
  approvalWorkflowDefinition,
  TASK_ACTIONS,
  WORKFLOW_STATES,
  workflowInput,
} from '../functions/wiring/approval-workflow';
import { LOCAL_AWS } from './dynamodb';

// aws-local-stepfunctions uses Promise.withResolvers (Node 22); Node 20 lacks it.
const P = Promise as unknown as { withResolvers?: () => unknown };
P.withResolvers ??= <T>() => {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

export const LOCAL_WORKFLOW_FUNCTION_ARN = `arn:aws:lambda:${LOCAL_AWS.region}:000000000000:function:model-registry-workflow`;

type Waiter = { resolve: (output: unknown) => void; reject: (err: Error) => void };

export class LocalApprovalWorkflow implements ApprovalWorkflow {
  private readonly machine = new StateMachine(
    approvalWorkflowDefinition(LOCAL_WORKFLOW_FUNCTION_ARN) as never,
    {
      validationOptions: { checkArn: false },
    },
  );
  private readonly waiters = new Map<string, Waiter>();
  /**
   * Approval tasks whose handler is still storing the task token. Their waiter exists already (a
   * decision may arrive as soon as the token is stored) but they are not yet waiting for one.
   */
  private storingTokens = 0;
  private readonly executions = new Set<{ abort: () => void; result: Promise<unknown> }>();
  /** Execution names (request ids) and whether each is still running. */
  private readonly names = new Map<string, 'RUNNING' | 'ENDED'>();

  constructor(private readonly workflow: WorkflowHandler) {}

  async start(execution: WorkflowExecution): Promise<'started' | 'exists'> {
    if (this.names.has(execution.requestId)) return 'exists';
    this.names.set(execution.requestId, 'RUNNING');
    void this.run(execution.requestId, workflowInput(execution)).finally(() =>
      this.names.set(execution.requestId, 'ENDED'),
    );
    return 'started';
  }

  async status(requestId: string): Promise<'RUNNING' | 'ENDED' | 'NOT_FOUND'> {
    return this.names.get(requestId) ?? 'NOT_FOUND';
  }

  /** Runs one execution to its end. */
  private run(_name: string, input: ReturnType<typeof workflowInput>): Promise<unknown> {
    const token = `local-task-${randomUUID()}`;
    const invoke = async (payload: Record<string, unknown>) =>
      this.workflow(payload, {
        awsRequestId: randomUUID(),
        functionName: 'model-registry-workflow',
      } as never);
    const lambdaTask = async (input: unknown) => ({
      Payload: await invoke((input as { Payload: Record<string, unknown> }).Payload),
    });
    const handlers: Record<string, (input: never) => Promise<unknown>> = {};
    for (const [state, action] of Object.entries(TASK_ACTIONS)) {
      handlers[state] =
        action === 'awaitApproval'
          ? async (input: { Payload: Record<string, unknown> }) => {
              const waiting = new Promise((resolve, reject) => this.waiters.set(token, { resolve, reject }));
              this.storingTokens++;
              try {
                await invoke(input.Payload);
              } catch (err) {
                this.waiters.delete(token);
                throw err;
              } finally {
                this.storingTokens--;
              }
              return waiting;
            }
          : lambdaTask;
    }
    const execution = this.machine.run(input as never, {
      context: { Task: { Token: token } } as never,
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        retryIntervalOverrides: Object.fromEntries(Object.keys(TASK_ACTIONS).map((s) => [s, 50])),
      },
      noThrowOnAbort: true,
    });
    const tracked = {
      abort: execution.abort,
      result: execution.result.catch((err) => {
        // The state machine ends in Failed when the request could not be applied; the request says
        // why. aws-local-stepfunctions reports it as an ExecutionError caused by the Fail state's error.
        if (!endedAsFailedRequest(err)) console.error('Local approval workflow failed:', err);
      }),
    };
    this.executions.add(tracked);
    void tracked.result.finally(() => {
      this.executions.delete(tracked);
      this.waiters.delete(token);
    });
    return tracked.result;
  }

  async succeed(token: string, output: Record<string, unknown>): Promise<void> {
    const waiter = this.waiters.get(token);
    this.waiters.delete(token);
    waiter?.resolve(output);
  }

  async fail(token: string, error: string, cause: string): Promise<void> {
    const waiter = this.waiters.get(token);
    this.waiters.delete(token);
    waiter?.reject(Object.assign(new Error(cause), { name: error }));
  }

  /** True when every running execution is waiting for a decision (its task token stored). */
  idle(): boolean {
    return this.storingTokens === 0 && this.executions.size <= this.waiters.size;
  }

  stop(): void {
    for (const execution of this.executions) execution.abort();
    this.executions.clear();
    this.waiters.clear();
  }
}

export const APPROVAL_STATE = WORKFLOW_STATES.approval;

/** Whether an execution ended in the Failed state (`TransitionFailed`), directly or as the cause. */
function endedAsFailedRequest(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (/TransitionFailed/.test(`${e.name} ${e.message}`)) return true;
  }
  return false;
}
