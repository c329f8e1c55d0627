/** ApprovalTasks on Step Functions: a decision resumes the waiting approval task. */
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ApprovalTasks } from '../../use-cases/governance';

export class StepFunctionsApprovalTasks implements ApprovalTasks {
  constructor(private readonly sfn: SFNClient) {}

  async succeed(token: string, output: Record<string, unknown>): Promise<void> {
    await this.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
  }

  async fail(token: string, error: string, cause: string): Promise<void> {
    await this.sfn
      .send(new SendTaskFailureCommand({ taskToken: token, error, cause: cause.slice(0, 32_000) }))
      .catch((err: { name?: string }) => {
        // The execution already ended (timed out or stopped): nothing is waiting any more.
        if (err?.name === 'TaskTimedOut' || err?.name === 'TaskDoesNotExist' || err?.name === 'InvalidToken')
          return;
        throw err;
      });
  }
}
