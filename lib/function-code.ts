/**
 * The code of each function: the prebuilt bundle in dist/functions/<name>/ (scripts/build-functions.ts,
 * run by `prepare`), so synthesizing a stack needs no bundler, no Docker and nothing of this
 * repository but the package itself. What a deployment configures beyond Lambda's environment
 * (`CONFIG_FILE_VARIABLES`) is written into a copy of the bundle as `DEPLOYMENT_CONFIG_FILE`.
 */
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage, aws_lambda as lambda } from 'aws-cdk-lib';
import { DEPLOYMENT_CONFIG_FILE } from '../functions/deployment/environment';
import type { FunctionName } from '../functions/deployment/functions';

/** Where the prebuilt bundles are, relative to this package. */
export const FUNCTION_ASSETS_DIR = path.join(__dirname, '..', 'dist', 'functions');

export function functionAssetDir(name: FunctionName, assetsDir: string = FUNCTION_ASSETS_DIR): string {
  const dir = path.join(assetsDir, name);
  if (!existsSync(path.join(dir, 'index.js'))) {
    throw new Error(
      `The ${name} function's bundle (${path.join(dir, 'index.js')}) is missing: build the function assets with 'npm run build:functions' (npm install runs it through 'prepare').`,
    );
  }
  return dir;
}

/**
 * The function's code: its bundle as is, or with `config` beside it (a copy made while the asset is
 * staged; the asset's hash covers both, so a configuration change deploys new code).
 */
export function functionCode(name: FunctionName, config: Readonly<Record<string, string>> = {}): lambda.Code {
  const dir = functionAssetDir(name);
  if (Object.keys(config).length === 0) return lambda.Code.fromAsset(dir);
  const json = JSON.stringify(config);
  return lambda.Code.fromAsset(dir, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Only if local staging were refused: the same copy in a container.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/busybox:stable'),
      command: [
        'sh',
        '-c',
        `cp -R /asset-input/. /asset-output/ && printf '%s' "$MREG_DEPLOYMENT_CONFIG" > /asset-output/${DEPLOYMENT_CONFIG_FILE}`,
      ],
      environment: { MREG_DEPLOYMENT_CONFIG: json },
      local: {
        tryBundle(outputDir: string) {
          cpSync(dir, outputDir, { recursive: true });
          writeFileSync(path.join(outputDir, DEPLOYMENT_CONFIG_FILE), json);
          return true;
        },
      },
    },
  });
}
