/** Shared by the console's tests, its benchmark and its screenshots. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConsole } from '../../local/console';
import type { LocalRegistry } from '../../local/registry';
import { RegistryClient } from '../../sdk';

/** Builds the console into a fresh temporary directory (the caller removes it with `remove`). */
export async function buildConsoleToTemp(): Promise<{ dir: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'console-build-'));
  await buildConsole(dir);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An SDK client signing as a local identity (the access key id names the caller). */
export function clientAs(registry: LocalRegistry, who: string): RegistryClient {
  return new RegistryClient({
    endpoint: registry.url,
    region: 'us-east-1',
    credentials: async () => ({ accessKeyId: who, secretAccessKey: 'local' }),
    maxAttempts: 1,
  });
}

export const arnOf = (who: string) => `arn:aws:iam::000000000000:user/${who}`;

/**
 * Promotes a version to Production the governed way: `requester` files the request, the gates
 * run, `approver` approves, the workflow applies it.
 */
export async function promote(
  registry: LocalRegistry,
  name: string,
  version: number,
  requester: RegistryClient,
  approver: RegistryClient,
  comment = 'Promote',
): Promise<void> {
  const outcome = await requester.transitionModelVersionStage(name, version, {
    stage: 'Production',
    archive_existing_versions: true,
    comment,
  });
  const request = outcome.transition_request;
  if (!request) throw new Error('expected a transition request');
  await registry.settled();
  await approver.approveTransitionRequest(name, request.id, 'Looks good');
  await registry.settled();
}
