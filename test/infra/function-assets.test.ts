/**
 * The construct deploys prebuilt bundles (dist/functions/<name>/, built by `prepare`): synthesizing
 * a stack runs no bundler and nothing of this repository but the package.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { DEPLOYMENT_CONFIG_FILE } from '../../functions/deployment/environment';
import { FUNCTION_NAMES, FUNCTIONS, type FunctionName } from '../../functions/deployment/functions';
import { MLFLOW_POLICY } from '../../functions/domain/governance';
import { deploymentPolicy, readDeploymentConfig, readEnvironment } from '../../functions/handlers/runtime';
import { FUNCTION_ASSETS_DIR, functionAssetDir } from '../../lib/function-code';
import { GovernanceProfile, ModelRegistry } from '../../lib/model-registry';
import { logicalId } from '../support/template';

const empty = mkdtempSync(join(tmpdir(), 'registry-assets-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

describe('function assets', () => {
  it('reads every function from dist/functions/<name>/', () => {
    for (const name of FUNCTION_NAMES) expect(functionAssetDir(name)).toBe(join(FUNCTION_ASSETS_DIR, name));
  });

  it('runs no bundler and no process at synth: lib/ imports neither esbuild, tsx nor child_process', () => {
    const lib = join(__dirname, '..', '..', 'lib');
    for (const file of readdirSync(lib).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(lib, file), 'utf8');
      // lib/bundling.ts holds the esbuild options (types only) for scripts/build-functions.ts.
      // (`tsx` the tool, not a `.tsx` file name.)
      expect(source, file).not.toMatch(
        /^import (?!type )[^;]*from '(esbuild|node:child_process)'|(?<!\.)\btsx\b/m,
      );
    }
  });

  it('fails with a message that says how to build them when a bundle is missing', () => {
    expect(() => functionAssetDir('read', empty)).toThrow(
      /The read function's bundle \(.*read\/index\.js\) is missing: build the function assets with 'npm run build:functions'/,
    );
  });
});

describe('deployment configuration in the asset', () => {
  // Bundling on (the one place besides synth.test.ts): staging copies each bundle.
  const outdir = mkdtempSync(join(tmpdir(), 'registry-config-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Configured', { env: { account: '123456789012', region: 'eu-west-1' } });
  const registry = new ModelRegistry(stack, 'Registry', {
    governancePolicy: { requiredApprovals: 2, qualityGates: ['accuracy >= 0.9'] },
    identityTrust: { trustedSessionRoles: ['release-approvers'] },
  });
  const named = new ModelRegistry(new Stack(app, 'Named'), 'Registry', {
    governanceProfile: GovernanceProfile.MLFLOW,
  });
  const profiled = new ModelRegistry(new Stack(app, 'Profiled'), 'Registry', {
    governanceProfile: GovernanceProfile.MLFLOW,
    governancePolicy: { qualityGates: ['accuracy >= 0.9'] },
  });
  const assembly = app.synth();
  const template = assembly.getStackByName('Configured').template as { Resources: Record<string, any> };
  const policyIn = (stackName: string, registry: ModelRegistry): string | undefined => {
    const t = assembly.getStackByName(stackName).template as { Resources: Record<string, any> };
    const dir = join(outdir, t.Resources[logicalId(registry.functions.workflow)].Metadata['aws:asset:path']);
    return readEnvironment({ TABLE_NAME: 'registry' }, readDeploymentConfig(dir)).GOVERNANCE_POLICY;
  };

  const configOf = (name: FunctionName): Record<string, string> | undefined => {
    const fn = template.Resources[logicalId(registry.functions[name])];
    const dir = join(outdir, fn.Metadata['aws:asset:path']);
    expect(existsSync(join(dir, 'index.js')), name).toBe(true);
    const file = join(dir, DEPLOYMENT_CONFIG_FILE);
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  };

  it('writes the governance policy (and, for the API, the identity trust) beside the bundle of the functions that read it', () => {
    const policy = { required_approvals: 2, quality_gates: ['accuracy >= 0.9'] };
    const trust = { trusted_session_roles: ['release-approvers'] };
    for (const name of FUNCTION_NAMES) {
      const expected: Record<string, unknown> = {};
      if (FUNCTIONS[name].environment.includes('GOVERNANCE_POLICY' as never))
        expected.GOVERNANCE_POLICY = policy;
      if (FUNCTIONS[name].environment.includes('IDENTITY_TRUST' as never)) expected.IDENTITY_TRUST = trust;
      const config = configOf(name);
      const parsed = config && Object.fromEntries(Object.entries(config).map(([k, v]) => [k, JSON.parse(v)]));
      expect(parsed, name).toEqual(Object.keys(expected).length ? expected : undefined);
    }
    expect(configOf('read')).toBeDefined();
    expect(configOf('relay')).toBeUndefined();
  });

  it('is what the function reads at cold start, with its environment', () => {
    const fn = template.Resources[logicalId(registry.functions.write)];
    const dir = join(outdir, fn.Metadata['aws:asset:path']);
    const env = readEnvironment({ TABLE_NAME: 'registry' }, readDeploymentConfig(dir));
    expect(JSON.parse(env.GOVERNANCE_POLICY!)).toEqual({
      required_approvals: 2,
      quality_gates: ['accuracy >= 0.9'],
    });
    expect(deploymentPolicy(env).requiredApprovals).toBe(2);
  });

  it('carries a governance profile by name, and a profile with overrides as the whole effective policy', () => {
    expect(policyIn('Named', named)).toBe('mlflow');
    const env = { TABLE_NAME: 'registry', GOVERNANCE_POLICY: policyIn('Profiled', profiled)! };
    expect(deploymentPolicy(env)).toEqual({
      ...MLFLOW_POLICY,
      qualityGates: deploymentPolicy({
        TABLE_NAME: 'r',
        GOVERNANCE_POLICY: '{"quality_gates":["accuracy >= 0.9"]}',
      }).qualityGates,
    });
  });

  it('refuses a config file that sets anything but the document variables', () => {
    const dir = mkdtempSync(join(tmpdir(), 'registry-bad-config-'));
    try {
      writeFileSync(join(dir, DEPLOYMENT_CONFIG_FILE), JSON.stringify({ TABLE_NAME: 'elsewhere' }));
      expect(() => readDeploymentConfig(dir)).toThrow(/deployment-config\.json sets 'TABLE_NAME'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
