/**
 * `mreg`, the registry's command-line client (bundled to dist/mreg.js by scripts/build-cli.ts).
 *
 * Exit codes: 0 ok (also when the reader of stdout goes away early, as with `mreg … | head`) ·
 * 1 the registry refused the request (4xx) · 2 usage error (also an AWS profile that does not
 * exist) · 3 artifact verification failed · 4 registry unreachable or server error (5xx, network).
 */
import { CommanderError } from 'commander';
import {
  ArtifactVerificationError,
  ProfileNotFoundError,
  RegistryApiError,
  RegistryNetworkError,
  TransferError,
} from '../sdk';
import { UsageError } from './options';
import { buildProgram } from './program';

export const EXIT = { ok: 0, refused: 1, usage: 2, verification: 3, unavailable: 4 } as const;

/** The exit code and the one-line message for an error. */
export function describeFailure(err: unknown): { code: number; message: string } {
  if (err instanceof UsageError) return { code: EXIT.usage, message: err.message };
  if (err instanceof ProfileNotFoundError) {
    return {
      code: EXIT.usage,
      message:
        `${err.message} Against a local registry, you can instead drop --profile and name yourself with ` +
        `AWS_ACCESS_KEY_ID=${err.profile} AWS_SECRET_ACCESS_KEY=any (local mode takes the caller from the access key id).`,
    };
  }
  if (err instanceof ArtifactVerificationError) return { code: EXIT.verification, message: err.message };
  if (err instanceof RegistryApiError) {
    const requestId = err.requestId ? `, request id ${err.requestId}` : '';
    return {
      code: err.status >= 500 ? EXIT.unavailable : EXIT.refused,
      message: `${err.message} (${err.errorCode}, HTTP ${err.status}${requestId})`,
    };
  }
  if (err instanceof RegistryNetworkError) return { code: EXIT.unavailable, message: err.message };
  if (err instanceof TransferError) {
    return { code: err.status >= 500 ? EXIT.unavailable : EXIT.refused, message: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: EXIT.refused, message: message.split('\n')[0]! };
}

/**
 * A reader that stops early (`mreg openapi | head`) closes the pipe; the next write fails with
 * EPIPE. That is not a failure of the command: exit at once, quietly, with 0.
 */
function exitQuietlyWhenReaderLeaves(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    if (stream !== process.stderr) process.stderr.write(`mreg: cannot write the output: ${err.message}\n`);
    process.exit(EXIT.refused);
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  exitQuietlyWhenReaderLeaves(process.stdout);
  exitQuietlyWhenReaderLeaves(process.stderr);
  // The notice the AWS SDK prints on Node 20 is noise on a CLI's stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message (or the help, or the version) already; help and version
      // (also `mreg help COMMAND`) end with exit code 0, mistakes with 1.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { code, message } = describeFailure(err);
    process.stderr.write(`mreg: ${message}\n`);
    return code;
  }
}

if (require.main === module) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`mreg: ${(err as Error)?.stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
