/**
 * Governance: `requests …` (transition requests into guarded stages and onto protected aliases),
 * `policy …` (with its change requests), `break-glass …` and `audit`.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type {
  GovernancePolicyOverride,
  GovernancePolicyResponse,
  PolicyChangeOutcome,
  PolicyChangeRequest,
  TransitionRequest,
} from '../../sdk';
import { client, emit, emitPages, type PageOptions, withPaging } from '../context';
import {
  approvalOutcome,
  auditTable,
  policyDetails,
  policyRequestDetails,
  policyRequestsTable,
  requestDetails,
  requestsTable,
  requestTarget,
} from '../format';
import {
  modelCommand,
  positiveSeconds,
  type RequestStatusOption,
  requestStatus,
  UsageError,
  versionCommand,
  versionNumber,
  versionQuery,
  withVersionFilter,
} from '../options';

/** The inbox lists open requests only. */
function openStatus(value: string): 'PENDING' | 'APPROVED' {
  const status = value.trim().toUpperCase();
  if (status !== 'PENDING' && status !== 'APPROVED') {
    throw new InvalidArgumentError('PENDING or APPROVED (the inbox lists open requests)');
  }
  return status;
}

const STATUS_HELP = 'PENDING, APPROVED, REJECTED, EXPIRED, CANCELLED, APPLIED or FAILED (any case)';

