/**
 * The browser's stand-in for `platform.ts` (swapped in by the SDK package's browser build): no
 * environment, no credential chain (pass `credentials`, e.g. from Cognito, to the client), and no
 * file-system transfers (`uploadModel`/`downloadModel` read and write local files: Node only; the
 * low-level operations, `getUploadUrls`, `finalizeModelVersion`, `getModelVersionDownload`, work).
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { RegistryClient } from './client';
import type { DownloadModelOptions, UploadModelOptions } from './transfer';
import type { DownloadResponse, ModelVersion } from './types';

export const PLATFORM = 'browser' as const;

export function env(_name: string): string | undefined {
  return undefined;
}

export async function defaultCredentials(
  profile: string | undefined,
  _loopback: boolean,
): Promise<AwsCredentialIdentityProvider> {
  const what = profile
    ? `the AWS profile '${profile}' cannot be read in a browser`
    : 'no credentials were given';
  return async () => {
    throw new Error(
      `${what}: pass \`credentials\` to RegistryClient (an AwsCredentialIdentityProvider, e.g. from Cognito).`,
    );
  };
}

/** Where interrupted uploads are remembered: Node only (a browser has no such directory). */
export function defaultStateDir(): string {
  throw new Error('defaultStateDir: uploads resume from a local directory, in Node.js only.');
}

const nodeOnly = (what: string) =>
  Promise.reject(
    new Error(
      `${what} reads and writes local files: it needs Node.js. In a browser, use the low-level operations.`,
    ),
  );

export function uploadModel(
  _client: RegistryClient,
  _name: string,
  _path: string,
  _options: UploadModelOptions,
): Promise<ModelVersion> {
  return nodeOnly('uploadModel');
}

export function downloadModel(
  _client: RegistryClient,
  _uri: string,
  _dir: string,
  _options: DownloadModelOptions,
): Promise<DownloadResponse> {
  return nodeOnly('downloadModel');
}
