/**
 * The documentation's examples are tests: every shell and TypeScript example of README.md and
 * docs/cli-and-sdk.md runs, in order, as written, against a local registry started here (one per
 * document). What the examples assume of the reader's machine is made here, in a scratch
 * directory: `mreg` on the PATH (as after `npm install -g` of the CLI package), the SDK package
 * resolvable from the scratch project, a `./model/` directory to register, a home directory (the
 * README's own example writes the approver's AWS profile into it; docs/cli-and-sdk.md refers to
 * it, so the test writes it there). The one change to the text is the endpoint: the examples'
 * `http://127.0.0.1:5000` (the `npm start` default) becomes the test registry's URL.
 *
 * Not run, and checked to be exactly these: the README's set-up (`npm start`, `npm test`: this is
 * `npm test`), the packaging commands (test/packages/pack.test.ts runs them), `npm start` with a
 * switch (a server that runs until stopped; test/local/start.test.ts runs `npm start`), and the
 * deployment (`npx cdk …`: an AWS account).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRegistry } from '../../local/registry';
import { buildCli } from '../../scripts/build-cli';
import { localRegistry } from '../support/engines';

const ROOT = join(__dirname, '..', '..');
const DEFAULT_ENDPOINT = 'http://127.0.0.1:5000';

interface Example {
  readonly doc: string;
  readonly line: number;
  readonly lang: 'sh' | 'ts';
  readonly code: string;
}

/** The fenced shell and TypeScript blocks of a Markdown file, in order. */
function examples(doc: string): Example[] {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  const found: Example[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (const m of text.matchAll(fence)) {
    const lang = m[1]!.toLowerCase();
    const kind = ['bash', 'sh', 'shell'].includes(lang)
      ? 'sh'
      : ['ts', 'typescript'].includes(lang)
        ? 'ts'
        : undefined;
    if (!kind) continue;
    found.push({ doc, line: text.slice(0, m.index).split('\n').length, lang: kind, code: m[2]! });
  }
  return found;
}

const commands = (code: string) =>
  code
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l && !l.startsWith('#'));

/** Why an example is not run here, or undefined when it is. */
function notRun(example: Example): string | undefined {
  if (example.lang !== 'sh') return undefined;
  const cmds = commands(example.code);
  if (cmds.join('\n') === 'npm start\nnpm test') return 'the set-up: this test is part of npm test';
  if (cmds.some((c) => c.startsWith('npm pack ')))
    return 'packaging: test/packages/pack.test.ts packs and installs both packages';
  if (cmds.every((c) => c.startsWith('npx cdk '))) return 'deployment: needs an AWS account';
  if (cmds.every((c) => c.startsWith('npm run smoke ')))
    return 'the smoke test of a deployment: test/integration/smoke.test.ts runs it against a local registry';
  if (cmds.every((c) => c.startsWith('npm start')))
    return 'another way to start the registry: a server that runs until stopped';
  return undefined;
}

