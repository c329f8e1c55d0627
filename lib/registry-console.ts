/**
 * The deployed web console (docs/console.md, Deployed): the built single-page app (web/dist) in a
 * private S3 bucket behind CloudFront (origin access control, HTTPS only, security headers), a
 * Cognito user pool with its hosted UI (optionally federated to the organisation's OIDC or SAML
 * identity provider), and a Cognito identity pool whose authenticated role may invoke exactly the
 * API routes of the console's audiences. The browser signs every API call with SigV4 using the
 * identity pool's temporary credentials, so every console action is an IAM-authorized call and
 * the registry records the person (docs/identity.md).
 *
 * The construct deploys a prebuilt directory: synth never builds the console.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import {
  type aws_certificatemanager as acm,
  aws_apigateway as apigw,
  aws_cloudfront as cloudfront,
  aws_cognito as cognito,
  Duration,
  aws_iam as iam,
  type aws_lambda as lambda,
  aws_cloudfront_origins as origins,
  RemovalPolicy,
  type SecretValue,
  Stack,
  aws_s3 as s3,
  aws_s3_deployment as s3deploy,
  Validations,
} from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';
import type { Audience } from '../functions/api/contract';
import { ALL_OPERATIONS } from '../functions/api/routes';
import { audienceGrant } from './audience-grants';

/** Where `npm run build:console` writes the console. */
export const DEFAULT_CONSOLE_DIRECTORY = path.join(__dirname, '..', 'web', 'dist');

/** The file the console reads at start (web/src/main.tsx): where the API is and how to sign in. */
export const CONSOLE_CONFIG_FILE = 'console-config.json';

/** The environment variable the API functions read the console's origins from (CORS). */
export const CORS_ALLOWED_ORIGINS_ENV = 'CORS_ALLOWED_ORIGINS';

/** Headers the browser sends with a signed API call (the CORS preflight allows them). */
export const CONSOLE_REQUEST_HEADERS = [
  'Authorization',
  'Content-Type',
  'X-Amz-Date',
  'X-Amz-Security-Token',
  'X-Amz-Content-Sha256',
  // Retries of a mutation carry the same key (the SDK sends one; functions/handlers/http).
  'Idempotency-Key',
];

/** The audiences the console's signed-in users get by default. */
export const DEFAULT_CONSOLE_AUDIENCES: readonly Audience[] = ['reader', 'approver'];

/** Federation to the organisation's OpenID Connect identity provider. */
export interface ConsoleOidcProvider {
  /** The provider's name in the user pool (shown nowhere if it is the only provider). */
  readonly name: string;
  readonly clientId: string;
  /** The client secret, e.g. `SecretValue.secretsManager('console-idp')` (stays in CloudFormation, never in the bundle). */
  readonly clientSecret: SecretValue;
  /** The issuer URL (its `/.well-known/openid-configuration` is read by Cognito). */
  readonly issuerUrl: string;
  /** @default ['openid', 'email', 'profile'] */
  readonly scopes?: string[];
}

/** Federation to the organisation's SAML 2.0 identity provider. */
export interface ConsoleSamlProvider {
  readonly name: string;
  /** The IdP's metadata URL (one of `metadataUrl` and `metadataContent`). */
  readonly metadataUrl?: string;
  /** The IdP's metadata document. */
  readonly metadataContent?: string;
  /**
   * The SAML attribute holding the user's e-mail address.
   * @default 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'
   */
  readonly emailAttribute?: string;
}

