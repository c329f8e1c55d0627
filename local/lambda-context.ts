/** The Lambda context object the local runtime passes to each handler, as Lambda would. */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { LOCAL_AWS } from './dynamodb';

export const LOCAL_ACCOUNT = '000000000000';

export function lambdaContext(
  fn: string,
  options: { requestId?: string; memoryMb?: number; timeoutMs?: number } = {},
): Context {
  const functionName = `model-registry-${fn}`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  return {
    awsRequestId: options.requestId ?? randomUUID(),
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_AWS.region}:${LOCAL_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: String(options.memoryMb ?? 512),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
