/**
 * The CDK app: one ModelRegistryStack configured from cdk.json context (see docs/infrastructure.md).
 *   npx cdk deploy -c modelRegistry:allowedAccountIds='["111122223333"]'
 */
import { App } from 'aws-cdk-lib';
import { ModelRegistryStack, propsFromContext } from '../lib/model-registry-stack';

const app = new App();
const { stackName, props } = propsFromContext(app.node);

new ModelRegistryStack(app, stackName, {
  ...props,
  description:
    'Serverless Model Registry: API Gateway (IAM auth), Lambda, DynamoDB, S3, EventBridge, Step Functions',
  // Environment-agnostic unless the CLI knows the target account and region.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

app.synth();
