/**
 * The packages as a user outside the repository gets them: `npm pack` of packages/sdk,
 * packages/cli and packages/construct, installed from the tarballs into a scratch project in a
 * temporary directory (npm's cache first), type-checked with `tsc --init`'s defaults, with `module: nodenext` (library checks
 * on) and with the classic CommonJS settings, then run against a local registry: the SDK from an
 * ES module and from a CommonJS module in Node, its browser build in Chromium (SigV4 with the
 * credentials the page supplies), and `mreg` installed with `npm install -g`; the construct
 * library installed with its peers (aws-cdk-lib, constructs) and synthesized in a CDK app.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRegistry } from '../../local/registry';
import { CHROMIUM_PATH, launchChromium } from '../support/browser';
import { localRegistry } from '../support/engines';

const ROOT = join(__dirname, '..', '..');
const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const SDK = '@serverless-model-registry/sdk';
const CONSTRUCT = '@serverless-model-registry/cdk';

const npmEnv: NodeJS.ProcessEnv = {
  ...process.env,
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};
// Set by `npm test`/`npm run`: they would leak the repository's npm settings into the scratch project.
for (const key of Object.keys(npmEnv))
  if (key.startsWith('npm_package_') || key === 'npm_config_prefix') delete npmEnv[key];

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = npmEnv): string {
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`,
    );
  }
}

/**
 * For commands that call the local registry: it runs in this process, so they must not block it
 * (execFileSync would deadlock).
 */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = npmEnv): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { cwd, env, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')} failed:\n${stdout}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

let scratch: string;
let registry: LocalRegistry;
let sdkTarball: string;
let cliTarball: string;
let constructTarball: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'mreg-pack-'));
  const packs = join(scratch, 'packs');
  mkdirSync(packs);
  // `npm pack` runs each package's prepack (scripts/build-packages.ts).
  for (const dir of ['sdk', 'cli', 'construct']) {
    const out = JSON.parse(
      sh('npm', ['pack', '--json', '--pack-destination', packs], join(ROOT, 'packages', dir)),
    );
    const file = join(packs, out[0].filename);
    if (dir === 'sdk') sdkTarball = file;
    else if (dir === 'cli') cliTarball = file;
    else constructTarball = file;
  }
  const app = join(scratch, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'commonjs' }),
  );
  sh(
    'npm',
    [
      'install',
      '--prefer-offline',
      sdkTarball,
      `typescript@${rootPkg.devDependencies.typescript}`,
      `@types/node@${rootPkg.devDependencies['@types/node']}`,
    ],
    app,
  );
  sh('npm', ['install', '-g', '--prefer-offline', '--prefix', join(scratch, 'global'), cliTarball], scratch);
  const cdkApp = join(scratch, 'cdk-app');
  mkdirSync(cdkApp);
  writeFileSync(
    join(cdkApp, 'package.json'),
    JSON.stringify({ name: 'cdk-consumer', private: true, type: 'commonjs' }),
  );
  sh(
    'npm',
    [
      'install',
      '--prefer-offline',
      constructTarball,
      `aws-cdk-lib@${rootPkg.devDependencies['aws-cdk-lib']}`,
      `constructs@${rootPkg.devDependencies.constructs}`,
      `typescript@${rootPkg.devDependencies.typescript}`,
      `@types/node@${rootPkg.devDependencies['@types/node']}`,
    ],
    cdkApp,
  );
  registry = await localRegistry();
}, 360_000);

