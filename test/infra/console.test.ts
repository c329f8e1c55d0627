/**
 * The deployed console (lib/registry-console.ts) as synthesized: a private, encrypted, TLS-only
 * bucket behind CloudFront with origin access control and security headers; Cognito sign-in (no
 * self sign-up, MFA, threat protection, a public client with the code flow) and an identity pool
 * without guests whose role may invoke exactly the console audiences' routes; CORS for the
 * console's origin only; the runtime configuration without secrets; cdk-nag clean, each finding
 * acknowledged on its resource with a reason.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { type Audience, audienceOf } from '../../functions/api/contract';
import { audienceGrant } from '../../lib/audience-grants';
import { ModelRegistry } from '../../lib/model-registry';
import {
  CONTEXT,
  ModelRegistryStack,
  type ModelRegistryStackProps,
  propsFromContext,
} from '../../lib/model-registry-stack';
import { CONSOLE_CONFIG_FILE, RegistryConsole, spaRewriteFunctionCode } from '../../lib/registry-console';
import { expectRealAcknowledgements, recordAcknowledgements } from '../support/nag';
import { list, render } from '../support/template';

const env = { account: '123456789012', region: 'eu-west-1' };

/** A stand-in for the built console (web/dist): the construct deploys whatever directory it is given. */
const dist = mkdtempSync(join(tmpdir(), 'console-dist-'));
mkdirSync(join(dist, 'assets'));
writeFileSync(
  join(dist, 'index.html'),
  '<!doctype html><script type="module" src="/assets/index-1.js"></script>',
);
writeFileSync(join(dist, 'assets', 'index-1.js'), 'export {};');
writeFileSync(join(dist, 'favicon.svg'), '<svg/>');

function consoleStack(app: App, id: string, props: Partial<ModelRegistryStackProps> = {}) {
  const stack = new ModelRegistryStack(app, id, {
    env,
    console: { domainPrefix: 'acme-models', directory: dist },
    ...props,
  });
  return { stack, registry: stack.registry, console: stack.registry.console! };
}

/** Optional MFA, a WAF web ACL and a third audience (its grant overflows into a managed policy). */
const optionalProps = {
  console: {
    domainPrefix: 'acme-models',
    directory: dist,
    mfa: 'optional' as const,
    webAclArn: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/1',
    audiences: ['reader', 'registrant', 'approver'] as Audience[],
  },
};
// The acknowledgements lib/ makes, recorded while building an app that does not apply them, and
// both packs' raw findings on it (test/infra/nag.test.ts does the same for the registry).
const { recorded, raw } = recordAcknowledgements(() => {
  const unacknowledged = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  consoleStack(unacknowledged, 'Console');
  consoleStack(unacknowledged, 'Optional', optionalProps);
  return { app: unacknowledged };
});

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const main = consoleStack(app, 'Console');
const optional = consoleStack(app, 'Optional', optionalProps);
const template = Template.fromStack(main.stack);
const resources = template.toJSON().Resources as Record<string, any>;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const idOf = (construct: IConstruct) =>
  main.stack.resolve(((construct.node.defaultChild ?? construct) as any).logicalId);
const origin = () => `https://<${idOf(main.console.distribution)}.DomainName>`;

describe('the console bucket', () => {
  const bucket = resources[idOf(main.console.bucket)];
  it('is private, encrypted, owner-enforced and logged', () => {
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(
      bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault,
    ).toEqual({ SSEAlgorithm: 'AES256' });
    expect(bucket.Properties.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    expect(bucket.Properties.LoggingConfiguration.DestinationBucketName).toEqual({
      Ref: idOf(main.console.logsBucket),
    });
    expect(bucket.Properties.WebsiteConfiguration).toBeUndefined();
  });

  it('refuses plain HTTP and old TLS, and lets only this distribution read, through OAC', () => {
    const [, policy] = ofType('AWS::S3::BucketPolicy').find(
      ([, p]) => p.Properties.Bucket.Ref === idOf(main.console.bucket),
    )!;
    const statements = policy.Properties.PolicyDocument.Statement as any[];
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
    );
    const allows = statements.filter((s) => s.Effect === 'Allow');
    // Only CloudFront, for this distribution, reads; and the deployment's own custom resource (delete).
    for (const s of allows) expect(s.Principal).not.toBe('*');
    const cloudfront = allows.filter((s) => s.Principal?.Service === 'cloudfront.amazonaws.com');
    expect(cloudfront).toHaveLength(1);
    expect(cloudfront[0].Action).toBe('s3:GetObject');
    expect(render(cloudfront[0].Condition.StringEquals['AWS:SourceArn'])).toContain(
      idOf(main.console.distribution),
    );
  });
});

