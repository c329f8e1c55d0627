/**
 * The identity model: who a caller is, as a *person*, for separation of duties, distinct
 * approvers, cancel and the audit log (docs/identity.md).
 *
 * API Gateway authenticates a SigV4 request and reports the principal in `requestContext.identity`.
 * Its ARN is not a person: an assumed role's ARN ends in a session name the caller chooses, so two
 * sessions of one role would be two "people" and a requester could approve their own request from
 * a second session. A person is therefore derived from the ARN by what AWS guarantees about each
 * kind of caller; where a field is chosen by the caller, sessions merge into one person (the safe
 * direction: merging can only demand more approvers, never fewer).
 *
 * Plain data and pure functions: the handlers read identity only from `requestContext`, which a
 * deployed caller cannot set.
 */
import { MalformedRequestError } from './errors';

/** The fields of API Gateway's `requestContext.identity` this model reads. */
export interface GatewayIdentity {
  readonly userArn?: string | null;
  readonly caller?: string | null;
  readonly user?: string | null;
  readonly accessKey?: string | null;
  readonly accountId?: string | null;
  readonly cognitoIdentityId?: string | null;
  readonly cognitoIdentityPoolId?: string | null;
  readonly cognitoAuthenticationType?: string | null;
  readonly cognitoAuthenticationProvider?: string | null;
}

export type PrincipalKind =
  | 'iam-user'
  | 'root'
  | 'identity-center-user'
  | 'trusted-role-session'
  | 'role'
  | 'cognito-user'
  | 'cognito-guest'
  | 'federated-user'
  | 'registry';

/** A caller: the person (compared and counted) and the raw ARN (recorded as is). */
export interface Principal {
  /** Stable across the caller's sessions; what separation of duties compares. */
  readonly person: string;
  /** The principal ARN API Gateway reported, session name included. */
  readonly arn: string;
  readonly kind: PrincipalKind;
}

/** Who did something, as events and requests record it. */
export type Actor = Pick<Principal, 'person' | 'arn'>;

/** What a deployment trusts to name a person (construct prop `identity`, env IDENTITY_TRUST). */
export interface IdentityTrust {
  /**
   * Whether the session names of IAM Identity Center roles (`AWSReservedSSO_*`) name the user.
   * Identity Center sets them to the user name; only it can assume those roles.
   */
  readonly identityCenter: boolean;
  /**
   * Roles (by name) whose session names are set by a trusted identity provider (e.g. a SAML IdP
   * that sets RoleSessionName to the user's e-mail) and so name a person.
   */
  readonly trustedSessionRoles: readonly string[];
  /**
   * Whether federated-user names (`sts:GetFederationToken`) name a person. Any IAM user allowed to
   * call GetFederationToken picks the name, so by default all of an account's federated users are
   * one person.
   */
  readonly federatedUserNames: boolean;
}

export const DEFAULT_IDENTITY_TRUST: IdentityTrust = {
  identityCenter: true,
  trustedSessionRoles: [],
  federatedUserNames: false,
};

/** The registry itself (workflow steps, the reconciler). */
export const REGISTRY_PRINCIPAL: Principal = {
  person: 'model-registry',
  arn: 'model-registry',
  kind: 'registry',
};

const IDENTITY_CENTER_ROLE = /^AWSReservedSSO_/;
const ARN = /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):(iam|sts)::(\d{12}):(.+)$/;

/** A session name as a person: case folded, as Identity Center and most IdPs treat user names. */
const sessionPerson = (session: string) => `user:${session.toLowerCase()}`;

/**
 * The person behind a request. Throws MalformedRequestError when there is no authenticated
 * identity (every deployed route uses AWS_IAM authorization, so API Gateway always sets one).
 */
