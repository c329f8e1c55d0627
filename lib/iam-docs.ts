/**
 * docs/iam.md, generated from the API contract (each route's `audience`) and the grants built on it
 * (lib/audience-grants.ts), so the documented policies are the ones `grant(audience, grantee)`
 * gives. `npm run docs:iam` writes it; a unit test checks the committed file is fresh.
 */
import { AUDIENCES, type Audience, type OperationSpec } from '../functions/api/contract';
import { audienceGrant, routePattern } from './audience-grants';

const ARN_PREFIX = 'arn:aws:execute-api:<region>:<account>:<api-id>/prod/';

const ROLES: Record<Audience, { title: string; sid: string; what: string }> = {
  reader: {
    title: 'Readers',
    sid: 'RegistryRead',
    what: 'Read everything: models, versions, search, transition and policy change requests, policies, the audit log and stage history; download artifacts and resolve `models:/` URIs (presigned URLs). For training pipelines, inference services and dashboards.',
  },
  registrant: {
    title: 'Registrants',
    sid: 'RegistryRegister',
    what: 'Create and change models and versions, upload and finalize artifacts, move versions between stages and aliases between versions, delete what the policy does not protect, and cancel their own transition requests. A move into a guarded stage or of a protected alias only files a transition request (202) that approvers decide. For data scientists and CI.',
  },
  approver: {
    title: 'Approvers',
    sid: 'RegistryApprove',
    what: "Approve or reject transition requests. IAM decides who may call these routes; the registry then enforces the model's policy: never the requester (as a person, whatever the session: [identity](identity.md)) unless the policy allows it, and `required_approvals` distinct people.",
  },
  'policy-admin': {
    title: 'Policy admins',
    sid: 'RegistryPolicyAdmin',
    what: "Change a model's governance policy and decide policy change requests. A change that weakens the policy is not applied: it becomes a policy change request that other policy admins approve, as many as the weakened policy requires ([governance](governance.md)). Keep this apart from registrants: whoever files a promotion should not also set the policy that judges it.",
  },
  operator: {
    title: 'Operators',
    sid: 'RegistryOperate',
    what: "Roll Production back to the version that was there before the current one, at once and without approval (that version entered Production through the policy of its time); today's quality gates still apply unless the policy's `rollback_requires_gates` is false; manage webhooks (MLflow's webhooks API and the registry's own routes: create, change, delete, test, the delivery log and redelivery); and replay recorded events to the bus (`POST /events/replay`, `mreg events replay`) to close a gap in what consumers received. For the on-call who must undo a bad release, and whoever wires the registry to CI and chat.",
  },
  'break-glass': {
    title: 'Break glass',
    sid: 'RegistryBreakGlass',
    what: 'Change what a model serves bypassing approval and quality gates, with a required reason, recorded as break-glass in the audit log and the events (`break_glass: true`). Give it to a role assumed only in an incident, and alarm on its use.',
  },
};

const code = (s: string) => `\`${s}\``;
const arns = (ops: readonly OperationSpec[]) => [
  ...new Set(ops.map((o) => `${ARN_PREFIX}${routePattern(o)}`)),
];

function policyJson(audience: Audience): string {
  const { allow, deny } = audienceGrant(audience);
  const statements: Record<string, unknown>[] = [
    { Sid: ROLES[audience].sid, Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arns(allow) },
  ];
  if (deny.length) {
    statements.push({
      Sid: `${ROLES[audience].sid}OnlyOwnRoutes`,
      Effect: 'Deny',
      Action: 'execute-api:Invoke',
      Resource: arns(deny),
    });
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, 2);
}

