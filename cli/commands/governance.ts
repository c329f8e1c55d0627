/** Governance: `requests …` (transition requests into guarded stages), `policy …` and `audit`. */
import type { Command } from 'commander';
import type { TransitionRequest } from '../../sdk';
import { client, emit, emitPages, type PageOptions, withPaging } from '../context';
import { approvalOutcome, auditTable, policyDetails, requestDetails, requestsTable } from '../format';
import {
  modelCommand,
  type RequestStatusOption,
  requestStatus,
  UsageError,
  versionQuery,
  withVersionFilter,
} from '../options';

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
    .description('transition requests across all models, newest first: by default the pending ones')
    .option('--status <status>', `requests in this status (default PENDING): ${STATUS_HELP}`, requestStatus);
  withPaging(inbox).action(async (o: { status?: RequestStatusOption } & PageOptions, cmd: Command) => {
    await emitPages(
      cmd,
      'transition_requests',
      o,
      (page) => client(cmd).listAllTransitionRequests({ status: o.status ?? 'PENDING', ...page }),
      (items) => requestsTable(items, true),
    );
  });

  const show = (cmd: Command, r: TransitionRequest, human: (r: TransitionRequest) => string) =>
    emit(cmd, { transition_request: r }, () => human(r));
  const summary = (verb: string) => (r: TransitionRequest) =>
    `${verb} request ${r.id} (${r.name} version ${r.version} → ${r.to_stage}): now ${r.status}.`;

  modelCommand(requests, 'get', 'show a transition request')
    .argument('<request-id>', 'the request id (tr-…)')
    .action(async (name: string, id: string, _o, cmd: Command) => {
      show(cmd, await client(cmd).getTransitionRequest(name, id), requestDetails);
    });

  modelCommand(requests, 'approve', 'approve a pending request')
    .argument('<request-id>', 'the request id (tr-…)')
    .option('--comment <text>', 'recorded with your approval')
    .action(async (name: string, id: string, o: { comment?: string }, cmd: Command) => {
      show(cmd, await client(cmd).approveTransitionRequest(name, id, o.comment), approvalOutcome);
    });

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
  modelCommand(policy, 'set', "override the deployment's policy for this model (null removes the overrides)")
    .argument(
      '<policy-json>',
      'JSON object of the fields to override, e.g. \'{"guarded_stages": ["Production"], "required_approvals": 2}\'',
    )
    .action(async (name: string, text: string, _o, cmd: Command) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new UsageError('The policy must be JSON: an object of fields to override, or null.');
      }
      if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
        throw new UsageError('The policy must be a JSON object or null.');
      }
      const res = await client(cmd).setGovernancePolicy(name, parsed as Record<string, never> | null);
      emit(cmd, res, () => policyDetails(res));
    });

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
