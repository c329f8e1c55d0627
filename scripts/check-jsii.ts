/**
 * Checks that the construct library's API (lib/index.ts) can be used from every language jsii
 * targets (Python, Java, .NET, Go): jsii compiles it in a staged copy of the package (lib/ and
 * functions/, which lib/ imports, with this repository's node_modules) and reports any type it
 * cannot represent (`readonly T[]`, maps keyed by a union, ...). It emits no package.
 *
 *   npm run check:jsii
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

export interface JsiiResult {
  readonly ok: boolean;
  /** jsii's diagnostics (errors and warnings), as it prints them. */
  readonly output: string;
}

export function checkJsii(): JsiiResult {
  const dir = mkdtempSync(join(tmpdir(), 'registry-jsii-'));
  try {
    // lib/ and what it imports; jsii compiles every file of the package, the read handler's
    // OpenAPI document included.
    for (const part of ['lib', 'functions', 'docs/openapi.json']) {
      cpSync(join(ROOT, part), join(dir, part), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const pkg = JSON.parse(require('node:fs').readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
      license: string;
      devDependencies: Record<string, string>;
    };
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: pkg.name,
        version: pkg.version,
        license: pkg.license,
        author: { name: 'Serverless Model Registry contributors', organization: false },
        repository: {
          type: 'git',
          url: 'https://github.com/serverless-model-registry/serverless-model-registry.git',
        },
        main: 'lib/index.js',
        types: 'lib/index.d.ts',
        peerDependencies: {
          'aws-cdk-lib': pkg.devDependencies['aws-cdk-lib'],
          constructs: pkg.devDependencies.constructs,
        },
        devDependencies: {
          'aws-cdk-lib': pkg.devDependencies['aws-cdk-lib'],
          constructs: pkg.devDependencies.constructs,
        },
        jsii: { outdir: 'dist', targets: {} },
      }),
    );
    writeFileSync(join(dir, 'README.md'), '# Serverless Model Registry\n');
    const run = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'jsii', 'bin', 'jsii'), dir], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        JSII_SUPPRESS_UPGRADE_PROMPT: '1',
        JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1',
      },
    });
    const output = `${run.stdout}${run.stderr}`
      .split('\n')
      // jsii's banner about the Node version on this machine says nothing about the API.
      .filter((line) => !line.startsWith('!!'))
      .join('\n')
      .replaceAll(dir, '<package>');
    return { ok: run.status === 0, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const result = checkJsii();
  console.log(result.output.trim());
  if (!result.ok) process.exit(1);
  console.log('jsii: the construct API is usable from every jsii language.');
}
