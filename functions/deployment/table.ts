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
  /**
   * What the index carries besides the keys. Indexes a query only walks in order (to find the
   * items of a page, read afterwards with one BatchGetItem) carry nothing else, so a write costs
   * each of them one small index entry; an index whose entries are themselves the answer carries
   * them whole.
   */
  readonly projection:
    | { readonly type: 'KEYS_ONLY' }
    | { readonly type: 'ALL' }
    | {
        readonly type: 'INCLUDE';
        readonly attributes: readonly string[];
      };
}

/** Global secondary indexes. */
export const INDEXES = {
  /** Registered models by name (`name LIKE 'prefix%'`, order by name). */
  byName: {
    indexName: 'gsi1',
    partitionKey: 'gsi1pk',
    sortKey: 'gsi1sk',
    projection: { type: 'INCLUDE', attributes: ['modelId'] },
  },
  /** Registered models and model versions by creation time. */
  byCreated: {
    indexName: 'gsi2',
    partitionKey: 'gsi2pk',
    sortKey: 'gsi2sk',
    projection: { type: 'INCLUDE', attributes: ['modelId'] },
  },
  /**
   * Registered models (their anchors, which carry the model's last-updated time) and model
   * versions by last update time.
   */
  byUpdated: {
    indexName: 'gsi3',
    partitionKey: 'gsi3pk',
    sortKey: 'gsi3sk',
    projection: { type: 'INCLUDE', attributes: ['name', 'modelId'] },
  },
  /** Model versions of one model in one active stage (Staging, Production), by number, whole. */
  byStage: { indexName: 'gsi4', partitionKey: 'gsi4pk', sortKey: 'gsi4sk', projection: { type: 'ALL' } },
  /** Model versions by run id, by last update time. */
  byRun: { indexName: 'gsi5', partitionKey: 'gsi5pk', sortKey: 'gsi5sk', projection: { type: 'KEYS_ONLY' } },
  /** Open transition requests (sparse), by model, version and id, whole (they are small). */
  byOpenRequest: {
    indexName: 'gsi6',
    partitionKey: 'gsi6pk',
    sortKey: 'gsi6sk',
    projection: { type: 'ALL' },
  },
  /** Model versions of one model by last update time (a model's default search order). */
  byModelUpdated: {
    indexName: 'gsi7',
    partitionKey: 'gsi7pk',
    sortKey: 'gsi7sk',
    projection: { type: 'KEYS_ONLY' },
  },
  /** Model versions by source (`source_path = 'x'`, `source_path LIKE 'prefix%'`). */
  bySource: {
    indexName: 'gsi8',
    partitionKey: 'gsi8pk',
    sortKey: 'gsi8sk',
    projection: { type: 'KEYS_ONLY' },
  },
  /**
   * Version tags (one small item per tag) by key and value (`tags.k = 'v'`), by the version's last
   * update time.
   */
  byTag: { indexName: 'gsi9', partitionKey: 'gsi9pk', sortKey: 'gsi9sk', projection: { type: 'KEYS_ONLY' } },
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
    GlobalSecondaryIndexes: Object.values(INDEXES).map((i: IndexDefinition) => ({
      IndexName: i.indexName,
      KeySchema: [
        { AttributeName: i.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: i.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection:
        i.projection.type === 'INCLUDE'
          ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...i.projection.attributes] }
          : { ProjectionType: i.projection.type },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' as const },
  };
}
