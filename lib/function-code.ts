/**
 * The code of each function, bundled locally (no Docker) with the project's esbuild options
 * (lib/bundling.ts, the same the cold-start benchmark measures) by scripts/bundle-function.ts.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { AssetHashType, DockerImage, aws_lambda as lambda } from 'aws-cdk-lib';

const REPO_ROOT = path.join(__dirname, '..');

export function functionCode(entry: string): lambda.Code {
  return lambda.Code.fromAsset(path.join(REPO_ROOT, 'functions'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim'),
      // Part of the bundling cache key: each entry point is a different bundle.
      environment: { MREG_FUNCTION_ENTRY: entry },
      local: {
        tryBundle(outputDir: string) {
          execFileSync(
            process.execPath,
            [
              path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
              path.join(REPO_ROOT, 'scripts', 'bundle-function.ts'),
              path.join(REPO_ROOT, entry),
              outputDir,
            ],
            { cwd: REPO_ROOT, stdio: 'inherit' },
          );
          return true;
        },
      },
    },
  });
}