/** The deployed console (`ModelRegistryProps.console`). */
export interface RegistryConsoleProps {
  /**
   * The prefix of the Cognito hosted UI domain (`<prefix>.auth.<region>.amazoncognito.com`):
   * lowercase letters, digits and hyphens, unique in the region, without `aws`, `amazon` or `cognito`.
   */
  readonly domainPrefix: string;
  /**
   * The API audiences (docs/iam.md) every signed-in user gets: the identity pool's authenticated
   * role may invoke their routes and no other.
   * @default ['reader', 'approver']
   */
  readonly audiences?: Audience[];
  /**
   * Multi-factor authentication of user pool users (TOTP): `required` or `optional`. Federated
   * users authenticate (and do MFA) at their identity provider.
   * @default 'required'
   */
  readonly mfa?: 'required' | 'optional';
  /** Federation to an OIDC identity provider. @default - none */
  readonly oidc?: ConsoleOidcProvider;
  /** Federation to a SAML identity provider. @default - none */
  readonly saml?: ConsoleSamlProvider;
  /**
   * Whether users of the user pool itself (created by an administrator) may sign in too. With a
   * federated provider the hosted UI then offers both.
   * @default - true without federation, false with it
   */
  readonly userPoolSignIn?: boolean;
  /** The built console. @default - web/dist of this repository (`npm run build:console`) */
  readonly directory?: string;
  /** Custom domain names of the distribution (the first is the console's origin). @default - the CloudFront domain */
  readonly domainNames?: string[];
  /** The ACM certificate (us-east-1) for `domainNames`. */
  readonly certificate?: acm.ICertificate;
  /** A WAF web ACL (ARN, CLOUDFRONT scope) in front of the console. @default - none */
  readonly webAclArn?: string;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** How the deployed console signs in (console-config.json's `auth`). */
export interface ConsoleAuthConfig {
  /** Always `cognito`. */
  readonly type: string;
  readonly region: string;
  readonly user_pool_id: string;
  readonly client_id: string;
  readonly identity_pool_id: string;
  readonly domain: string;
  readonly redirect_uri: string;
  readonly identity_provider?: string;
}

/** console-config.json of the deployed console (the console's `ConsoleConfig`, web/src/session.ts). */
export interface ConsoleRuntimeConfig {
  readonly api_url: string;
  readonly auth: ConsoleAuthConfig;
}

/** What the console needs of the registry (a `ModelRegistry` has all of it). */
export interface IConsoleRegistry {
  readonly api: apigw.RestApi;
  /** The API Gateway method of each operation, by operationId. */
  readonly methods: { readonly [operationId: string]: apigw.Method };
  /** The functions serving the API (they answer the console's origin with CORS headers). */
  readonly apiFunctions: lambda.Function[];
  grant(audience: Audience, grantee: iam.IGrantable): iam.Grant;
}

export interface RegistryConsoleConstructProps extends RegistryConsoleProps {
  readonly registry: IConsoleRegistry;
}

/** Files at the root of the built console (anything else that is not an asset is a page: index.html). */
function rootFiles(directory: string): string[] {
  return readdirSync(directory).filter((f) => statSync(path.join(directory, f)).isFile());
}

/** The viewer-request function: the console's own paths (not files) get index.html. */
export function spaRewriteFunctionCode(files: readonly string[]): string {
  const known = JSON.stringify(
    Object.fromEntries([...files, CONSOLE_CONFIG_FILE].map((f) => [`/${f}`, true])),
  );
  return [
    `var FILES = ${known};`,
    'function handler(event) {',
    '  var request = event.request;',
    "  if (!FILES[request.uri] && request.uri.indexOf('/assets/') !== 0) request.uri = '/index.html';",
    '  return request;',
    '}',
  ].join('\n');
}

export class RegistryConsole extends Construct {
  /** The console's origin, e.g. `https://d111111abcdef8.cloudfront.net`. */
  public readonly url: string;
  public readonly bucket: s3.Bucket;
  public readonly logsBucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  public readonly userPool: cognito.UserPool;
  public readonly userPoolClient: cognito.UserPoolClient;
  public readonly userPoolDomain: cognito.UserPoolDomain;
  public readonly identityPool: cognito.CfnIdentityPool;
  /** The role of signed-in users: `execute-api:Invoke` on the routes of `audiences` only. */
  public readonly authenticatedRole: iam.Role;
  /** The audiences the authenticated role is granted. */
  public readonly audiences: Audience[];
  /**
   * What the deployment writes to console-config.json (no secret: ids and URLs), in the console's
   * own snake_case.
   * @internal
   */
  public readonly _config: ConsoleRuntimeConfig;

  constructor(scope: Construct, id: string, props: RegistryConsoleConstructProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { registry } = props;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const destroy = removalPolicy === RemovalPolicy.DESTROY;
    const directory = path.resolve(props.directory ?? DEFAULT_CONSOLE_DIRECTORY);
    if (!existsSync(path.join(directory, 'index.html'))) {
      throw new Error(
        `console: the built console is missing (${path.join(directory, 'index.html')} does not exist). Run \`npm run build:console\` before synth, or set console.directory to a built console.`,
      );
    }
    validate(props);
    this.audiences = [...new Set(props.audiences ?? DEFAULT_CONSOLE_AUDIENCES)];
    if (this.audiences.length === 0) throw new Error('console.audiences: give at least one audience');

    // ---------------------------------------------------------------- hosting
    const bucketDefaults = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      removalPolicy,
      autoDeleteObjects: destroy,
    };
    // CloudFront standard logs are delivered with an ACL grant: this bucket keeps ACLs enabled
    // (owner preferred), still private (all public access blocked).
    this.logsBucket = new s3.Bucket(this, 'LogsBucket', {
      ...bucketDefaults,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(365) }],
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...bucketDefaults,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logsBucket,
      serverAccessLogsPrefix: 'console-bucket/',
    });

