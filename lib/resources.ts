/**
 * The registry's stateful resources, created by the construct or brought by the user (the table,
 * the artifact bucket, the bus): how to create the table (also offered as
 * `ModelRegistry.createTable`), what a brought table must be, and the rules the artifact bucket
 * needs, applied to whichever bucket the construct can change.
 */
import {
  Duration,
  aws_dynamodb as dynamodb,
  aws_iam as iam,
  type aws_kms as kms,
  RemovalPolicy,
  Stack,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ARTIFACT_CORS, ARTIFACT_KEY_PREFIX, DELETED_TAG } from '../functions/deployment/bucket';
import { createTableInput, TTL_ATTRIBUTE } from '../functions/deployment/table';

/** Options of `ModelRegistry.createTable`. */
export interface RegistryTableOptions {
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** A customer managed key. @default - the AWS managed key */
  readonly encryptionKey?: kms.IKey;
  /** @default true */
  readonly deletionProtection?: boolean;
  /** @default true */
  readonly pointInTimeRecovery?: boolean;
}

const tableInput = () => createTableInput('unused');

const attribute = (name: string): dynamodb.Attribute => {
  const def = tableInput().AttributeDefinitions.find((a) => a.AttributeName === name);
  if (def?.AttributeType !== 'S') throw new Error(`Key attribute ${name} is not a string`);
  return { name, type: dynamodb.AttributeType.STRING };
};

const keyOf = (schema: readonly { AttributeName: string; KeyType: string }[], type: 'HASH' | 'RANGE') =>
  attribute(schema.find((k) => k.KeyType === type)!.AttributeName);

/** The table of functions/deployment/table.ts (keys, indexes, stream, TTL), with the given options. */
export function createRegistryTable(
  scope: Construct,
  id: string,
  options: RegistryTableOptions = {},
): dynamodb.Table {
  const input = tableInput();
  const key = options.encryptionKey;
  const table = new dynamodb.Table(scope, id, {
    partitionKey: keyOf(input.KeySchema, 'HASH'),
    sortKey: keyOf(input.KeySchema, 'RANGE'),
    billingMode:
      input.BillingMode === 'PAY_PER_REQUEST'
        ? dynamodb.BillingMode.PAY_PER_REQUEST
        : dynamodb.BillingMode.PROVISIONED,
    stream: dynamodb.StreamViewType[input.StreamSpecification.StreamViewType],
    timeToLiveAttribute: TTL_ATTRIBUTE,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: options.pointInTimeRecovery ?? true },
    deletionProtection: options.deletionProtection ?? true,
    ...(key
      ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: key }
      : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
    removalPolicy: options.removalPolicy ?? RemovalPolicy.RETAIN,
  });
  for (const gsi of input.GlobalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: gsi.IndexName,
      partitionKey: keyOf(gsi.KeySchema, 'HASH'),
      sortKey: keyOf(gsi.KeySchema, 'RANGE'),
      projectionType: dynamodb.ProjectionType[gsi.Projection.ProjectionType],
      ...('NonKeyAttributes' in gsi.Projection && gsi.Projection.NonKeyAttributes
        ? { nonKeyAttributes: [...gsi.Projection.NonKeyAttributes] }
        : {}),
    });
  }
  return table;
}

/**
 * A brought table must be the registry's: a table of this app is compared with the definition
 * (keys, indexes, stream with new images, TTL attribute); an imported one cannot be inspected and
 * must at least name its stream (the outbox relay reads it).
 */