describe('the distribution', () => {
  const distribution = resources[idOf(main.console.distribution)].Properties.DistributionConfig;
  it('reads the bucket with origin access control (no OAI, no website endpoint)', () => {
    const [oacId, oac] = ofType('AWS::CloudFront::OriginAccessControl')[0]!;
    expect(oac.Properties.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    expect(distribution.Origins).toHaveLength(1);
    expect(distribution.Origins[0].OriginAccessControlId).toEqual({ 'Fn::GetAtt': [oacId, 'Id'] });
    expect(distribution.Origins[0].S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(render(distribution.Origins[0].DomainName)).toContain(idOf(main.console.bucket));
  });

  it('answers HTTPS only, logs, and rewrites the console’s pages to index.html', () => {
    expect(distribution.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('https-only');
    expect(distribution.DefaultCacheBehavior.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(distribution.DefaultRootObject).toBe('index.html');
    expect(distribution.Logging.Bucket).toEqual({
      'Fn::GetAtt': [idOf(main.console.logsBucket), 'RegionalDomainName'],
    });
    const [fnId, fn] = ofType('AWS::CloudFront::Function')[0]!;
    expect(distribution.DefaultCacheBehavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [fnId, 'FunctionARN'] } },
    ]);
    expect(fn.Properties.FunctionCode).toBe(spaRewriteFunctionCode(['favicon.svg', 'index.html']));
  });

  it('the rewrite keeps files and assets, and gives pages (model names with dots too) index.html', () => {
    const code = spaRewriteFunctionCode(['favicon.svg', 'index.html']);
    const handler = new Function(`${code}; return handler;`)() as (e: any) => { uri: string };
    const uri = (u: string) => handler({ request: { uri: u } }).uri;
    expect(uri('/index.html')).toBe('/index.html');
    expect(uri('/favicon.svg')).toBe('/favicon.svg');
    expect(uri(`/${CONSOLE_CONFIG_FILE}`)).toBe(`/${CONSOLE_CONFIG_FILE}`);
    expect(uri('/assets/index-1.js')).toBe('/assets/index-1.js');
    expect(uri('/')).toBe('/index.html');
    expect(uri('/inbox')).toBe('/index.html');
    expect(uri('/model/fraud.v2/versions/3')).toBe('/index.html');
  });

  it('sends a CSP allowing only its own files, the API and Cognito, with HSTS, nosniff and no framing', () => {
    const [, policy] = ofType('AWS::CloudFront::ResponseHeadersPolicy')[0]!;
    const security = policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const csp = render(security.ContentSecurityPolicy.ContentSecurityPolicy);
    const api = idOf(main.registry.api);
    expect(csp).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
        `connect-src 'self' https://<${api}>.execute-api.eu-west-1.<AWS::URLSuffix> https://acme-models.auth.eu-west-1.amazoncognito.com https://cognito-identity.eu-west-1.amazonaws.com; ` +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    expect(security.StrictTransportSecurity).toMatchObject({
      AccessControlMaxAgeSec: 63072000,
      IncludeSubdomains: true,
    });
    expect(security.ContentTypeOptions).toEqual({ Override: true });
    expect(security.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(security.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
  });
});

describe('sign-in', () => {
  it('a user pool without self sign-up, with MFA (TOTP), threat protection and a strong password policy', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireSymbols: true }) },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'acme-models' });
  });

  it('a public client: authorization code (PKCE), no secret, back to the distribution only', () => {
    const [, client] = ofType('AWS::Cognito::UserPoolClient')[0]!;
    const p = client.Properties;
    expect(p.GenerateSecret).toBe(false);
    expect(p.AllowedOAuthFlows).toEqual(['code']);
    expect(p.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(p.ExplicitAuthFlows).toEqual(['ALLOW_REFRESH_TOKEN_AUTH']);
    expect(p.CallbackURLs.map(render)).toEqual([`${origin()}/`]);
    expect(p.LogoutURLs.map(render)).toEqual([`${origin()}/`]);
    expect(p.SupportedIdentityProviders).toEqual(['COGNITO']);
  });

  it('an identity pool without unauthenticated identities, its users in one role', () => {
    const [poolId, pool] = ofType('AWS::Cognito::IdentityPool')[0]!;
    expect(pool.Properties.AllowUnauthenticatedIdentities).toBe(false);
    expect(pool.Properties.AllowClassicFlow).toBe(false);
    expect(pool.Properties.CognitoIdentityProviders).toHaveLength(1);
    expect(pool.Properties.CognitoIdentityProviders[0].ServerSideTokenCheck).toBe(true);
    const [, attachment] = ofType('AWS::Cognito::IdentityPoolRoleAttachment')[0]!;
    expect(attachment.Properties.IdentityPoolId).toEqual({ Ref: poolId });
    expect(Object.keys(attachment.Properties.Roles)).toEqual(['authenticated']);
    const role = resources[idOf(main.console.authenticatedRole)].Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Federated: 'cognito-identity.amazonaws.com' },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { 'cognito-identity.amazonaws.com:aud': { Ref: poolId } },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
        },
      },
    ]);
  });
});