afterAll(async () => {
  await registry?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the SDK package', () => {
  it('ships compiled JavaScript and declarations, nothing of the server, and pins what the repository pins', () => {
    const files = sh('tar', ['-tzf', sdkTarball], scratch).trim().split('\n').sort();
    expect(files).toContain('package/dist/index.mjs');
    expect(files).toContain('package/dist/index.cjs');
    expect(files).toContain('package/dist/browser.mjs');
    expect(files).toContain('package/dist/types/sdk/index.d.ts');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', 'sdk', 'package.json'), 'utf8'));
    const installed = join(scratch, 'app', 'node_modules', SDK, 'dist');
    for (const file of ['index.mjs', 'index.cjs', 'browser.mjs']) {
      const js = readFileSync(join(installed, file), 'utf8');
      expect(js).not.toMatch(/(from |require\()["'][./]*(functions|sdk)\/|(from |require\()["']zod["']/);
    }
    const browser = readFileSync(join(installed, 'browser.mjs'), 'utf8');
    expect(browser).not.toMatch(/from ["']node:|require\(|from ["']@/); // self-contained, no Node built-ins
    for (const [name, version] of Object.entries(pkg.dependencies as Record<string, string>)) {
      const pinned = rootPkg.dependencies[name] ?? rootPkg.devDependencies[name];
      const actual = JSON.parse(
        readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'),
      ).version;
      expect(version, name).toBe(pinned ?? actual);
    }
  });

  it('type-checks a consumer with tsc --init defaults, module nodenext and classic CommonJS, and runs it', async () => {
    const app = join(scratch, 'app');
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    const esm = `import { RegistryApiError, RegistryClient, type ModelVersion, type RegisteredModel } from '${SDK}';

const client = new RegistryClient({ endpoint: '${registry.url}', maxAttempts: 1 });
const model: RegisteredModel = await client.createRegisteredModel('pack-esm', { description: 'from a package' });
const created = await client.createModelVersion('pack-esm', { source: 's3://bucket/model/', metrics: { auc: 0.9 } });
const version: ModelVersion = created.model_version;
let notFound = '';
try {
  await client.getRegisteredModel('nope');
} catch (err) {
  if (err instanceof RegistryApiError && err.isNotFound()) notFound = err.errorCode;
}
console.log(JSON.stringify({ name: model.name, version: version.version, stage: version.current_stage, notFound }));
`;
    const cjs = `import sdk = require('${SDK}');

async function main(): Promise<void> {
  const client = new sdk.RegistryClient({
    endpoint: '${registry.url}',
    credentials: async () => ({ accessKeyId: 'carol', secretAccessKey: 'x' }),
  });
  const model: sdk.RegisteredModel = await client.createRegisteredModel('pack-cjs');
  const page: sdk.RegisteredModelsPage = await client.searchRegisteredModels({ filter: "name = 'pack-cjs'" });
  console.log(JSON.stringify({ name: model.name, found: page.registered_models.length }));
}
void main();
`;
    writeFileSync(join(app, 'esm.mts'), esm);
    writeFileSync(join(app, 'cjs.cts'), cjs);
    rmSync(join(app, 'tsconfig.json'), { force: true });
    sh(process.execPath, [tsc, '--init'], app);
    // `tsc --init`'s defaults as written (module nodenext, strict, exactOptionalPropertyTypes, …).
    sh(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    // module nodenext with every declaration checked, the SDK's and its dependencies' included.
    writeFileSync(
      join(app, 'tsconfig.nodenext.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2022',
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: ['node'],
        },
        files: ['esm.mts', 'cjs.cts'],
      }),
    );
    sh(process.execPath, [tsc, '-p', 'tsconfig.nodenext.json'], app);
    // The classic settings: CommonJS, node10 resolution (the package's top-level `types`).
    writeFileSync(
      join(app, 'classic.ts'),
      cjs.replace("'pack-cjs'", "'pack-classic'").replace("'pack-cjs'", "'pack-classic'"),
    );
    writeFileSync(
      join(app, 'tsconfig.classic.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'commonjs',
          moduleResolution: 'node',
          target: 'es2020',
          strict: true,
          esModuleInterop: true,
          types: ['node'],
          noEmit: true,
        },
        files: ['classic.ts'],
      }),
    );
    sh(process.execPath, [tsc, '-p', 'tsconfig.classic.json'], app);

    expect(JSON.parse(await run(process.execPath, ['esm.mjs'], app))).toEqual({
      name: 'pack-esm',
      version: 1,
      stage: 'None',
      notFound: 'RESOURCE_DOES_NOT_EXIST',
    });
    expect(JSON.parse(await run(process.execPath, ['cjs.cjs'], app))).toEqual({ name: 'pack-cjs', found: 1 });
  });

  it.skipIf(!existsSync(CHROMIUM_PATH))(
    'runs in a browser: fetch and SigV4 with the credentials the page supplies',
    async () => {
      const bundle = readFileSync(join(scratch, 'app', 'node_modules', SDK, 'dist', 'browser.mjs'), 'utf8');
      const browser = await launchChromium();
      try {
        const context = await browser.newContext();
        const page = await context.newPage();
        // The page is served from the registry's origin (so no CORS is involved); the SDK is the package's browser build.
        const script = `
        import { RegistryClient } from '/__sdk/browser.mjs';
        const client = new RegistryClient({
          endpoint: location.origin,
          region: 'eu-west-1',
          credentials: async () => ({ accessKeyId: 'dana', secretAccessKey: 'secret', sessionToken: 'token' }),
        });
        try {
          const model = await client.createRegisteredModel('pack-browser', { tags: { from: 'browser' } });
          const upload = await client.uploadModel('pack-browser', './model').then(() => '', (e) => e.message);
          window.result = { name: model.name, upload };
        } catch (e) {
          window.result = { error: String(e) };
        }`;
        await page.route(`${registry.url}/__sdk/**`, (route) => {
          const isModule = route.request().url().endsWith('.mjs');
          return route.fulfill({
            contentType: isModule ? 'text/javascript' : 'text/html',
            body: isModule
              ? bundle
              : `<!doctype html><title>sdk</title><script type="module">${script}</script>`,
          });
        });
        await page.goto(`${registry.url}/__sdk/index.html`);
        const result = (await (await page.waitForFunction('window.result')).jsonValue()) as Record<
          string,
          string
        >;
        expect(result.name).toBe('pack-browser');
        expect(result.upload).toMatch(/needs Node\.js/);
        const audit = await (await fetch(`${registry.url}/models/pack-browser/audit`)).json();
        expect(JSON.stringify(audit)).toContain('user/dana'); // local mode: the signed access key id is the caller
      } finally {
        await browser.close();
      }
    },
  );
});