    const files = rootFiles(directory);
    const rewrite = new cloudfront.Function(this, 'SpaRewrite', {
      comment: 'Model registry console: its pages (paths that are not files) are index.html',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(spaRewriteFunctionCode(files)),
    });

    const apiOrigin = `https://${registry.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    const cognitoOrigin = `https://${props.domainPrefix}.auth.${stack.region}.amazoncognito.com`;
    const identityOrigin = `https://cognito-identity.${stack.region}.amazonaws.com`;
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'Model registry console: CSP, HSTS, nosniff, no framing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: consoleContentSecurityPolicy([apiOrigin, cognitoOrigin, identityOrigin]),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Model registry console',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
        functionAssociations: [{ function: rewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: this.logsBucket,
      logFilePrefix: 'cloudfront/',
      ...(props.domainNames && props.certificate
        ? {
            domainNames: props.domainNames,
            certificate: props.certificate,
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
      ...(props.webAclArn ? { webAclId: props.webAclArn } : {}),
    });
    this.url = props.domainNames?.[0]
      ? `https://${props.domainNames[0]}`
      : `https://${this.distribution.distributionDomainName}`;
    if (!props.certificate) {
      acknowledge(
        this.distribution,
        'AwsSolutions-CFR4',
        'Without a custom domain the distribution uses the default CloudFront certificate, whose minimum protocol CloudFront fixes; set console.domainNames and console.certificate for TLS 1.2 minimum.',
      );
    }
    if (!props.webAclArn) {
      acknowledge(
        this.distribution,
        'AwsSolutions-CFR2',
        'The console is static files; every action it takes is an IAM-authorized API call that the API throttles. Set console.webAclArn to put a WAF web ACL in front.',
      );
    }
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      'The console serves the registry’s users wherever they are; sign-in (Cognito, the organisation’s IdP) decides who may use it, not geography.',
    );

    // ---------------------------------------------------------------- sign-in
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      mfa: props.mfa === 'optional' ? cognito.Mfa.OPTIONAL : cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: !destroy,
      removalPolicy,
    });
    if (props.mfa === 'optional') {
      acknowledge(
        this.userPool,
        'AwsSolutions-COG2',
        'MFA is optional by the deployer’s choice (console.mfa); threat protection is enforced, and federated users do MFA at their identity provider.',
      );
    }
    this.userPoolDomain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: props.domainPrefix },
    });

    const providers: cognito.UserPoolClientIdentityProvider[] = [];
    const federation: Construct[] = [];
    if (props.oidc) {
      federation.push(
        new cognito.UserPoolIdentityProviderOidc(this, 'Oidc', {
          userPool: this.userPool,
          name: props.oidc.name,
          clientId: props.oidc.clientId,
          clientSecret: props.oidc.clientSecret.unsafeUnwrap(),
          issuerUrl: props.oidc.issuerUrl,
          scopes: props.oidc.scopes ?? ['openid', 'email', 'profile'],
          attributeRequestMethod: cognito.OidcAttributeRequestMethod.GET,
          attributeMapping: { email: cognito.ProviderAttribute.other('email') },
        }),
      );
      providers.push(cognito.UserPoolClientIdentityProvider.custom(props.oidc.name));
    }
    if (props.saml) {
      federation.push(
        new cognito.UserPoolIdentityProviderSaml(this, 'Saml', {
          userPool: this.userPool,
          name: props.saml.name,
          metadata: props.saml.metadataUrl
            ? cognito.UserPoolIdentityProviderSamlMetadata.url(props.saml.metadataUrl)
            : cognito.UserPoolIdentityProviderSamlMetadata.file(props.saml.metadataContent!),
          attributeMapping: {
            email: cognito.ProviderAttribute.other(
              props.saml.emailAttribute ??
                'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
            ),
          },
        }),
      );
      providers.push(cognito.UserPoolClientIdentityProvider.custom(props.saml.name));
    }
    if (props.userPoolSignIn ?? federation.length === 0) {
      providers.push(cognito.UserPoolClientIdentityProvider.COGNITO);
    }

    const redirect = `${this.url}/`;
    this.userPoolClient = this.userPool.addClient('Client', {
      userPoolClientName: 'model-registry-console',
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [redirect],
        logoutUrls: [redirect],
      },
      supportedIdentityProviders: providers,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });
    for (const idp of federation) this.userPoolClient.node.addDependency(idp);
    // The hosted UI's code flow and its refresh tokens only: no password, SRP or custom flow of the
    // client API (left unset, Cognito would allow SRP and custom auth).
    (this.userPoolClient.node.defaultChild as cognito.CfnUserPoolClient).explicitAuthFlows = [
      'ALLOW_REFRESH_TOKEN_AUTH',
    ];

    this.identityPool = new cognito.CfnIdentityPool(this, 'IdentityPool', {
      allowUnauthenticatedIdentities: false,
      allowClassicFlow: false,
      cognitoIdentityProviders: [
        {
          clientId: this.userPoolClient.userPoolClientId,
          providerName: this.userPool.userPoolProviderName,
          serverSideTokenCheck: true,
        },
      ],
    });
    this.authenticatedRole = new iam.Role(this, 'AuthenticatedRole', {
      description:
        'Model registry console users (Cognito identity pool): the API routes of the console audiences',
      assumedBy: new iam.FederatedPrincipal(
        'cognito-identity.amazonaws.com',
        {
          StringEquals: { 'cognito-identity.amazonaws.com:aud': this.identityPool.ref },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
        },
        'sts:AssumeRoleWithWebIdentity',
      ),
      maxSessionDuration: Duration.hours(1),
    });
    for (const audience of this.audiences) registry.grant(audience, this.authenticatedRole);
    acknowledgeWildcards(
      this.authenticatedRole,
      'Each resource is the execute-api ARN of one API route of the console audiences (lib/audience-grants.ts); its * stand for the route’s path parameters (model names, versions, aliases, request ids).',
    );
    new cognito.CfnIdentityPoolRoleAttachment(this, 'IdentityPoolRoles', {
      identityPoolId: this.identityPool.ref,
      roles: { authenticated: this.authenticatedRole.roleArn },
    });

    // ---------------------------------------------------------------- the API, from the console's origin
    this.allowBrowserCalls(registry);

    // ---------------------------------------------------------------- files
    const assetsDir = path.join(directory, 'assets');
    const assets = existsSync(assetsDir)
      ? new s3deploy.BucketDeployment(this, 'DeployAssets', {
          destinationBucket: this.bucket,
          destinationKeyPrefix: 'assets/',
          sources: [s3deploy.Source.asset(assetsDir)],
          cacheControl: [s3deploy.CacheControl.fromString('public, max-age=31536000, immutable')],
          // Hashed names: earlier builds' files stay for pages still open on them.
          prune: false,
        })
      : undefined;
    const config: ConsoleRuntimeConfig = {
      api_url: registry.api.url,
      auth: {
        type: 'cognito',
        region: stack.region,
        user_pool_id: this.userPool.userPoolId,
        client_id: this.userPoolClient.userPoolClientId,
        identity_pool_id: this.identityPool.ref,
        domain: cognitoOrigin,
        redirect_uri: redirect,
        ...(federation.length === 1 && !providers.includes(cognito.UserPoolClientIdentityProvider.COGNITO)
          ? { identity_provider: (props.oidc ?? props.saml)!.name }
          : {}),
      },
    };
    const pages = new s3deploy.BucketDeployment(this, 'DeployPages', {
      destinationBucket: this.bucket,
      sources: [
        s3deploy.Source.asset(directory, { exclude: ['assets', 'assets/**', CONSOLE_CONFIG_FILE] }),
        s3deploy.Source.jsonData(CONSOLE_CONFIG_FILE, config),
      ],
      cacheControl: [s3deploy.CacheControl.noCache()],
      prune: false,
      distribution: this.distribution,
      distributionPaths: ['/*'],
    });
    if (assets) pages.node.addDependency(assets);
    this._config = config;
    this.acknowledgeDeployments();
  }

  /**
   * CORS for the console's origin: an unauthenticated preflight (API Gateway's mock integration,
   * allowed by the resource policy for OPTIONS only) on the resources of the console's routes,
   * the API functions' answers and API Gateway's own error answers carrying
   * Access-Control-Allow-Origin for that origin.
   */
  private allowBrowserCalls(registry: IConsoleRegistry): void {
    const operations = new Set(
      this.audiences.flatMap((a) => audienceGrant(a).allow.map((o) => o.operationId)),
    );
    const byResource = new Map<apigw.IResource, Set<string>>();
    for (const op of ALL_OPERATIONS) {
      if (!operations.has(op.operationId)) continue;
      const method = registry.methods[op.operationId];
      if (!method) continue;
      const set = byResource.get(method.resource) ?? new Set<string>();
      set.add(op.method);
      byResource.set(method.resource, set);
    }
    for (const [resource, methods] of byResource) {
      resource.addCorsPreflight({
        allowOrigins: [this.url],
        allowMethods: [...methods],
        allowHeaders: CONSOLE_REQUEST_HEADERS,
        exposeHeaders: ['X-Request-Id'],
        maxAge: Duration.hours(1),
      });
    }
    registry.api.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowConsolePreflight',
        actions: ['execute-api:Invoke'],
        principals: [new iam.AnyPrincipal()],
        resources: ['execute-api:/*/OPTIONS/*'],
      }),
    );
    for (const fn of registry.apiFunctions) fn.addEnvironment(CORS_ALLOWED_ORIGINS_ENV, this.url);
    for (const child of registry.api.node.children) {
      if (!(child instanceof apigw.GatewayResponse)) continue;
      const cfn = child.node.defaultChild as apigw.CfnGatewayResponse;
      cfn.responseParameters = {
        ...(cfn.responseParameters as Record<string, string> | undefined),
        'gatewayresponse.header.Access-Control-Allow-Origin': `'${this.url}'`,
        'gatewayresponse.header.Vary': "'Origin'",
      };
    }
  }

  /** The s3-deployment custom resource (a stack-wide singleton function), acknowledged on itself. */
  private acknowledgeDeployments(): void {
    const stack = Stack.of(this);
    for (const child of stack.node.children) {
      if (!child.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
      acknowledge(
        child,
        'AwsSolutions-L1',
        'The runtime of the s3-deployment custom resource handler is chosen by aws-cdk-lib and upgraded with it; it runs only during deployments.',
      );
      const role = child.node.tryFindChild('ServiceRole');
      if (role) {
        acknowledge(
          role,
          'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          'The s3-deployment custom resource handler (aws-cdk-lib) logs with the AWS managed basic execution policy; it runs only during deployments.',
        );
        acknowledgeWildcards(
          role,
          'aws-cdk-lib’s s3-deployment grants its handler read of the asset objects, write of the console bucket’s objects and CloudFront invalidation (no resource-level permissions); it runs only during deployments.',
        );
      }
    }
  }
}

