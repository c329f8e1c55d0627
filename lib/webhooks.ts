/**
 * Webhook delivery for the ModelRegistry construct (MLflow's webhooks API, delivered from the
 * outbox): the delivery function behind the `deliverWebhooks` rule of the registry's bus (the
 * pattern of functions/wiring/event-rules.ts, which the local event router matches too), its
 * retry pass every minute, a dead-letter queue for events it could not take, and the KMS key that
 * seals webhook secrets (rotation on), usable only by the functions that seal or open them.
 *
 * The delivery function's role holds exactly `WEBHOOK_DELIVERY_ACTIONS`: its table items and the
 * one sparse index it reads, Decrypt on the webhook key, SendMessage to its dead-letter queue.
 */
import {
  CfnResource,
  Duration,
  type aws_dynamodb as dynamodb,
  aws_events as events,
  aws_events_targets as eventsTargets,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  type RemovalPolicy,
  Stack,
  aws_sqs as sqs,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { RULES } from '../functions/wiring/event-rules';
import { INDEXES } from '../functions/wiring/table';

/** What the delivery function's role may do, and on what (nothing else but its logs and X-Ray). */
export const WEBHOOK_DELIVERY_ACTIONS = {
  /** Webhooks and deliveries: read them, record a delivery, claim and settle attempts. */
  table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  /** The sparse index of webhooks and due deliveries (gsi6), and no other. */
  index: ['dynamodb:Query'],
  webhookKey: ['kms:Decrypt'],
  deadLetterQueue: ['sqs:SendMessage'],
} as const;

/** What the write function may do with the webhook key: seal new secrets, open them for tests. */
export const WEBHOOK_KEY_WRITE_ACTIONS = ['kms:Encrypt', 'kms:Decrypt'] as const;

export interface RegistryWebhooksProps {
  readonly table: dynamodb.ITable;
  readonly eventBus: events.IEventBus;
  /** The API's write function: it seals secrets (create, update) and opens them (test, redeliver). */
  readonly writeFunction: lambda.Function;
  /** The delivery function's code (bundled as the construct bundles its other functions). */
  readonly code: (entry: string) => lambda.Code;
  /** The environment every registry function has (table name, Powertools settings). */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** The customer managed key of the table, when there is one (its items are decrypted with it). */
  readonly tableKey?: kms.IKey;
}

export class RegistryWebhooks extends Construct {
  /** Seals webhook secrets (KMS Encrypt/Decrypt with the webhook id as encryption context). */
  public readonly key: kms.Key;
  /** Records and attempts deliveries; its schedule runs the retry pass. */
  public readonly deliveryFunction: lambda.Function;
  /** The registry events MLflow has webhook events for → the delivery function. */
  public readonly deliveryRule: events.Rule;
  /** Every minute: attempt the deliveries whose next attempt is due. */
  public readonly retrySchedule: events.Rule;
  /** Events the delivery function could not take (after EventBridge's and Lambda's retries). */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: RegistryWebhooksProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'SecretKey', {
      description: 'Model registry: seals webhook secrets',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const logGroup = new logs.LogGroup(this, 'DeliveryFunctionLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const role = new iam.Role(this, 'DeliveryFunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description:
        'Model registry webhook delivery function: only WEBHOOK_DELIVERY_ACTIONS (lib/webhooks.ts)',
    });
    const allow = (actions: readonly string[], resources: string[]) =>
      role.addToPolicy(new iam.PolicyStatement({ actions: [...actions], resources }));
    allow(['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroup.logGroupArn]);
    allow(WEBHOOK_DELIVERY_ACTIONS.table, [props.table.tableArn]);
    allow(WEBHOOK_DELIVERY_ACTIONS.index, [
      `${props.table.tableArn}/index/${INDEXES.byOpenRequest.indexName}`,
    ]);
    allow(WEBHOOK_DELIVERY_ACTIONS.webhookKey, [this.key.keyArn]);
    allow(WEBHOOK_DELIVERY_ACTIONS.deadLetterQueue, [this.deadLetterQueue.queueArn]);
    if (props.tableKey) allow(['kms:Decrypt', 'kms:GenerateDataKey'], [props.tableKey.keyArn]);

    this.deliveryFunction = new lambda.Function(this, 'DeliveryFunction', {
      code: props.code('functions/handlers/webhooks.ts'),
      handler: 'index.handler',
      description: 'Model registry: delivers webhooks (MLflow webhooks API) and retries failed deliveries',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(60),
      tracing: lambda.Tracing.ACTIVE,
      role,
      logGroup,
      environment: { ...props.environment, WEBHOOK_KMS_KEY_ID: this.key.keyArn },
    });
    // A function error (the deliveries could not be recorded) is retried by Lambda, then parked.
    // The destination is bound by hand (SqsDestination would also grant GetQueueAttributes and
    // GetQueueUrl): the role has exactly WEBHOOK_DELIVERY_ACTIONS.deadLetterQueue on it.
    const deadLetterArn = this.deadLetterQueue.queueArn;
    this.deliveryFunction.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: { bind: () => ({ destination: deadLetterArn }) },
    });

    this.deliveryRule = new events.Rule(this, 'DeliveryRule', {
      eventBus: props.eventBus,
      description: 'Delivers webhooks for the registry events MLflow has webhook events for',
      eventPattern: {
        source: [...RULES.deliverWebhooks.source],
        detailType: [...RULES.deliverWebhooks['detail-type']],
      },
    });
    this.deliveryRule.addTarget(
      new eventsTargets.LambdaFunction(this.deliveryFunction, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 185,
        maxEventAge: Duration.days(1),
      }),
    );
    this.retrySchedule = new events.Rule(this, 'RetrySchedule', {
      description: 'Attempts the webhook deliveries whose next attempt is due',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new eventsTargets.LambdaFunction(this.deliveryFunction, { retryAttempts: 0 })],
    });

    // The write function seals and opens secrets; nothing else may use the key.
    props.writeFunction.addEnvironment('WEBHOOK_KMS_KEY_ID', this.key.keyArn);
    props.writeFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: [...WEBHOOK_KEY_WRITE_ACTIONS], resources: [this.key.keyArn] }),
    );

    // cdk-nag: findings the design requires, each on its one resource.
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) support no resource-level permissions; it is the only wildcard resource of the role.',
    );
    acknowledge(
      this.deliveryFunction,
      'AwsSolutions-L1',
      'The registry targets the nodejs22.x Lambda runtime on purpose (the code is built and tested for Node 22); runtime upgrades are a deliberate change.',
    );
    acknowledge(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the webhook delivery rule target and function; its messages are inspected and redriven by an operator, not consumed.',
    );
  }
}

function acknowledge(scope: Construct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** The CloudFormation logical id of a construct's default resource. */
export function logicalIdOf(construct: Construct): string {
  const cfn = construct.node.defaultChild;
  if (!(cfn instanceof CfnResource)) throw new Error(`${construct.node.path} has no CfnResource`);
  return Stack.of(construct).resolve(cfn.logicalId) as string;
}
