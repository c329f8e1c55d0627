/**
 * cdk-nag in tests: the acknowledgements lib/ makes, recorded while an app is built without
 * applying them, the raw findings of both packs lib/ answers (AwsSolutions, Serverless), and the
 * rule every acknowledgement must follow.
 */
import { type App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { expect, vi } from 'vitest';

export interface Acknowledgement {
  readonly path: string;
  readonly scope: IConstruct;
  readonly id: string;
  readonly reason: string;
}

/** Both rule packs' findings on an app (acknowledged ones included when none were applied). */
export const nagFindings = (app: App) =>
  [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) => pack.validateScope(app).violations);

/** Builds an app with every acknowledgement recorded instead of applied; its raw findings. */
export function recordAcknowledgements<T>(build: () => T & { app: App }) {
  const recorded: Acknowledgement[] = [];
  const spy = vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(function (
    this: any,
    ...rules
  ) {
    const scope: IConstruct = this.scope;
    for (const r of rules) recorded.push({ path: scope.node.path, scope, id: r.id, reason: r.reason });
  });
  try {
    const built = build();
    return { ...built, recorded, raw: nagFindings(built.app) };
  } finally {
    spy.mockRestore();
  }
}

/**
 * Each acknowledgement is on one resource (not a stack, not `tooWide` such as a whole construct),
 * has a written reason, and suppresses a finding cdk-nag really reports there.
 */
export function expectRealAcknowledgements(
  recorded: readonly Acknowledgement[],
  raw: ReturnType<typeof nagFindings>,
  tooWide: (scope: IConstruct) => boolean,
): void {
  for (const ack of recorded) {
    expect(Stack.isStack(ack.scope), `${ack.id} acknowledged on a whole stack`).toBe(false);
    expect(tooWide(ack.scope), `${ack.id} acknowledged on a whole construct`).toBe(false);
    expect(ack.reason.length, `${ack.id} at ${ack.path} needs a written reason`).toBeGreaterThan(40);
    const suppresses = raw.some(
      (v) =>
        v.ruleName === ack.id &&
        v.violatingResources.some(
          (r) => r.constructPath === ack.path || r.constructPath?.startsWith(`${ack.path}/`),
        ),
    );
    expect(suppresses, `${ack.id} at ${ack.path} suppresses nothing`).toBe(true);
  }
}