/**
 * The console's Content-Security-Policy when deployed: the local one (local/console.ts) with
 * `connect-src` widened to the API and Cognito (token and identity endpoints).
 */
export function consoleContentSecurityPolicy(connect: readonly string[]): string {
  return (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    `connect-src 'self' ${connect.join(' ')}; ` +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
  );
}

function validate(props: RegistryConsoleProps): void {
  if (
    !/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(props.domainPrefix) ||
    /aws|amazon|cognito/.test(props.domainPrefix)
  ) {
    throw new Error(
      `console.domainPrefix: '${props.domainPrefix}' must be lowercase letters, digits and hyphens (at most 63, not starting or ending with a hyphen) without aws, amazon or cognito`,
    );
  }
  if (props.saml && !props.saml.metadataUrl === !props.saml.metadataContent) {
    throw new Error('console.saml: give exactly one of metadataUrl and metadataContent');
  }
  if (props.domainNames?.length && !props.certificate) {
    throw new Error('console.domainNames needs console.certificate (an ACM certificate in us-east-1)');
  }
  if (props.mfa !== undefined && props.mfa !== 'required' && props.mfa !== 'optional') {
    throw new Error(`console.mfa must be 'required' or 'optional', got '${String(props.mfa)}'`);
  }
}

/** A value of a resolved policy as cdk-nag names it in a finding id (`<Ref>`, `<Id.Attr>`, joins concatenated). */
function nagName(value: unknown): string {
  if (typeof value === 'string') return value;
  const o = value as Record<string, unknown>;
  if (o.Ref) return `<${o.Ref as string}>`;
  if (o['Fn::GetAtt']) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
  if (o['Fn::Join']) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(nagName).join(sep);
  }
  throw new Error(`Cannot name ${JSON.stringify(value)} as cdk-nag does`);
}

/**
 * Acknowledges AwsSolutions-IAM5 for each wildcard action and resource of the role's default
 * policy, on the role (CDK moves statements of a large policy into overflow managed policies of
 * the role at synthesis).
 */
function acknowledgeWildcards(role: IConstruct, reason: string): void {
  const policy = role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (!policy) return;
  const document = Stack.of(role).resolve(policy.document.toJSON()) as {
    Statement: { Effect: string; Action?: string | string[]; Resource?: unknown }[];
  };
  const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
  const ids = new Set<string>();
  for (const statement of document.Statement) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of list(statement.Action)) if (action.includes('*')) ids.add(`Action::${action}`);
    for (const resource of list(statement.Resource)) {
      const name = nagName(resource);
      if (name.includes('*')) ids.add(`Resource::${name}`);
    }
  }
  for (const id of ids) acknowledge(role, `AwsSolutions-IAM5[${id}]`, reason);
}

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