/** The Allow and Deny resources of a role's policies, rendered. */
function grantsOf(stack: Stack, roleId: string) {
  const all = Object.entries(Template.fromStack(stack).toJSON().Resources as Record<string, any>);
  const attached = new Set(
    list(all.find(([id]) => id === roleId)![1].Properties.ManagedPolicyArns).map((x: any) => x.Ref),
  );
  const statements = all
    .filter(
      ([id, r]) =>
        ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(r.Type) &&
        (list(r.Properties.Roles).some((x: any) => x.Ref === roleId) || attached.has(id)),
    )
    .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as any[]);

  return {
    actions: new Set(statements.flatMap((s) => list(s.Action))),
    allow: statements.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Resource).map(render)),
    deny: statements.filter((s) => s.Effect === 'Deny').flatMap((s) => list(s.Resource).map(render)),
  };
}

describe('the identity pool role', () => {
  const expected = (registry: ModelRegistry, audiences: Audience[]) =>
    audiences.flatMap((a) =>
      audienceGrant(a).allow.map((o) =>
        render(Stack.of(registry).resolve(registry.invokeArn(o.operationId))),
      ),
    );

  it('may invoke exactly the routes of reader and approver (by default), nothing else', () => {
    const grants = grantsOf(main.stack, idOf(main.console.authenticatedRole));
    expect([...grants.actions]).toEqual(['execute-api:Invoke']);
    expect(grants.allow.sort()).toEqual(expected(main.registry, ['reader', 'approver']).sort());
    expect(grants.allow.every((arn) => arn.includes(`<${idOf(main.registry.api)}>/prod/`))).toBe(true);
    // The routes of other audiences that those ARNs' wildcards reach are denied.
    const denied = new Set(grants.deny);
    for (const a of ['reader', 'approver'] as const) {
      for (const op of audienceGrant(a).deny) {
        if (audienceOf(op) === 'reader' || audienceOf(op) === 'approver') continue;
        expect(denied.has(render(main.stack.resolve(main.registry.invokeArn(op.operationId))))).toBe(true);
      }
    }
  });

  it('gets the routes of the audiences it is given (a large grant overflows into a managed policy)', () => {
    const found = grantsOf(
      optional.stack,
      optional.stack.resolve((optional.console.authenticatedRole.node.defaultChild as any).logicalId),
    );
    const want = expected(optional.registry, ['reader', 'registrant', 'approver']);
    expect(found.allow.filter((a) => !want.includes(a))).toEqual([]);
    expect(want.filter((a) => !found.allow.includes(a))).toEqual([]);
  });
});

