/**
 * The registry table: one definition used by the CDK construct (lib/) and by the local runtime
 * (local/), so the table that tests run against is the table that is deployed.
 *
 * Plain data only: this module must not import the AWS SDK or aws-cdk-lib.
 * docs/architecture.md lists every access pattern and the key or index that serves it.
 */

export const TABLE_PARTITION_KEY = 'pk';
export const TABLE_SORT_KEY = 'sk';

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/** Global secondary indexes. Every index projects all attributes (items are small). */
export const INDEXES = {
  /** Registered models by name; model versions by (name, version). */
  byName: { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** Registered models and model versions by creation time. */
  byCreated: { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  /** Registered models and model versions by last update time. */
  byUpdated: { indexName: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
  /** Model versions of one model in one stage, by version number. */
  byStage: { indexName: 'gsi4', partitionKey: 'gsi4pk', sortKey: 'gsi4sk' },
  /** Model versions by run id, by last update time. */
  byRun: { indexName: 'gsi5', partitionKey: 'gsi5pk', sortKey: 'gsi5sk' },
  /** Open transition requests (sparse), by model, version and id. */
  byOpenRequest: { indexName: 'gsi6', partitionKey: 'gsi6pk', sortKey: 'gsi6sk' },
} as const satisfies Record<string, IndexDefinition>;

export type IndexName = keyof typeof INDEXES;

/** Every key attribute is a string. */
export const KEY_ATTRIBUTES: readonly string[] = [
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  ...Object.values(INDEXES).flatMap((i) => [i.partitionKey, i.sortKey]),
];

/** Attribute holding the epoch-second expiry of items DynamoDB TTL may delete (pending uploads). */
export const TTL_ATTRIBUTE = 'expiresAt';

/** The environment variable through which every function learns the table name. */
export const TABLE_NAME_ENV = 'TABLE_NAME';

/**
 * The table as a CreateTable input (the shape both the SDK and CloudFormation understand,
 * modulo casing), used verbatim by the local runtime and mapped by the CDK construct.
 */
export function createTableInput(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: KEY_ATTRIBUTES.map((name) => ({
      AttributeName: name,
      AttributeType: 'S' as const,
    })),
    KeySchema: [
      { AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' as const },
      { AttributeName: TABLE_SORT_KEY, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: Object.values(INDEXES).map((i) => ({
      IndexName: i.indexName,
      KeySchema: [
        { AttributeName: i.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: i.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' as const },
  };
}
