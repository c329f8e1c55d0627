/**
 * What the SDK needs from Node.js, in one module: the default AWS credential chain (with named
 * profiles), the environment, and the streaming file transfers. The browser build of the SDK
 * package replaces this module with `platform.browser.ts` (scripts/build-packages.ts), so the
 * rest of the SDK is plain fetch + SigV4 and runs in Node 20+ and in browsers alike.
 */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { ProfileNotFoundError } from './errors';
import { profileExists, sharedConfigPaths } from './profiles';

export { defaultStateDir, downloadModel, uploadModel } from './transfer';

export const PLATFORM = 'node' as const;

/** An environment variable, when there is an environment. */
export function env(name: string): string | undefined {
  return process.env[name] || undefined;
}

/**
 * The standard AWS credential chain, or a named profile's credentials; a named profile must exist
 * (ProfileNotFoundError otherwise, before anything is sent).
 */
export async function defaultCredentials(
  profile: string | undefined,
  loopback: boolean,
): Promise<AwsCredentialIdentityProvider> {
  if (profile && !(await profileExists(profile))) {
    const { configFile, credentialsFile } = sharedConfigPaths();
    throw new ProfileNotFoundError(profile, configFile, credentialsFile);
  }
  return fromNodeProviderChain({
    ...(profile ? { profile } : {}),
    ...(loopback ? { timeout: 300, maxRetries: 0 } : {}),
  });
}