export function registerGovernanceCommands(program: Command): void {
  const requests = program.command('requests').description('transition requests into guarded stages');

  const list = modelCommand(requests, 'list', "a model's transition requests, newest first").option(
    '--status <status>',
    `only requests in this status: ${STATUS_HELP}`,
    requestStatus,
  );
  withVersionFilter(list);
  withPaging(list).action(
    async (
      name: string,
      o: { status?: RequestStatusOption; version?: string } & PageOptions,
      cmd: Command,
    ) => {
      await emitPages(
        cmd,
        'transition_requests',
        o,
        (page) =>
          client(cmd).listTransitionRequests(name, {
            ...(o.status ? { status: o.status } : {}),
            ...versionQuery(o),
            ...page,
          }),
        (items) => requestsTable(items),
      );
    },
  );

  const inbox = requests
    .command('inbox')
    .description('requests waiting for a decision across every model (the approval inbox)')
    .option('--status <status>', 'PENDING (the default) or APPROVED (approved, being applied)', openStatus);
  withPaging(inbox).action(async (o: { status?: 'PENDING' | 'APPROVED' } & PageOptions, cmd: Command) => {
    await emitPages(
      cmd,
      'transition_requests',
      o,
      (page) => client(cmd).listOpenTransitionRequests({ status: o.status ?? 'PENDING', ...page }),
      (items) => requestsTable(items, true),
    );
  });

  const show = (cmd: Command, r: TransitionRequest, human: (r: TransitionRequest) => string) =>
    emit(cmd, { transition_request: r }, () => human(r));
  const summary = (verb: string) => (r: TransitionRequest) =>
    `${verb} request ${r.id} (${requestTarget(r)}): now ${r.status}.`;

  modelCommand(requests, 'get', 'show a transition request')
    .argument('<request-id>', 'the request id (tr-…)')
    .action(async (name: string, id: string, _o, cmd: Command) => {
      show(cmd, await client(cmd).getTransitionRequest(name, id), requestDetails);
    });

  modelCommand(
    requests,
    'approve',
    'approve a pending request; when yours completes it, wait until the change is applied',
  )
    .argument('<request-id>', 'the request id (tr-…)')
    .option('--comment <text>', 'recorded with your approval')
    .option('--no-wait', 'answer once the approval is recorded, before the change is applied')
    .option(
      '--wait-timeout <seconds>',
      'how long to wait for the change (default 120)',
      positiveSeconds('--wait-timeout'),
    )
    .action(
      async (
        name: string,
        id: string,
        o: { comment?: string; wait: boolean; waitTimeout?: number },
        cmd: Command,
      ) => {
        const c = client(cmd);
        const approved = await c.approveTransitionRequest(name, id, o.comment);
        // The approval workflow applies the change moments after the approval that completes the
        // count (after the quality gates, if they are still running): wait for it, so the next
        // command sees it, and fail when it could not be applied as approved.
        const complete =
          approved.status === 'APPROVED' ||
          (approved.status === 'PENDING' && approved.approvals.length >= approved.required_approvals);
        if (!o.wait || !complete) return show(cmd, approved, approvalOutcome);
        const decided = await c.waitForTransitionRequest(name, id, {
          timeoutMs: (o.waitTimeout ?? 120) * 1000,
        });
        show(cmd, decided, approvalOutcome);
        if (decided.status !== 'APPLIED') {
          throw new Error(
            `Request ${id} ended ${decided.status}${decided.reason ? ` (${decided.reason})` : ''}: nothing changed.`,
          );
        }
      },
    );

  modelCommand(requests, 'reject', 'reject a pending request')
    .argument('<request-id>', 'the request id (tr-…)')
    .requiredOption('--reason <text>', 'why, recorded with the request')
    .action(async (name: string, id: string, o: { reason: string }, cmd: Command) => {
      show(cmd, await client(cmd).rejectTransitionRequest(name, id, o.reason), summary('Rejected'));
    });

  modelCommand(requests, 'cancel', 'withdraw your own pending request')
    .argument('<request-id>', 'the request id (tr-…)')
    .option('--reason <text>', 'why, recorded with the request')
    .action(async (name: string, id: string, o: { reason?: string }, cmd: Command) => {
      show(cmd, await client(cmd).cancelTransitionRequest(name, id, o.reason), summary('Cancelled'));
    });

  const policy = program.command('policy').description("a model's governance policy");
  modelCommand(policy, 'get', "the effective policy and this model's overrides").action(
    async (name: string, _o, cmd: Command) => {
      const res = await client(cmd).getGovernancePolicy(name);
      emit(cmd, res, () => policyDetails(res));
    },
  );
  const showPolicyOutcome = (cmd: Command, res: PolicyChangeOutcome) =>
    emit(cmd, res, () =>
      res.policy_request
        ? `The change weakens the policy (${res.policy_request.weakenings.join('; ')}): policy change request ${res.policy_request.id} waits for ${res.policy_request.required_approvals} approval(s) by other policy admins (mreg policy requests approve ${res.policy_request.name} ${res.policy_request.id}).`
        : policyDetails(res as GovernancePolicyResponse),
    );
  modelCommand(
    policy,
    'set',
    "override the deployment's policy for this model; a change that weakens it becomes a request",
  )
    .argument(
      '<policy-json>',
      'JSON object of the fields to override, e.g. \'{"guarded_stages": ["Production"], "required_approvals": 2}\'',
    )
    .option('--comment <text>', 'why, recorded in the audit log')
    .action(async (name: string, text: string, o: { comment?: string }, cmd: Command) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new UsageError('The policy must be JSON: an object of the fields to override.');
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new UsageError(
          'The policy must be a JSON object (remove the overrides with `mreg policy delete`).',
        );
      }
      showPolicyOutcome(
        cmd,
        await client(cmd).setGovernancePolicy(name, parsed as GovernancePolicyOverride, o.comment),
      );
    });
  modelCommand(policy, 'delete', "remove this model's overrides; a request when that weakens its policy")
    .option('--comment <text>', 'why, recorded in the audit log')
    .action(async (name: string, o: { comment?: string }, cmd: Command) => {
      showPolicyOutcome(cmd, await client(cmd).deleteGovernancePolicy(name, o.comment));
    });

  const policyRequests = policy.command('requests').description('policy change requests (weakening changes)');
  const showPolicyRequest = (cmd: Command, r: PolicyChangeRequest) =>
    emit(cmd, { policy_request: r }, () => policyRequestDetails(r));
  const policyList = modelCommand(
    policyRequests,
    'list',
    "a model's policy change requests, newest first",
  ).option('--status <status>', `only requests in this status: ${STATUS_HELP}`, requestStatus);
  withPaging(policyList).action(
    async (name: string, o: { status?: RequestStatusOption } & PageOptions, cmd: Command) => {
      await emitPages(
        cmd,
        'policy_requests',
        o,
        (page) =>
          client(cmd).listPolicyChangeRequests(name, { ...(o.status ? { status: o.status } : {}), ...page }),
        policyRequestsTable,
      );
    },
  );
  modelCommand(policyRequests, 'get', 'show a policy change request')
    .argument('<request-id>', 'the request id (pr-…)')
    .action(async (name: string, id: string, _o, cmd: Command) => {
      showPolicyRequest(cmd, await client(cmd).getPolicyChangeRequest(name, id));
    });
  modelCommand(policyRequests, 'approve', 'approve a policy change request (not your own)')
    .argument('<request-id>', 'the request id (pr-…)')
    .option('--comment <text>', 'recorded with your approval')
    .action(async (name: string, id: string, o: { comment?: string }, cmd: Command) => {
      showPolicyRequest(cmd, await client(cmd).approvePolicyChangeRequest(name, id, o.comment));
    });
  modelCommand(policyRequests, 'reject', 'reject a policy change request')
    .argument('<request-id>', 'the request id (pr-…)')
    .requiredOption('--reason <text>', 'why, recorded with the request')
    .action(async (name: string, id: string, o: { reason: string }, cmd: Command) => {
      showPolicyRequest(cmd, await client(cmd).rejectPolicyChangeRequest(name, id, o.reason));
    });
  modelCommand(policyRequests, 'cancel', 'withdraw your own policy change request')
    .argument('<request-id>', 'the request id (pr-…)')
    .option('--reason <text>', 'why, recorded with the request')
    .action(async (name: string, id: string, o: { reason?: string }, cmd: Command) => {
      showPolicyRequest(cmd, await client(cmd).cancelPolicyChangeRequest(name, id, o.reason));
    });

  const breakGlass = program
    .command('break-glass')
    .description(
      'changes that bypass approval, with a reason: for a break-glass role only, recorded as such',
    );
  const reason = (cmd: Command) =>
    cmd.requiredOption('--reason <text>', 'why the request flow could not be used (required)');
  reason(versionCommand(breakGlass, 'stage', 'move a version to a stage now, bypassing the policy'))
    .requiredOption('--stage <stage>', 'the target stage')
    .option('--archive-existing', 'archive the versions now in the target stage')
    .option('--comment <text>', 'recorded with the transition')
    .action(
      async (
        name: string,
        version: string,
        o: { stage: string; reason: string; archiveExisting?: boolean; comment?: string },
        cmd: Command,
      ) => {
        const v = await client(cmd).breakGlassTransition(name, version, {
          stage: o.stage,
          reason: o.reason,
          archive_existing_versions: Boolean(o.archiveExisting),
          ...(o.comment ? { comment: o.comment } : {}),
        });
        emit(
          cmd,
          { model_version: v },
          () => `Break glass: ${name} version ${v.version} is in ${v.current_stage}.`,
        );
      },
    );
  reason(
    modelCommand(breakGlass, 'alias-set', 'point any alias (protected ones too) at a version now')
      .argument('<alias>', 'alias name')
      .argument('<version>', 'version number', versionNumber),
  ).action(async (name: string, a: string, version: string, o: { reason: string }, cmd: Command) => {
    await client(cmd).breakGlassSetAlias(name, a, version, o.reason);
    emit(cmd, {}, () => `Break glass: ${name}@${a} → version ${version}.`);
  });
  reason(
    modelCommand(breakGlass, 'alias-delete', 'delete any alias (protected ones too) now').argument(
      '<alias>',
      'alias name',
    ),
  ).action(async (name: string, a: string, o: { reason: string }, cmd: Command) => {
    await client(cmd).breakGlassDeleteAlias(name, a, o.reason);
    emit(cmd, {}, () => `Break glass: deleted ${name}@${a}.`);
  });
  reason(versionCommand(breakGlass, 'delete-version', 'delete a version even if it is live')).action(
    async (name: string, version: string, o: { reason: string }, cmd: Command) => {
      await client(cmd).breakGlassDeleteModelVersion(name, version, o.reason);
      emit(cmd, {}, () => `Break glass: deleted ${name} version ${version}.`);
    },
  );
  reason(modelCommand(breakGlass, 'delete-model', 'delete a model even if it has live versions')).action(
    async (name: string, o: { reason: string }, cmd: Command) => {
      await client(cmd).breakGlassDeleteRegisteredModel(name, o.reason);
      emit(cmd, {}, () => `Break glass: deleted ${name}.`);
    },
  );

  const audit = modelCommand(program, 'audit', "a model's audit log, newest first");
  withVersionFilter(audit);
  withPaging(audit).action(async (name: string, o: { version?: string } & PageOptions, cmd: Command) => {
    await emitPages(
      cmd,
      'entries',
      o,
      (page) => client(cmd).getAuditLog(name, { ...versionQuery(o), ...page }),
      auditTable,
    );
  });
}