describe('the API, from the console’s origin', () => {
  const methods = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::Method');
  const options = methods.filter((m) => m.Properties.HttpMethod === 'OPTIONS');

  it('answers the preflight itself (mock, no authorization) for the console’s origin only, on its routes', () => {
    expect(options.length).toBeGreaterThan(10);
    for (const m of options) {
      expect(m.Properties.AuthorizationType).toBe('NONE');
      expect(m.Properties.Integration.Type).toBe('MOCK');
      const params = m.Properties.Integration.IntegrationResponses[0].ResponseParameters;
      expect(render(params['method.response.header.Access-Control-Allow-Origin'])).toBe(`'${origin()}'`);
      expect(params['method.response.header.Access-Control-Allow-Headers']).toBe(
        "'Authorization,Content-Type,X-Amz-Date,X-Amz-Security-Token,X-Amz-Content-Sha256,Idempotency-Key'",
      );
    }
    // Every other method still requires IAM.
    for (const m of methods.filter((x) => x.Properties.HttpMethod !== 'OPTIONS')) {
      expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
    }
  });

  it('the resource policy lets anyone preflight (OPTIONS only); the identity pool role is of the allowed account', () => {
    const policy = resources[idOf(main.registry.api)].Properties.Policy.Statement as any[];
    const preflight = policy.find((s) => s.Sid === 'AllowConsolePreflight');
    expect(preflight).toMatchObject({
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Resource: 'execute-api:/*/OPTIONS/*',
    });
    const accounts = policy.find((s) => s.Sid === 'AllowAccounts');
    expect(JSON.stringify(accounts.Principal)).toContain(':iam::123456789012:root');
  });

  it('the API functions and API Gateway’s own errors answer the console’s origin', () => {
    for (const fn of ['read', 'write', 'upload', 'download', 'approve'] as const) {
      const variables = resources[idOf(main.registry.functions[fn])].Properties.Environment.Variables;
      expect(render(variables.CORS_ALLOWED_ORIGINS)).toBe(origin());
    }
    expect(
      resources[idOf(main.registry.functions.relay)].Properties.Environment.Variables.CORS_ALLOWED_ORIGINS,
    ).toBeUndefined();
    const responses = ofType('AWS::ApiGateway::GatewayResponse');
    expect(responses.length).toBeGreaterThan(0);
    for (const [, r] of responses) {
      expect(
        render(r.Properties.ResponseParameters['gatewayresponse.header.Access-Control-Allow-Origin']),
      ).toBe(`'${origin()}'`);
    }
  });
});

describe('the runtime configuration', () => {
  it('console-config.json names the API and the Cognito resources, and nothing secret', () => {
    const config = main.stack.resolve(main.console._config);
    expect(Object.keys(config.auth).sort()).toEqual(
      ['client_id', 'domain', 'identity_pool_id', 'redirect_uri', 'region', 'type', 'user_pool_id'].sort(),
    );
    expect(config.auth).toMatchObject({
      type: 'cognito',
      region: 'eu-west-1',
      user_pool_id: { Ref: idOf(main.console.userPool) },
      client_id: { Ref: idOf(main.console.userPoolClient) },
      identity_pool_id: { Ref: idOf(main.console.identityPool) },
      domain: 'https://acme-models.auth.eu-west-1.amazoncognito.com',
    });
    expect(render(config.auth.redirect_uri)).toBe(`${origin()}/`);
    expect(render(config.api_url)).toContain(`https://<${idOf(main.registry.api)}>.execute-api.eu-west-1.`);
    expect(JSON.stringify(config)).not.toMatch(/secret|password|AKIA|ASIA/i);
    const deployments = ofType('Custom::CDKBucketDeployment');
    const pages = deployments.find(([id]) => id.includes('DeployPages'))![1].Properties;
    expect(pages.DistributionPaths).toEqual(['/*']);
    const assets = deployments.find(([id]) => id.includes('DeployAssets'))![1].Properties;
    expect(assets.DestinationBucketKeyPrefix).toBe('assets/');
    expect(assets.Prune).toBe(false);
  });
});

describe('the stack', () => {
  it('has no dependency cycle (the functions name the distribution, whose CSP names the API)', () => {
    const refs = (value: unknown, out: Set<string>): Set<string> => {
      if (Array.isArray(value)) for (const v of value) refs(v, out);
      else if (value && typeof value === 'object') {
        const o = value as Record<string, unknown>;
        if (typeof o.Ref === 'string' && o.Ref in resources) out.add(o.Ref);
        if (Array.isArray(o['Fn::GetAtt'])) out.add(o['Fn::GetAtt'][0] as string);
        for (const v of Object.values(o)) refs(v, out);
      }
      return out;
    };
    const edges = new Map(
      Object.entries(resources).map(([id, r]) => [
        id,
        new Set([...refs(r.Properties ?? {}, new Set()), ...list<string>(r.DependsOn)]),
      ]),
    );
    const done = new Set<string>();
    const visiting = new Set<string>();
    const visit = (id: string, path: string[]) => {
      if (done.has(id)) return;
      if (visiting.has(id)) throw new Error(`cycle: ${[...path, id].join(' -> ')}`);
      visiting.add(id);
      for (const next of edges.get(id) ?? []) visit(next, [...path, id]);
      visiting.delete(id);
      done.add(id);
    };
    expect(() => {
      for (const id of edges.keys()) visit(id, []);
    }).not.toThrow();
  });
});

