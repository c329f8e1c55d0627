/**
 * TypeScript SDK of the Serverless Model Registry.
 *
 * ```ts
 * import { RegistryClient } from '@serverless-model-registry/sdk';
 * const client = new RegistryClient({ endpoint: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod' });
 * const version = await client.uploadModel('churn', './model', { metrics: { auc: 0.91 } });
 * await client.downloadModel('models:/churn@champion', './out');
 * ```
 */
export {
  RegistryClient,
  type RegistryClientOptions,
  ROUTES,
  type SdkOperationId,
  type WaitForTransitionRequestOptions,
} from './client';
export {
  ArtifactVerificationError,
  ProfileNotFoundError,
  RegistryApiError,
  RegistryClientError,
  RegistryNetworkError,
  TransferError,
  TransitionRequestWaitTimeoutError,
} from './errors';
export { defaultStateDir } from './platform';
export { escapeUri, isLoopback } from './signing';
export type { DownloadModelOptions, ProgressEvent, TransferEvent, UploadModelOptions } from './transfer';
export type * from './types';