export function checkRegistryTable(table: dynamodb.ITable): void {
  if (!table.tableStreamArn) {
    throw new Error(
      'table: the registry reads the table stream (the outbox): import the table with its tableStreamArn (Table.fromTableAttributes)',
    );
  }
  const cfn = table.node.defaultChild;
  if (!(cfn instanceof dynamodb.CfnTable)) return;
  const stack = Stack.of(table);
  const expected = tableInput();
  const actual = {
    keySchema: stack.resolve(cfn.keySchema),
    indexes: (stack.resolve(cfn.globalSecondaryIndexes) ?? []).map(
      (i: dynamodb.CfnTable.GlobalSecondaryIndexProperty) => ({
        indexName: i.indexName,
        keySchema: i.keySchema,
        projection: i.projection,
      }),
    ),
    stream: stack.resolve(cfn.streamSpecification)?.streamViewType,
    ttl: stack.resolve(cfn.timeToLiveSpecification),
  };
  const wanted = {
    keySchema: expected.KeySchema.map((k) => ({ attributeName: k.AttributeName, keyType: k.KeyType })),
    indexes: expected.GlobalSecondaryIndexes.map((i) => ({
      indexName: i.IndexName,
      keySchema: i.KeySchema.map((k) => ({ attributeName: k.AttributeName, keyType: k.KeyType })),
      projection: {
        projectionType: i.Projection.ProjectionType,
        ...('NonKeyAttributes' in i.Projection && i.Projection.NonKeyAttributes
          ? { nonKeyAttributes: [...i.Projection.NonKeyAttributes] }
          : {}),
      },
    })),
    stream: expected.StreamSpecification.StreamViewType,
    ttl: { attributeName: TTL_ATTRIBUTE, enabled: true },
  };
  for (const part of ['keySchema', 'indexes', 'stream', 'ttl'] as const) {
    if (JSON.stringify(actual[part]) !== JSON.stringify(wanted[part])) {
      throw new Error(
        `table: ${part} differs from the registry table's (${JSON.stringify(wanted[part])}); create it with ModelRegistry.createTable`,
      );
    }
  }
}

/** Whether the construct can change the bucket (one of this app, not an imported reference). */
export function isOwnedBucket(bucket: s3.IBucket): bucket is s3.Bucket {
  return bucket instanceof s3.Bucket;
}

export interface ArtifactBucketRules {
  readonly noncurrentVersionExpiration: Duration;
  readonly deletedArtifactRetention: Duration;
  readonly consoleOrigins?: readonly string[];
}

/** The lifecycle rules, CORS rule and deny statement every artifact bucket needs (docs/infrastructure.md). */
export function applyArtifactBucketRules(bucket: s3.Bucket, rules: ArtifactBucketRules): void {
  bucket.addLifecycleRule({
    id: 'abort-incomplete-multipart-uploads',
    abortIncompleteMultipartUploadAfter: Duration.days(1),
  });
  bucket.addLifecycleRule({
    id: 'expire-noncurrent-versions',
    noncurrentVersionExpiration: rules.noncurrentVersionExpiration,
  });
  // The files of deleted models and versions (tagged by the cleanup function): expired after the
  // retention window (a delete marker); the data itself goes a day later.
  bucket.addLifecycleRule({
    id: 'expire-deleted-artifacts',
    prefix: ARTIFACT_KEY_PREFIX,
    tagFilters: { [DELETED_TAG.key]: DELETED_TAG.value },
    expiration: rules.deletedArtifactRetention,
    noncurrentVersionExpiration: Duration.days(1),
  });
  if (rules.consoleOrigins?.length) {
    bucket.addCorsRule({
      allowedOrigins: [...rules.consoleOrigins],
      allowedMethods: ARTIFACT_CORS.allowedMethods.map((m) => s3.HttpMethods[m]),
      allowedHeaders: [...ARTIFACT_CORS.allowedHeaders],
      exposedHeaders: [...ARTIFACT_CORS.exposedHeaders],
      maxAge: ARTIFACT_CORS.maxAgeSeconds,
    });
  }
  // Deleted means unreadable at once, for everyone: presigned URLs signed before the delete, the
  // registry's own roles and grantMlflowArtifactRead grantees alike.
  bucket.addToResourcePolicy(deletedArtifactsDenyStatement(bucket));
}

export function deletedArtifactsDenyStatement(bucket: s3.IBucket): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DenyReadingDeletedArtifacts',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['s3:GetObject', 's3:GetObjectVersion'],
    resources: [bucket.arnForObjects(`${ARTIFACT_KEY_PREFIX}*`)],
    conditions: { StringEquals: { [`s3:ExistingObjectTag/${DELETED_TAG.key}`]: DELETED_TAG.value } },
  });
}
