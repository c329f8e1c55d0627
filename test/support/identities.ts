/**
 * The `requestContext.identity` API Gateway sends for each kind of SigV4 caller (REST API, AWS_IAM
 * authorization), with every field it fills for that kind. Used by the identity model's unit test
 * and, through the local front's `X-Local-Identity` header, by the integration tests.
 */
import type { GatewayIdentity } from '../../functions/domain/identity';
import { apiClient } from './engines';

/** The account of local mode (and the default of these shapes). */
export const LOCAL_ACCOUNT = '000000000000';
export const REGION = 'eu-west-1';

const noCognito = {
  cognitoIdentityId: null,
  cognitoIdentityPoolId: null,
  cognitoAuthenticationType: null,
  cognitoAuthenticationProvider: null,
} as const;

/** A stable fake unique id (AIDA…, AROA…) for a name. */
const uniqueId = (prefix: string, name: string) =>
  `${prefix}${name
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '')
    .padEnd(17, 'X')
    .slice(0, 17)}`;

/** An IAM user: `caller` and `user` are the user's unique id, the access key is long-term (AKIA…). */
export function iamUser(name: string, { path = '', account = LOCAL_ACCOUNT, partition = 'aws' } = {}) {
  const id = uniqueId('AIDA', name);
  return {
    userArn: `arn:${partition}:iam::${account}:user/${path}${name}`,
    caller: id,
    user: id,
    accessKey: `AKIA${id.slice(4, 20)}`,
    accountId: account,
    ...noCognito,
  } satisfies GatewayIdentity;
}

/** The account's root user: `caller` and `user` are the account id. */
export function rootUser({ account = LOCAL_ACCOUNT, partition = 'aws' } = {}) {
  return {
    userArn: `arn:${partition}:iam::${account}:root`,
    caller: account,
    user: account,
    accessKey: 'AKIAROOTROOTROOTROOT',
    accountId: account,
    ...noCognito,
  } satisfies GatewayIdentity;
}

/**
 * A session of an assumed role: `caller` and `user` are `<role unique id>:<session name>`, the key
 * temporary (ASIA…). The caller picks the session name (`aws sts assume-role --role-session-name`).
 */
export function roleSession(
  role: string,
  session: string,
  { account = LOCAL_ACCOUNT, partition = 'aws' } = {},
) {
  const id = uniqueId('AROA', role);
  return {
    userArn: `arn:${partition}:sts::${account}:assumed-role/${role}/${session}`,
    caller: `${id}:${session}`,
    user: `${id}:${session}`,
    accessKey: `ASIA${uniqueId('', session).slice(0, 16)}`,
    accountId: account,
    ...noCognito,
  } satisfies GatewayIdentity;
}

/** IAM Identity Center: a role per permission set (`AWSReservedSSO_<set>_<hash>`), the session is the user name. */
export const identityCenterRole = (permissionSet: string) =>
  `AWSReservedSSO_${permissionSet}_${Buffer.from(permissionSet).toString('hex').padEnd(16, '0').slice(0, 16)}`;

export function identityCenterUser(userName: string, permissionSet = 'DataScientist', options = {}) {
  return roleSession(identityCenterRole(permissionSet), userName, options);
}

export const USER_POOL = `${REGION}_AbCdEf123`;
export const IDENTITY_POOL = `${REGION}:0a1b2c3d-1111-2222-3333-444455556666`;

/** A Cognito user-pool user signed in through the identity pool (its authenticated role). */
export function cognitoUser(sub: string, { pool = USER_POOL, account = LOCAL_ACCOUNT } = {}) {
  return {
    ...roleSession('Cognito_RegistryAuth_Role', 'CognitoIdentityCredentials', { account }),
    cognitoIdentityId: `${REGION}:${sub.slice(0, 8)}-identity`,
    cognitoIdentityPoolId: IDENTITY_POOL,
    cognitoAuthenticationType: 'authenticated',
    cognitoAuthenticationProvider: `cognito-idp.${REGION}.amazonaws.com/${pool},cognito-idp.${REGION}.amazonaws.com/${pool}:CognitoSignIn:${sub}`,
  } satisfies GatewayIdentity;
}

/** An unauthenticated (guest) identity of the identity pool: anyone can mint one. */
export function cognitoGuest(identityId: string, { account = LOCAL_ACCOUNT } = {}) {
  return {
    ...roleSession('Cognito_RegistryUnauth_Role', 'CognitoIdentityCredentials', { account }),
    cognitoIdentityId: identityId,
    cognitoIdentityPoolId: IDENTITY_POOL,
    cognitoAuthenticationType: 'unauthenticated',
    cognitoAuthenticationProvider: null,
  } satisfies GatewayIdentity;
}

/** A federated user (sts:GetFederationToken): `caller` and `user` are `<account>:<name>`. */
export function federatedUser(name: string, { account = LOCAL_ACCOUNT } = {}) {
  return {
    userArn: `arn:aws:sts::${account}:federated-user/${name}`,
    caller: `${account}:${name}`,
    user: `${account}:${name}`,
    accessKey: `ASIA${uniqueId('', name).slice(0, 16)}`,
    accountId: account,
    ...noCognito,
  } satisfies GatewayIdentity;
}

export type Client = ReturnType<typeof apiClient>;

/**
 * A client of a local registry that presents `identity` as API Gateway would report it, through
 * the local front's `X-Local-Identity` header (local mode only; deployed, the header is ignored).
 */
export function clientAs(baseUrl: string, identity: GatewayIdentity): Client {
  const call = apiClient(baseUrl);
  const header = JSON.stringify(identity);
  return (method, path, body, headers = {}) =>
    call(method, path, body, { 'x-local-identity': header, ...headers });
}
