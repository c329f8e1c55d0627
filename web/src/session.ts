/**
 * Who the console speaks for, and how it signs. In local mode the viewer picks an identity (a
 * local-only switcher; nothing is verified locally); the deployed console signs with SigV4
 * (docs/console.md).
 */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { DEFAULT_IDENTITY_TRUST, principalOf } from '../../functions/domain/identity';
import { RegistryApi } from './api/client';
import { localIdentity, sigv4 } from './api/signers';
import type { CognitoAuthConfig, CognitoSession } from './auth/cognito';

export interface ConsoleConfig {
  /** The API's base URL; empty: the console's own origin (local mode). */
  readonly api_url: string;
  /** Local identities (`npm start`), or Cognito sign-in (the deployed console). */
  readonly auth: { readonly type: 'local' } | CognitoAuthConfig;
}

export interface Session {
  readonly api: RegistryApi;
  /** The caller's IAM principal ARN. */
  readonly arn: string;
  /**
   * The person the registry counts the caller as (separation of duties; docs/identity.md), under
   * the default identity trust; undefined when the ARN is not one the registry recognizes.
   */
  readonly person: string | undefined;
  /** Local mode: the identity can be switched. */
  readonly local: boolean;
  readonly switchIdentity: (arn: string) => void;
  /** Deployed: who signed in (their e-mail or user name) and where to sign out. */
  readonly signedIn?: { readonly name: string; readonly signOutUrl: string };
}

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_PEOPLE = ['alice', 'bob', 'carol'] as const;
export const localUserArn = (name: string) => `arn:aws:iam::${LOCAL_ACCOUNT}:user/${name}`;

const STORAGE_KEY = 'model-registry-console.identity';

export function storedIdentity(): string {
  try {
    return localStorage.getItem(STORAGE_KEY) || localUserArn(LOCAL_PEOPLE[0]);
  } catch {
    return localUserArn(LOCAL_PEOPLE[0]);
  }
}

export function storeIdentity(arn: string): void {
  try {
    localStorage.setItem(STORAGE_KEY, arn);
  } catch {
    // private mode: the choice lasts for this page only
  }
}

export function personOf(arn: string): string | undefined {
  try {
    return principalOf({ userArn: arn }, DEFAULT_IDENTITY_TRUST).person;
  } catch {
    return undefined;
  }
}

export function localSession(
  config: ConsoleConfig,
  arn: string,
  switchIdentity: (arn: string) => void,
): Session {
  return {
    api: new RegistryApi(config.api_url || location.origin, localIdentity(arn)),
    arn,
    person: personOf(arn),
    local: true,
    switchIdentity,
  };
}

/**
 * A signed-in Cognito user: every API call signed with SigV4 with the identity pool's
 * credentials. The caller's ARN is the identity pool role's session, shared by every user; the
 * person is the user (docs/identity.md).
 */
export function cognitoSession(
  config: ConsoleConfig & { auth: CognitoAuthConfig },
  user: CognitoSession,
): Session {
  const claims = user.claims;
  return {
    api: new RegistryApi(config.api_url, sigv4(config.auth.region, user.credentials)),
    arn: user.person,
    person: user.person,
    local: false,
    switchIdentity: () => {},
    signedIn: {
      name: String(claims.email ?? claims['cognito:username'] ?? claims.sub),
      signOutUrl: user.signOutUrl(),
    },
  };
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside the console');
  return session;
}