let scratch: string;
let cliPath: string;
let sdkExports: string[];
const registries: LocalRegistry[] = [];

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  // Asynchronous: the registry answers from this process.
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { cwd, env, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\nstdout:\n${stdout}\nstderr:\n${stderr}`)) : resolve(stdout),
    ),
  );
}

/** A scratch project for one document: its own home, model files, mreg and the SDK package. */
function workspace(name: string, url: string): { cwd: string; env: NodeJS.ProcessEnv } {
  const cwd = join(scratch, name);
  const home = join(cwd, 'home');
  const bin = join(cwd, 'bin');
  mkdirSync(join(cwd, 'model'), { recursive: true });
  mkdirSync(home);
  mkdirSync(bin);
  writeFileSync(join(cwd, 'model', 'weights.bin'), Buffer.alloc(200_000, 7));
  writeFileSync(join(cwd, 'model', 'config.json'), JSON.stringify({ layers: 3 }));
  writeFileSync(join(bin, 'mreg'), `#!/bin/sh\nexec "${process.execPath}" "${cliPath}" "$@"\n`, {
    mode: 0o755,
  });
  // The SDK package, as `npm install` would make it resolvable: an ES module of the SDK's exports
  // (its sources, loaded through tsx).
  const sdk = join(cwd, 'node_modules', '@serverless-model-registry', 'sdk');
  mkdirSync(sdk, { recursive: true });
  writeFileSync(
    join(sdk, 'package.json'),
    JSON.stringify({ name: '@serverless-model-registry/sdk', type: 'module', main: 'index.mjs' }),
  );
  writeFileSync(
    join(sdk, 'index.mjs'),
    [
      "import { createRequire } from 'node:module';",
      `const sdk = createRequire(import.meta.url)(${JSON.stringify(join(ROOT, 'sdk', 'index.ts'))});`,
      `export const { ${sdkExports.join(', ')} } = sdk;`,
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:${process.env.PATH}`,
    HOME: home,
    MREG_ENDPOINT: url,
    TZ: 'UTC',
    AWS_EC2_METADATA_DISABLED: 'true',
    NODE_NO_WARNINGS: '1',
  };
  return { cwd, env };
}

async function runExample(example: Example, url: string, cwd: string, env: NodeJS.ProcessEnv, n: number) {
  const code = example.code.replaceAll(DEFAULT_ENDPOINT, url);
  if (example.lang === 'sh') return run('bash', ['-e', '-o', 'pipefail', '-c', code], cwd, env);
  const file = join(cwd, `example-${n}.mts`);
  writeFileSync(file, code);
  return run(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), file], cwd, env);
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'mreg-examples-'));
  cliPath = join(scratch, 'mreg.js');
  await buildCli(cliPath);
  sdkExports = Object.keys(await import('../../sdk/index')).filter(
    (k) => k !== 'default' && k !== '__esModule',
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(registries.map((r) => r.stop()));
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the examples of README.md', () => {
  it('are the two commands of the set-up, the packaging and deployment (not run here), and the rest runs', async () => {
    const all = examples('README.md');
    const skipped = all.map((e) => notRun(e)).filter(Boolean);
    expect(skipped).toEqual([
      'the set-up: this test is part of npm test',
      'packaging: test/packages/pack.test.ts packs and installs both packages',
      'another way to start the registry: a server that runs until stopped',
      'deployment: needs an AWS account',
      'the smoke test of a deployment: test/integration/smoke.test.ts runs it against a local registry',
    ]);
    const registry = await localRegistry();
    registries.push(registry);
    const { cwd, env } = workspace('readme', registry.url);
    const outputs: string[] = [];
    for (const [n, example] of all.entries()) {
      if (notRun(example)) continue;
      try {
        outputs.push(await runExample(example, registry.url, cwd, env, n));
      } catch (err) {
        throw new Error(`README.md, the example at line ${example.line}: ${(err as Error).message}`);
      }
    }
    const text = outputs.join('\n');
    // The curl walk-through: no request failed.
    expect(text).not.toMatch(/"error_code"/);
    // The CLI walk-through ends with version 1 back in Production (rollback), approved by `approver`.
    const churn: any = await (await fetch(`${registry.url}/models/churn/versions/1`)).json();
    expect(churn.model_version.current_stage).toBe('Production');
    const audit = JSON.stringify(
      await (await fetch(`${registry.url}/models/churn/audit?max_results=200`)).json(),
    );
    expect(audit).toContain('user/approver');
    expect(readFileSync(join(cwd, 'out', 'weights.bin')).length).toBe(200_000);
    expect(readFileSync(join(cwd, 'recommender', 'weights.bin')).length).toBe(200_000);
  }, 300_000);
});

describe('the examples of docs/cli-and-sdk.md', () => {
  it('all run', async () => {
    const all = examples('docs/cli-and-sdk.md');
    expect(all.filter((e) => notRun(e))).toEqual([]);
    const registry = await localRegistry();
    registries.push(registry);
    const { cwd, env } = workspace('cli-and-sdk', registry.url);
    mkdirSync(join(env.HOME!, '.aws'));
    writeFileSync(
      join(env.HOME!, '.aws', 'credentials'),
      '[approver]\naws_access_key_id = approver\naws_secret_access_key = local-mode-does-not-check-it\n',
    );
    const outputs: string[] = [];
    for (const [n, example] of all.entries()) {
      try {
        outputs.push(await runExample(example, registry.url, cwd, env, n));
      } catch (err) {
        throw new Error(
          `docs/cli-and-sdk.md, the example at line ${example.line}: ${(err as Error).message}`,
        );
      }
    }
    expect(JSON.parse(readFileSync(join(cwd, 'models.json'), 'utf8')).registered_models[0].name).toBe(
      'churn',
    );
    expect(outputs.join('\n')).toContain('RESOURCE_DOES_NOT_EXIST');
    const ranker: any = await (await fetch(`${registry.url}/models/ranker/versions/1`)).json();
    expect(ranker.model_version.aliases).toContain('challenger');
  }, 300_000);
});
