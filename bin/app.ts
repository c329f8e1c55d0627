/**
 * The CDK app: one ModelRegistryStack configured from cdk.json context (see docs/infrastructure.md).
 *   npx cdk deploy -c modelRegistry:allowedAccountIds='["111122223333"]'
 *
 * From this repository the function bundles are rebuilt first, so a deployment never ships code
 * older than the checkout (the construct itself only reads the prebuilt bundles).
 */
import { App } from 'aws-cdk-lib';
import { ModelRegistryStack, propsFromContext } from '../lib/model-registry-stack';
import { buildFunctionAssets } from '../scripts/build-functions';

async function main(): Promise<void> {
  await buildFunctionAssets();
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
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
