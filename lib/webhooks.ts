/**
 * Webhook delivery for the ModelRegistry construct (MLflow's webhooks API, delivered from the
 * outbox): around the `webhooks` function of the function table (functions/deployment/functions.ts,
 * created, configured and granted like every other function), the `deliverWebhooks` rule of the
 * registry's bus (the pattern of functions/deployment/event-rules.ts, which the local event router
 * matches too), its retry pass every minute, a dead-letter queue for events it could not take, and
 * the KMS key that seals webhook secrets (rotation on).
 *
 * Who may use the key and the queue is the table's: the `webhookKey` and `deadLetterQueue` actions
 * of each function (the write function seals and opens secrets, the delivery function opens them
 * and dead-letters), granted by the construct with every other action.
 */
import {
  Duration,
  aws_events as events,
  aws_events_targets as eventsTargets,
  aws_kms as kms,
  type aws_lambda as lambda,
  type RemovalPolicy,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { RULES } from '../functions/deployment/event-rules';
import { toCdkEventPattern } from './configuration';
import { acknowledge } from './nag';

export interface RegistryWebhooksProps {
  /** The registry's bus (the delivery rule is added to it). */
  readonly eventBus: events.IEventBus;
  /** The webhook delivery function (the `webhooks` function of the function table). */
  readonly deliveryFunction: lambda.Function;
  readonly removalPolicy: RemovalPolicy;
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
    this.deliveryFunction = props.deliveryFunction;
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

    // A function error (the deliveries could not be recorded) is retried by Lambda, then parked.
    // The destination is bound by hand (SqsDestination would also grant GetQueueAttributes and
    // GetQueueUrl): the role has exactly the table's deadLetterQueue actions on it.
    const deadLetterArn = this.deadLetterQueue.queueArn;
    this.deliveryFunction.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: { bind: () => ({ destination: deadLetterArn }) },
    });

    this.deliveryRule = new events.Rule(this, 'DeliveryRule', {
      eventBus: props.eventBus,
      description: 'Delivers webhooks for the registry events MLflow has webhook events for',
      eventPattern: toCdkEventPattern(RULES.deliverWebhooks),
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

    // cdk-nag: findings the design requires, each on its one resource.
    const reason =
      'This queue is itself the dead-letter queue of the webhook delivery rule target and function; its messages are inspected and redriven by an operator (alarm on visible messages), not consumed.';
    acknowledge(this.deadLetterQueue, 'AwsSolutions-SQS3', reason);
    acknowledge(this.deadLetterQueue, 'Serverless-SQSRedrivePolicy', reason);
    acknowledge(
      this.retrySchedule,
      'Serverless-EventBusDLQ',
      'The schedule runs the retry pass every minute without retries on purpose: a lost run is made up by the next one, and a dead-lettered tick would carry nothing to redrive.',
    );
  }
}
