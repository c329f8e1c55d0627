/**
 * One DynamoDB Local and one local S3 for the whole test run; every test file creates its own
 * table (and its models get their own keys in the bucket). Stopped by PID at the end (and on any
 * exit) so no Java process outlives the run.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb';
import { startLocalS3 } from '../../local/s3';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    s3Endpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const [dynamo, s3] = await Promise.all([startDynamoDbLocal(), startLocalS3()]);
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('s3Endpoint', s3.endpoint);
  return async () => {
    await Promise.all([dynamo.stop(), s3.stop()]);
  };
}