export function principalOf(identity: GatewayIdentity | null | undefined, trust: IdentityTrust): Principal {
  const arn = identity?.userArn ?? '';
  const m = ARN.exec(arn);
  if (!m) {
    throw new MalformedRequestError('The request carries no authenticated identity.');
  }
  const [, partition, service, account, resource] = m as unknown as [string, string, string, string, string];

  // Cognito identity pools: the credentials are an assumed role shared by every user of the pool.
  const cognitoId = identity?.cognitoIdentityId;
  if (cognitoId) {
    const subject = cognitoSubject(identity?.cognitoAuthenticationProvider);
    if (identity?.cognitoAuthenticationType === 'authenticated' && subject) {
      return { person: `cognito:${subject}`, arn, kind: 'cognito-user' };
    }
    if (identity?.cognitoAuthenticationType === 'authenticated') {
      return { person: `cognito-identity:${cognitoId}`, arn, kind: 'cognito-user' };
    }
    // Anyone can mint unauthenticated identities: all guests of a role are one person.
    return { person: roleOf(partition, account, resource), arn, kind: 'cognito-guest' };
  }

  if (service === 'iam' && resource === 'root') return { person: arn, arn, kind: 'root' };
  if (service === 'iam' && resource.startsWith('user/')) return { person: arn, arn, kind: 'iam-user' };
  // Not what API Gateway reports for a role (that is the assumed-role ARN), but unambiguous.
  if (service === 'iam' && resource.startsWith('role/')) {
    return {
      person: `arn:${partition}:iam::${account}:role/${resource.split('/').pop()}`,
      arn,
      kind: 'role',
    };
  }

  if (service === 'sts' && resource.startsWith('assumed-role/')) {
    const [, role, ...rest] = resource.split('/');
    const session = rest.join('/');
    if (role && session) {
      if (trust.identityCenter && IDENTITY_CENTER_ROLE.test(role)) {
        return { person: sessionPerson(session), arn, kind: 'identity-center-user' };
      }
      if (trust.trustedSessionRoles.includes(role)) {
        return { person: sessionPerson(session), arn, kind: 'trusted-role-session' };
      }
      return { person: roleOf(partition, account, resource), arn, kind: 'role' };
    }
  }

  if (service === 'sts' && resource.startsWith('federated-user/')) {
    return trust.federatedUserNames
      ? { person: arn, arn, kind: 'federated-user' }
      : { person: `arn:${partition}:sts::${account}:federated-user/*`, arn, kind: 'federated-user' };
  }

  throw new MalformedRequestError('The request carries an identity this registry does not recognize.');
}

/** `assumed-role/ROLE/SESSION` → the role's ARN (sessions of one role are one person). */
function roleOf(partition: string, account: string, resource: string): string {
  const role = resource.split('/')[1] ?? resource;
  return `arn:${partition}:iam::${account}:role/${role}`;
}

/**
 * The user behind Cognito credentials, from `cognitoAuthenticationProvider`: for a user pool it
 * reads `cognito-idp.<region>.amazonaws.com/<pool>,cognito-idp.<region>.amazonaws.com/<pool>:CognitoSignIn:<sub>`;
 * the last entry names the provider and the subject.
 */
function cognitoSubject(provider: string | null | undefined): string | undefined {
  if (!provider) return undefined;
  const last = provider.split(',').pop()?.trim() ?? '';
  const signIn = last.indexOf(':CognitoSignIn:');
  if (signIn > 0) return `${last.slice(0, signIn)}:${last.slice(signIn + ':CognitoSignIn:'.length)}`;
  return undefined;
}

/** Parses IDENTITY_TRUST (JSON) over the defaults. */
export function parseIdentityTrust(json: string | undefined): IdentityTrust {
  if (!json) return DEFAULT_IDENTITY_TRUST;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error('IDENTITY_TRUST is not JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('IDENTITY_TRUST must be a JSON object');
  }
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!['identity_center', 'trusted_session_roles', 'federated_user_names'].includes(key)) {
      throw new Error(`IDENTITY_TRUST has an unknown field '${key}'`);
    }
  }
  const roles = v.trusted_session_roles ?? [];
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string' && /^[\w+=,.@-]{1,64}$/.test(r))) {
    throw new Error('IDENTITY_TRUST.trusted_session_roles must be a list of IAM role names');
  }
  const flag = (key: string, fallback: boolean) => {
    const x = v[key];
    if (x === undefined) return fallback;
    if (typeof x !== 'boolean') throw new Error(`IDENTITY_TRUST.${key} must be true or false`);
    return x;
  };
  return {
    identityCenter: flag('identity_center', DEFAULT_IDENTITY_TRUST.identityCenter),
    trustedSessionRoles: roles as string[],
    federatedUserNames: flag('federated_user_names', DEFAULT_IDENTITY_TRUST.federatedUserNames),
  };
}

/** A short, readable name of a principal (tables, messages): the person without its ARN prefix. */
export function displayName(p: Pick<Principal, 'person'>): string {
  const person = p.person;
  const m = /^arn:[^:]+:(?:iam|sts)::\d{12}:(.+)$/.exec(person);
  if (m) return m[1]!;
  return person;
}