describe('the CLI package', () => {
  it('installs with npm install -g from its tarball; mreg --help runs, and a command reaches the registry', async () => {
    const bin = join(scratch, 'global', 'bin', 'mreg');
    const env = {
      ...npmEnv,
      MREG_ENDPOINT: registry.url,
      AWS_ACCESS_KEY_ID: 'erin',
      AWS_SECRET_ACCESS_KEY: 'x',
    };
    const help = sh(bin, ['--help'], scratch, env);
    expect(help).toMatch(/Usage: mreg/);
    expect(sh(bin, ['--version'], scratch, env).trim()).toBe(
      JSON.parse(readFileSync(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8')).version,
    );
    const created = JSON.parse(
      await run(
        bin,
        ['models', 'create', 'pack-cli', '--description', 'via mreg', '--output', 'json'],
        scratch,
        env,
      ),
    );
    expect(created.registered_model?.name ?? created.name).toBe('pack-cli');
    const listed = JSON.parse(
      await run(bin, ['search', "name = 'pack-cli'", '--query', 'registered_models[].name'], scratch, env),
    );
    expect(listed).toEqual(['pack-cli']);
  });
});

describe('the construct package', () => {
  it('ships compiled JavaScript, declarations, the function bundles and the console, and pins what the repository pins', () => {
    const files = sh('tar', ['-tzf', constructTarball], scratch).trim().split('\n').sort();
    expect(files).toContain('package/dist/lib/index.js');
    expect(files).toContain('package/dist/lib/index.d.ts');
    expect(files).toContain('package/dist/functions/deployment/functions.js');
    expect(files).toContain('package/dist/dist/functions/read/index.js');
    expect(files).toContain('package/dist/web/dist/index.html');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', 'construct', 'package.json'), 'utf8'));
    for (const [name, version] of Object.entries({
      ...(pkg.dependencies as Record<string, string>),
      ...(pkg.peerDependencies as Record<string, string>),
    })) {
      expect(version, name).toBe(rootPkg.dependencies[name] ?? rootPkg.devDependencies[name]);
    }
  });

  it('type-checks a CDK app with tsc --init defaults (module nodenext) and synthesizes it: the functions deploy the bundled code as assets', () => {
    const app = join(scratch, 'cdk-app');
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    writeFileSync(
      join(app, 'app.mts'),
      `import { App, Stack } from 'aws-cdk-lib';
import { ModelRegistry, type ModelRegistryProps } from '${CONSTRUCT}';

const props: ModelRegistryProps = {};
const app = new App();
const registry = new ModelRegistry(new Stack(app, 'S'), 'R', props);
const assembly = app.synth();
console.log(JSON.stringify({ directory: assembly.directory, construct: registry.node.path }));
`,
    );
    rmSync(join(app, 'tsconfig.json'), { force: true });
    sh(process.execPath, [tsc, '--init'], app);
    sh(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    const out = join(app, 'cdk.out');
    const result = JSON.parse(sh(process.execPath, ['app.mjs'], app, { ...npmEnv, CDK_OUTDIR: out }));
    expect(result).toEqual({ directory: out, construct: 'S/R' });

    const template = JSON.parse(readFileSync(join(out, 'S.template.json'), 'utf8'));
    const manifest = JSON.parse(readFileSync(join(out, 'S.assets.json'), 'utf8'));
    const functions = Object.values(
      template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    ).filter((r) => r.Type === 'AWS::Lambda::Function');
    const registryFunctions = functions.filter(
      (f) =>
        (f.Properties.Runtime as string | undefined)?.startsWith('nodejs') &&
        f.Properties.Handler === 'index.handler',
    );
    expect(registryFunctions.length).toBeGreaterThanOrEqual(11);
    for (const fn of registryFunctions) {
      const code = fn.Properties.Code as { S3Key?: string; ZipFile?: string };
      expect(code.ZipFile).toBeUndefined();
      const hash = code.S3Key?.replace(/\.zip$/, '');
      const asset = manifest.files[hash ?? ''];
      expect(asset?.source?.packaging, `asset ${code.S3Key}`).toBe('zip');
      expect(existsSync(join(out, asset.source.path, 'index.js'))).toBe(true);
    }
  });
});
