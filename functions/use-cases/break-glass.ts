/**
 * Break glass: changes of what a model serves that bypass the request flow — for an incident, when
 * no approver can be reached. Each is its own route and IAM action, which a deployment gives to a
 * break-glass role only; each needs a reason and is recorded as break-glass in the audit log and
 * the event (`break_glass: true`, `break_glass_reason`). No AWS SDK here.
 */
import { InvalidParameterError } from '../domain/errors';
import type { Principal } from '../domain/identity';
import type { ChangeProvenance } from '../domain/model';
import { assertAlias, assertDescription } from '../domain/rules';
import type { RegistryCore, TransitionInput, VersionView } from './core';

export class BreakGlassService {
  constructor(private readonly core: RegistryCore) {}

  private via(reason: string | undefined): ChangeProvenance {
    const text = (reason ?? '').trim();
    if (!text) {
      throw new InvalidParameterError(
        'A break-glass change needs a reason (why the request flow could not be used); it is recorded in the audit log.',
      );
    }
    assertDescription(text);
    return { kind: 'break-glass', reason: text };
  }

  async transition(
    name: string,
    version: number,
    input: TransitionInput,
    caller: Principal,
    reason: string | undefined,
  ): Promise<VersionView> {
    const via = this.via(reason);
    const model = await this.core.requireModel(name);
    return this.core.moveStage(model, version, input, caller, via);
  }

  async setAlias(
    name: string,
    alias: string,
    version: number,
    caller: Principal,
    reason: string | undefined,
  ) {
    assertAlias(alias);
    const via = this.via(reason);
    const model = await this.core.requireModel(name);
    await this.core.requireVersion(model, version);
    await this.core.pointAlias(model, alias, version, caller, via);
  }

  async deleteAlias(name: string, alias: string, caller: Principal, reason: string | undefined) {
    assertAlias(alias);
    const via = this.via(reason);
    await this.core.removeAlias(await this.core.requireModel(name), alias, caller, via);
  }

  async deleteVersion(name: string, version: number, caller: Principal, reason: string | undefined) {
    const via = this.via(reason);
    await this.core.removeVersion(await this.core.requireModel(name), version, caller, via);
  }

  async deleteModel(name: string, caller: Principal, reason: string | undefined) {
    const via = this.via(reason);
    await this.core.removeModel(await this.core.requireModel(name), caller, via);
  }
}