describe('props', () => {
  it('federates to an OIDC provider: the client uses it and the console goes straight to it', () => {
    const fed = consoleStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Federated', {
      console: {
        domainPrefix: 'acme-models',
        directory: dist,
        oidc: {
          name: 'Corp',
          clientId: 'abc',
          clientSecret: SecretValue.secretsManager('console-idp'),
          issuerUrl: 'https://idp.example.com',
        },
      },
    });
    const t = Template.fromStack(fed.stack);
    t.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', {
      ProviderName: 'Corp',
      ProviderType: 'OIDC',
      ProviderDetails: Match.objectLike({ oidc_issuer: 'https://idp.example.com' }),
    });
    t.hasResourceProperties('AWS::Cognito::UserPoolClient', { SupportedIdentityProviders: ['Corp'] });
    expect(fed.console._config.auth.identity_provider).toBe('Corp');
    expect(main.console._config.auth.identity_provider).toBeUndefined();
  });

  it('is enabled from context (cdk.json or -c) and output by the stack', () => {
    const node = new App({
      context: {
        'aws:cdk:bundling-stacks': [],
        [CONTEXT.console]: JSON.stringify({ domainPrefix: 'acme-models', directory: dist, mfa: 'optional' }),
      },
    }).node;
    const { props } = propsFromContext(node);
    expect(props.console).toEqual({ domainPrefix: 'acme-models', directory: dist, mfa: 'optional' });
    const output = template.toJSON().Outputs.ConsoleUrl;
    expect(render(output.Value)).toBe(origin());
  });

  it('refuses a console that is not built, naming the build command', () => {
    const stack = new Stack(new App(), 'S', { env });
    expect(
      () =>
        new ModelRegistry(stack, 'R', {
          console: { domainPrefix: 'acme-models', directory: join(dist, 'missing') },
        }),
    ).toThrow(/npm run build:console/);
  });

  it('refuses an invalid domain prefix, SAML without exactly one metadata and a domain without certificate', () => {
    const make = (console: any) => () =>
      new RegistryConsole(new Stack(new App(), 'S', { env }), 'C', {
        ...console,
        directory: dist,
        registry: {} as any,
      });
    expect(make({ domainPrefix: 'My_Console' })).toThrow(/domainPrefix/);
    expect(make({ domainPrefix: 'aws-console' })).toThrow(/domainPrefix/);
    expect(make({ domainPrefix: 'ok', saml: { name: 'Corp' } })).toThrow(/metadataUrl/);
    expect(make({ domainPrefix: 'ok', domainNames: ['console.example.com'] })).toThrow(/certificate/);
  });
});

const summarize = (
  violations: { ruleName: string; severity?: string; violatingResources: { constructPath?: string }[] }[],
) =>
  violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.severity} ${v.ruleName} ${r.constructPath}`),
  );

describe('cdk-nag AwsSolutions with the console', () => {
  it('reports no unacknowledged finding, and synth with the plugin passes', () => {
    expect(summarize(new AwsSolutionsChecks().validateScope(app).violations)).toEqual([]);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  it('acknowledges each console finding on one resource, with a reason, and only real findings', () => {
    const console = recorded.filter(
      (a) => a.path.includes('/Console/') || a.path.includes('CDKBucketDeployment'),
    );
    expect(console.length).toBeGreaterThan(0);
    expectRealAcknowledgements(recorded, raw, (scope) => scope instanceof RegistryConsole);
  });

  it('optional MFA and a WAF web ACL: COG2 acknowledged for that choice, CFR2 not needed', () => {
    const optional = recorded.filter((a) => a.path.startsWith('Optional/'));
    expect(optional.some((a) => a.id === 'AwsSolutions-COG2')).toBe(true);
    expect(optional.some((a) => a.id === 'AwsSolutions-CFR2')).toBe(false);
    expect(recorded.some((a) => a.path.startsWith('Console/') && a.id === 'AwsSolutions-COG2')).toBe(false);
  });
});