function roleSection(audience: Audience): string {
  const { allow, deny, collateral } = audienceGrant(audience);
  const role = ROLES[audience];
  const lines = [
    `### ${role.title} (\`${audience}\`)`,
    '',
    role.what,
    '',
    '```json',
    policyJson(audience),
    '```',
    '',
  ];
  if (deny.length) {
    lines.push(
      `The \`Deny\` statement: in IAM a \`*\` also matches \`/\`, so the ARNs above also match ${deny
        .map((o) => `${code(`${o.method} ${o.path}`)} (\`${o.operationId}\`)`)
        .join(
          ', ',
        )}, which ${deny.length > 1 ? 'are' : 'is'} not for ${role.title.toLowerCase()}. For a principal that is also granted the audience of ${deny.length > 1 ? 'those routes' : 'that route'}, leave the \`Deny\` out (\`grant\` does).`,
    );
    if (collateral.length) {
      lines.push(
        `It also refuses ${collateral
          .map((c) => `${code(c.operationId)} with the ${c.parameter} \`${c.value}\``)
          .join(', ')}: such a request's path looks like the denied route's.`,
      );
    }
    lines.push('');
  }
  lines.push('| operation | route | function |', '| --- | --- | --- |');
  for (const o of allow)
    lines.push(`| ${code(o.operationId)} | ${code(`${o.method} ${o.path}`)} | ${o.group} |`);
  return lines.join('\n');
}

export function iamDocs(): string {
  return `${[
    '# IAM: who may call which route',
    '',
    '<!-- Generated by `npm run docs:iam` from functions/api/contract.ts and lib/audience-grants.ts. Do not edit. -->',
    '',
    'Every route of the API is authorized by IAM (SigV4, `AWS_IAM`): a caller needs `execute-api:Invoke` on the',
    "route's ARN, and the API's resource policy must admit the caller's account. Each route has an **audience**",
    '(`audience` in `functions/api/contract.ts`): the role a deployment grants it to. IAM decides who may call a',
    'route; the registry then enforces the governance policy on what the call may change',
    '([governance](governance.md)), comparing callers as people ([identity](identity.md)).',
    '',
    "A route's ARN is `arn:aws:execute-api:<region>:<account>:<api-id>/prod/<METHOD>/<path>`, with `*` for each",
    'path parameter. **In IAM, `*` also matches `/`**: replace a `*` with a model name to scope a grant to one',
    'model (`.../prod/POST/models/fraud-detector/transition-requests/*/approve`), and mind that a wildcard can',
    'reach further than meant (the `Deny` statements below). Cross-account callers need the same identity',
    'policies, in their own account.',
    '',
    'A per-model grant names the model as the request path carries it: percent-encoded, as the SDK sends it',
    '(`my model` is `my%20model`, `Modèle` is `Mod%C3%A8le`). A name a path cannot carry (with `/`, `\\`, `%`,',
    '`?` or `#`, or `.`, `..`, `~`) travels as the segment `~` with the name in the query',
    '([limits](limits.md)), so a grant on `.../models/~/*` reaches every such model and a per-model grant',
    'cannot single one out: give models you scope grants to names made of letters, digits, `-`, `_` and `.`.',
    '',
    '## With the CDK construct',
    '',
    '```ts',
    "const registry = new ModelRegistry(this, 'Registry', { organizationId: 'o-a1b2c3d4e5' });",
    ...AUDIENCES.map(
      (a) =>
        `registry.grant('${a}', ${{ reader: 'inferenceRole', registrant: 'trainingPipelineRole', approver: 'reviewersRole', 'policy-admin': 'governanceRole', operator: 'onCallRole', 'break-glass': 'breakGlassRole' }[a]});`,
    ),
    '```',
    '',
    "`grant(audience, grantee)` allows `execute-api:Invoke` on every route of the audience (MLflow's routes",
    'included) and denies the routes of other audiences those ARNs reach, leaving out the routes of every',
    "audience granted to the same principal through `grant`. `grantRead(grantee)` is `grant('reader', grantee)`;",
    '`grantInvoke(grantee, ...operationIds)` grants single routes (and adds no `Deny`).',
    '',
    "## The API's resource policy",
    '',
    'The resource policy admits, for `execute-api:Invoke` on every route:',
    '',
    '- **the deploying account**, by its account principal (`arn:aws:iam::<account>:root`). An account principal',
    "  delegates to the account's identity policies: a principal of the deploying account needs one of the",
    '  policies below.',
    '- **`allowedAccountIds`**, by their account principals: their principals need an identity policy in their',
    '  own account too (cross-account access needs both).',
    '- **the organization** (`organizationId`), by `Principal: "*"` with the condition',
    '  `aws:PrincipalOrgID = <organizationId>` **and `aws:PrincipalAccount` ≠ the deploying account**.',
    '  `"*"` in an API\'s resource policy grants principals of the API\'s own account on its own, with no identity',
    '  policy; without that exclusion every role and user of the deploying account could call every route,',
    '  break-glass included. Other accounts of the organization need an identity policy anyway.',
    '',
    'No statement with `Principal: "*"` can match the deploying account (a test checks the synthesized template).',
    '',
    '## Roles',
    '',
    'The policies below are what `grant` gives, with placeholders for the region, account and API id.',
    '',
    ...AUDIENCES.flatMap((a) => [roleSection(a), '']),
  ].join('\n')}`.replace(/\n+$/, '\n');
}
