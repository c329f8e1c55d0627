/**
 * ApprovalWorkflow on Step Functions: one execution per request, named by the request id (a
 * duplicate start returns the existing execution), and the decisions that resume the waiting
 * approval task.
 */
import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { workflowInput } from '../../deployment/approval-workflow';
import type { ApprovalWorkflow, WorkflowExecution } from '../../use-cases/ports';

/** The task already ended (timed out, stopped or resumed): nothing waits on the token any more. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export class StepFunctionsApprovalWorkflow implements ApprovalWorkflow {
  constructor(
    private readonly sfn: SFNClient,
    /** Absent in functions that only decide (they never start or describe executions). */
    private readonly stateMachineArn?: string,
  ) {}

  private requireArn(): string {
    if (!this.stateMachineArn) throw new Error('This function is not configured with the state machine ARN.');
    return this.stateMachineArn;
  }

  /** `arn:…:stateMachine:NAME` → `arn:…:execution:NAME:<request id>`. */
  private executionArn(requestId: string): string {
    return `${this.requireArn().replace(':stateMachine:', ':execution:')}:${requestId}`;
  }

  async start(execution: WorkflowExecution): Promise<'started' | 'exists'> {
    try {
      await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.requireArn(),
          name: execution.requestId,
          input: JSON.stringify(workflowInput(execution)),
        }),
      );
      return 'started';
    } catch (err) {
      // The same name with another input (a later start computes another timeout): it exists.
      if ((err as { name?: string })?.name === 'ExecutionAlreadyExists') return 'exists';
      throw err;
    }
  }

  async status(requestId: string): Promise<'RUNNING' | 'ENDED' | 'NOT_FOUND'> {
    try {
      const out = await this.sfn.send(
        new DescribeExecutionCommand({ executionArn: this.executionArn(requestId) }),
      );
      return out.status === 'RUNNING' || out.status === 'PENDING_REDRIVE' ? 'RUNNING' : 'ENDED';
    } catch (err) {
      if ((err as { name?: string })?.name === 'ExecutionDoesNotExist') return 'NOT_FOUND';
      throw err;
    }
  }

  async succeed(token: string, output: Record<string, unknown>): Promise<void> {
    await this.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
  }

  async fail(token: string, error: string, cause: string): Promise<void> {
    await this.sfn
      .send(new SendTaskFailureCommand({ taskToken: token, error, cause: cause.slice(0, 32_000) }))
      .catch((err: { name?: string }) => {
        if (GONE.has(err?.name ?? '')) return;
        throw err;
      });
  }
}
