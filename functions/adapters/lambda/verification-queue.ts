/**
 * VerificationQueue on Lambda: an asynchronous invocation of the verify function. Lambda queues
 * the event and retries a failed run twice; finalizing again re-queues a version that is still
 * being verified, so nothing depends on a single delivery.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { VerificationJob, VerificationQueue } from '../../use-cases/ports';

export class LambdaVerificationQueue implements VerificationQueue {
  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionName: string,
  ) {}

  async enqueue(job: VerificationJob): Promise<void> {
    await this.lambda.send(
      new InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(job)),
      }),
    );
  }
}
