/**
 * `npx cdk synth` as a user runs it: the real CLI, cdk.json context plus a `-c` override, real
 * esbuild bundling, no AWS credentials.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../../lib/iam-actions';

const ROOT = join(__dirname, '..', '..');
/** Per-function bundle budget (cold start): 1 MiB of minified JavaScript. */
const MAX_BUNDLE_BYTES = 1024 * 1024;

const outDir = mkdtempSync(join(tmpdir(), 'registry-synth-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('AWS_') && !k.startsWith('CDK_')) env[k] = v;
  }
  return {
    ...env,
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    AWS_EC2_METADATA_DISABLED: 'true',
    // No credentials from files either.
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_CONFIG_FILE: '/dev/null',
    CI: 'true',
  };
}

describe('cdk synth', () => {
  it('synthesizes the app with bundled functions', { timeout: 120_000 }, async () => {
    const { stderr } = await promisify(execFile)(
      'npx',
      ['cdk', 'synth', '--quiet', '-o', outDir, '-c', 'modelRegistry:allowedAccountIds=["111122223333"]'],
      { cwd: ROOT, env: cleanEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 115_000 },
    ).catch((e: { code?: number; stdout?: string; stderr?: string }) => {
      throw new Error(`cdk synth exited ${e.code}\n${e.stdout}\n${e.stderr}`);
    });
    expect(stderr).not.toMatch(/\[Error at/);

    const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8'));
    const templateFile = join(outDir, `${cdkJson.context['modelRegistry:stackName']}.template.json`);
    expect(existsSync(templateFile)).toBe(true);
    const template = JSON.parse(readFileSync(templateFile, 'utf8'));

    const api = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::ApiGateway::RestApi');
    expect(JSON.stringify(api.Properties.Policy)).toContain(':iam::111122223333:root');

    const functions = Object.values<any>(template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function',
    );
    // The registry's functions and the webhook delivery function (lib/webhooks.ts).
    expect(functions).toHaveLength(FUNCTION_NAMES.length + 1);
    const sizes: string[] = [];
    for (const fn of functions) {
      const assetDir = join(outDir, fn.Metadata['aws:asset:path']);
      const bundle = join(assetDir, 'index.js');
      expect(existsSync(bundle), fn.Metadata['aws:cdk:path']).toBe(true);
      expect(existsSync(join(assetDir, 'index.js.map'))).toBe(true);
      const size = statSync(bundle).size;
      sizes.push(`${fn.Metadata['aws:cdk:path'].split('/')[2]}: ${(size / 1024).toFixed(0)} KiB`);
      expect(size, `${fn.Metadata['aws:cdk:path']}: ${size} bytes`).toBeLessThan(MAX_BUNDLE_BYTES);
    }
    console.log(`Bundle sizes (limit ${MAX_BUNDLE_BYTES / 1024} KiB):\n${sizes.join('\n')}`);

    // The state machine and the rule that starts it come out of the real synth too.
    const types = Object.values<any>(template.Resources).map((r) => r.Type);
    expect(types).toContain('AWS::StepFunctions::StateMachine');
    expect(types).toContain('AWS::Lambda::EventSourceMapping');
    expect(template.Outputs.StateMachineArn).toBeDefined();
  });
});
