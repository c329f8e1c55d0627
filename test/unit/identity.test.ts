/**
 * The identity model (docs/identity.md): which *person* each kind of caller is, from the
 * `requestContext.identity` API Gateway sends for a SigV4-signed request (REST API, AWS_IAM
 * authorization). Every shape below fills the fields API Gateway fills for that kind of caller.
 * Separation of duties, distinct approvers and cancel compare these persons, so sessions a caller
 * names itself must merge into one person, and people AWS tells apart must stay apart.
 */
import { describe, expect, it } from 'vitest';
import { MalformedRequestError } from '../../functions/domain/errors';
import {
  DEFAULT_IDENTITY_TRUST,
  type GatewayIdentity,
  type IdentityTrust,
  type PrincipalKind,
  parseIdentityTrust,
  principalOf,
} from '../../functions/domain/identity';
import * as shapes from '../support/identities';
import { identityCenterRole, REGION, USER_POOL } from '../support/identities';

const ACCOUNT = '123456789012';
const at = { account: ACCOUNT };

const iamUser = (path: string, name: string) => shapes.iamUser(name, { path, ...at });
const root = (partition = 'aws') => shapes.rootUser({ partition, ...at });
const roleSession = (role: string, session: string, options: { partition?: string } = {}) =>
  shapes.roleSession(role, session, { ...at, ...options });
const cognitoUser = (sub: string, pool = USER_POOL) => shapes.cognitoUser(sub, { pool, ...at });
const cognitoGuest = (identityId: string) => shapes.cognitoGuest(identityId, at);
const federatedUser = (name: string) => shapes.federatedUser(name, at);
const POOL = USER_POOL;

const SSO_ADMIN = identityCenterRole('AdministratorAccess');
const SSO_SCIENTIST = identityCenterRole('DataScientist');
const ROLE = (name: string, partition = 'aws') => `arn:${partition}:iam::${ACCOUNT}:role/${name}`;

// ------------------------------------------------------------------ the table

interface Case {
  readonly caller: string;
  readonly identity: GatewayIdentity;
  readonly trust?: Partial<IdentityTrust>;
  readonly person: string;
  readonly kind: PrincipalKind;
}

const CASES: readonly Case[] = [
  {
    caller: 'an IAM user with a path is the user (path included)',
    identity: iamUser('engineering/ml/', 'alice'),
    person: `arn:aws:iam::${ACCOUNT}:user/engineering/ml/alice`,
    kind: 'iam-user',
  },
  {
    caller: 'the root user is the account root',
    identity: root(),
    person: `arn:aws:iam::${ACCOUNT}:root`,
    kind: 'root',
  },
  {
    caller: 'a session of an assumed role is the role (the caller names the session)',
    identity: roleSession('DataScientist', 'alice'),
    person: ROLE('DataScientist'),
    kind: 'role',
  },
  {
    caller: 'another session of the same role, named after someone else, is the same role',
    identity: roleSession('DataScientist', 'bob-approver'),
    person: ROLE('DataScientist'),
    kind: 'role',
  },
  {
    caller: 'an IAM Identity Center session is the user its session names',
    identity: roleSession(SSO_SCIENTIST, 'alice@example.com'),
    person: 'user:alice@example.com',
    kind: 'identity-center-user',
  },
  {
    caller: 'the same Identity Center user under another permission set is the same person',
    identity: roleSession(SSO_ADMIN, 'alice@example.com'),
    person: 'user:alice@example.com',
    kind: 'identity-center-user',
  },
  {
    caller: 'an Identity Center user name is case folded',
    identity: roleSession(SSO_ADMIN, 'Alice@Example.COM'),
    person: 'user:alice@example.com',
    kind: 'identity-center-user',
  },
  {
    caller:
      'Identity Center sessions are one role per permission set when the deployment does not trust them',
    identity: roleSession(SSO_SCIENTIST, 'alice@example.com'),
    trust: { identityCenter: false },
    person: ROLE(SSO_SCIENTIST),
    kind: 'role',
  },
  {
    caller: 'a session of a role the deployment trusts to name people is the person it names',
    identity: roleSession('SamlEngineers', 'Carol@Example.com'),
    trust: { trustedSessionRoles: ['SamlEngineers'] },
    person: 'user:carol@example.com',
    kind: 'trusted-role-session',
  },
  {
    caller: 'an untrusted role whose session mimics a trusted user is not that user',
    identity: roleSession('Sandbox', 'carol@example.com'),
    trust: { trustedSessionRoles: ['SamlEngineers'] },
    person: ROLE('Sandbox'),
    kind: 'role',
  },
  {
    caller: 'an untrusted role whose session mimics an Identity Center user is not that user',
    identity: roleSession('Sandbox', 'alice@example.com'),
    person: ROLE('Sandbox'),
    kind: 'role',
  },
  {
    caller: 'a role whose name only contains the trusted name is not trusted',
    identity: roleSession('SamlEngineersCopy', 'carol@example.com'),
    trust: { trustedSessionRoles: ['SamlEngineers'] },
    person: ROLE('SamlEngineersCopy'),
    kind: 'role',
  },
  {
    caller: 'a Cognito user of a user pool is that user (by pool and subject)',
    identity: cognitoUser('11111111-aaaa-4bbb-8ccc-000000000001'),
    person: `cognito:cognito-idp.${REGION}.amazonaws.com/${POOL}:11111111-aaaa-4bbb-8ccc-000000000001`,
    kind: 'cognito-user',
  },
  {
    caller: 'another Cognito user of the same pool (same role, same session name) is another person',
    identity: cognitoUser('22222222-aaaa-4bbb-8ccc-000000000002'),
    person: `cognito:cognito-idp.${REGION}.amazonaws.com/${POOL}:22222222-aaaa-4bbb-8ccc-000000000002`,
    kind: 'cognito-user',
  },
  {
    caller: 'a Cognito guest is the guest role (every guest is one person)',
    identity: cognitoGuest(`${REGION}:guest-0001`),
    person: ROLE('Cognito_RegistryUnauth_Role'),
    kind: 'cognito-guest',
  },
  {
    caller: 'another Cognito guest is the same person',
    identity: cognitoGuest(`${REGION}:guest-0002`),
    person: ROLE('Cognito_RegistryUnauth_Role'),
    kind: 'cognito-guest',
  },
  {
    caller:
      'a federated user is every federated user of the account by default (any IAM user picks the name)',
    identity: federatedUser('bob'),
    person: `arn:aws:sts::${ACCOUNT}:federated-user/*`,
    kind: 'federated-user',
  },
  {
    caller: 'a federated user is the name when the deployment trusts federated user names',
    identity: federatedUser('bob'),
    trust: { federatedUserNames: true },
    person: `arn:aws:sts::${ACCOUNT}:federated-user/bob`,
    kind: 'federated-user',
  },
  {
    caller: 'an IAM user of the China partition keeps its partition',
    identity: shapes.iamUser('alice', { partition: 'aws-cn', ...at }),
    person: `arn:aws-cn:iam::${ACCOUNT}:user/alice`,
    kind: 'iam-user',
  },
  {
    caller: 'a role session of the China partition is the role in that partition',
    identity: roleSession('DataScientist', 'alice', { partition: 'aws-cn' }),
    person: ROLE('DataScientist', 'aws-cn'),
    kind: 'role',
  },
  {
    caller: 'the root user of GovCloud is that root',
    identity: root('aws-us-gov'),
    person: `arn:aws-us-gov:iam::${ACCOUNT}:root`,
    kind: 'root',
  },
];

const trustOf = (t?: Partial<IdentityTrust>): IdentityTrust => ({ ...DEFAULT_IDENTITY_TRUST, ...t });

describe('the person behind each kind of caller', () => {
  it.each(CASES)('$caller', ({ identity, trust, person, kind }) => {
    const principal = principalOf(identity, trustOf(trust));
    expect(principal).toEqual({ person, kind, arn: identity.userArn });
  });

  it('records the ARN as API Gateway reported it, session name included', () => {
    const session = roleSession('DataScientist', 'alice');
    expect(principalOf(session, DEFAULT_IDENTITY_TRUST).arn).toBe(
      `arn:aws:sts::${ACCOUNT}:assumed-role/DataScientist/alice`,
    );
  });

  it('never lets two sessions of one role, or two Cognito guests, count as two people', () => {
    const people = (identities: GatewayIdentity[], trust = DEFAULT_IDENTITY_TRUST) =>
      new Set(identities.map((i) => principalOf(i, trust).person)).size;
    expect(
      people([roleSession('Approvers', 'a'), roleSession('Approvers', 'b'), roleSession('Approvers', 'A')]),
    ).toBe(1);
    expect(people([cognitoGuest('x'), cognitoGuest('y')])).toBe(1);
    expect(people([federatedUser('a'), federatedUser('b')])).toBe(1);
    expect(people([roleSession(SSO_ADMIN, 'dana'), roleSession(SSO_SCIENTIST, 'DANA')])).toBe(1);
  });

  it('keeps people AWS tells apart apart: Cognito users, Identity Center users, IAM users, roles', () => {
    const persons = [
      cognitoUser('sub-1'),
      cognitoUser('sub-2'),
      cognitoUser('sub-1', `${REGION}_OtherPool9`),
      roleSession(SSO_ADMIN, 'alice'),
      roleSession(SSO_ADMIN, 'bob'),
      iamUser('', 'alice'),
      iamUser('', 'bob'),
      roleSession('DataScientist', 'x'),
      roleSession('MlEngineer', 'x'),
      root(),
    ].map((i) => principalOf(i, DEFAULT_IDENTITY_TRUST).person);
    expect(new Set(persons).size).toBe(persons.length);
  });

  it('treats an authenticated Cognito identity without a user-pool provider as its identity id', () => {
    const social: GatewayIdentity = {
      ...cognitoUser('ignored'),
      cognitoIdentityId: `${REGION}:identity-social`,
      cognitoAuthenticationProvider: 'graph.facebook.com',
    };
    expect(principalOf(social, DEFAULT_IDENTITY_TRUST)).toMatchObject({
      person: `cognito-identity:${REGION}:identity-social`,
      kind: 'cognito-user',
    });
  });

  it.each<[string, GatewayIdentity | null | undefined]>([
    ['no identity', undefined],
    ['a null identity', null],
    ['an empty identity', {}],
    ['a null userArn (an unauthenticated request)', { ...iamUser('', 'x'), userArn: null }],
    ['an empty userArn', { userArn: '' }],
    ['a userArn that is not an ARN', { userArn: 'alice' }],
    ['an account id that is not 12 digits', { userArn: 'arn:aws:iam::12345:user/alice' }],
    ['an unknown partition', { userArn: `arn:aws-moon:iam::${ACCOUNT}:user/alice` }],
    ['a service other than IAM or STS', { userArn: `arn:aws:s3:::${ACCOUNT}` }],
    ['an assumed role without a session', { userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/DataScientist` }],
    ['an IAM group', { userArn: `arn:aws:iam::${ACCOUNT}:group/admins` }],
    ['garbage after a valid prefix', { userArn: `arn:aws:sts::${ACCOUNT}:something/else` }],
  ])('refuses %s as MalformedRequestError', (_what, identity) => {
    expect(() => principalOf(identity, DEFAULT_IDENTITY_TRUST)).toThrow(MalformedRequestError);
  });
});

describe('the identity trust a deployment configures (IDENTITY_TRUST)', () => {
  it('defaults to trusting Identity Center only', () => {
    expect(parseIdentityTrust(undefined)).toEqual(DEFAULT_IDENTITY_TRUST);
    expect(parseIdentityTrust('')).toEqual(DEFAULT_IDENTITY_TRUST);
    expect(DEFAULT_IDENTITY_TRUST).toEqual({
      identityCenter: true,
      trustedSessionRoles: [],
      federatedUserNames: false,
    });
  });

  it('reads every field over the defaults', () => {
    expect(
      parseIdentityTrust(
        JSON.stringify({
          identity_center: false,
          trusted_session_roles: ['SamlEngineers', 'okta+role=x,y.z@w-1'],
          federated_user_names: true,
        }),
      ),
    ).toEqual({
      identityCenter: false,
      trustedSessionRoles: ['SamlEngineers', 'okta+role=x,y.z@w-1'],
      federatedUserNames: true,
    });
    expect(parseIdentityTrust('{"trusted_session_roles": ["A"]}')).toEqual({
      ...DEFAULT_IDENTITY_TRUST,
      trustedSessionRoles: ['A'],
    });
  });

  it.each([
    ['not JSON', '{identity_center: true', /not JSON/],
    ['an array', '[]', /JSON object/],
    ['null', 'null', /JSON object/],
    ['a string', '"SamlEngineers"', /JSON object/],
    ['an unknown field', '{"trusted_roles": ["A"]}', /unknown field 'trusted_roles'/],
    ['__proto__', '{"__proto__": {"identity_center": false}}', /unknown field '__proto__'/],
    ['roles that are not a list', '{"trusted_session_roles": "A"}', /trusted_session_roles/],
    ['a role name with a slash', '{"trusted_session_roles": ["path/Role"]}', /trusted_session_roles/],
    ['a role name too long', `{"trusted_session_roles": ["${'r'.repeat(65)}"]}`, /trusted_session_roles/],
    ['an empty role name', '{"trusted_session_roles": [""]}', /trusted_session_roles/],
    ['a flag that is a string', '{"identity_center": "yes"}', /identity_center must be true or false/],
    ['a flag that is null', '{"federated_user_names": null}', /federated_user_names must be true or false/],
  ])('refuses %s, naming the problem', (_what, json, message) => {
    expect(() => parseIdentityTrust(json)).toThrow(message);
  });
});
