/**
 * docs/events.md, generated from the event schemas (functions/domain/events.ts) so the
 * documentation cannot drift from what the publisher sends (`npm run docs:events`; a test checks
 * the committed file is fresh).
 */

import { z } from 'zod';
import { EVENT_ENTRY_BUDGET, PUT_EVENTS_ENTRY_LIMIT } from './event-size';
import { EVENT_DATA, EVENT_SCHEMA_VERSION, EVENT_SOURCE, EVENT_TYPES, eventDetailSchema } from './events';

const DESCRIPTIONS: Record<(typeof EVENT_TYPES)[number], string> = {
  RegisteredModelCreated: 'A registered model was created.',
  RegisteredModelUpdated: "A model's description changed.",
  RegisteredModelRenamed: 'A model was renamed (its versions, tags and aliases follow).',
  RegisteredModelDeleted: 'A model was deleted, with its versions, tags and aliases (its audit log stays).',
  RegisteredModelTagSet: 'A model tag was set (before is null when it is new).',
  RegisteredModelTagDeleted: 'A model tag was deleted.',
  GovernancePolicyChanged:
    "A model's governance policy overrides changed (with `request_id` and `approved_by` when an approved policy change request applied it).",
  PolicyChangeRequested:
    "A change that weakens a model's governance policy was proposed; it waits for other people's approval (`weakenings` says how it weakens it).",
  PolicyChangeApproved:
    'A policy admin approved a policy change request (one event per approval; it applies once `approvals` reaches `required_approvals`).',
  PolicyChangeClosed:
    'A policy change request ended without applying: rejected, cancelled by its requester, expired, or failed (the policy changed meanwhile).',
  ModelVersionCreated:
    'A version was registered (READY at once for an external source, PENDING_REGISTRATION while files upload).',
  ModelVersionNumberSkipped:
    'A version number was spent but its version never stored (the store refused it, or the create stopped midway); numbers are never reused, so the model has a gap there.',
  ModelVersionUpdated: "A version's description changed.",
  ModelVersionRegistrationSettled:
    'The uploaded files of a version were verified: READY, or FAILED_REGISTRATION with the reason.',
  ModelVersionTagSet: 'A version tag was set (the registry sets `quality_gate` when gates fail).',
  ModelVersionTagDeleted: 'A version tag was deleted.',
  ModelCardUpdated:
    "A version's model card was written or edited (`actor` and `person` say who). `changes` holds each changed section's before and after while they fit 64 KiB in all (in section order), and the SHA-256 digests of the sections' canonical JSON (object keys sorted) for the rest, so the event stays far below EventBridge's 256 KB. An edit that changes nothing records nothing.",
  ModelVersionStageChanged:
    'A version moved to another stage. One event per moved version: the versions archived by archive-existing get their own. `request_id` and `approved_by` are set for governed transitions, `rollback` for rollbacks, `break_glass` (with its reason) for changes through the break-glass routes. Route promotions to deployments with this event.',
  ModelVersionDeleted: 'A version was deleted (its number is never reused).',
  AliasChanged:
    'An alias was set, moved (before → after) or deleted (after is null); `request_id` and `approved_by` for a protected alias moved by an approved request, `break_glass` for the break-glass routes.',
  TransitionRequested:
    'A transition into a guarded stage (`kind: stage`) or a move of a protected alias (`kind: alias`) was requested; the approval workflow starts on this event.',
  ApprovalRequested:
    'The quality gates passed and the request waits for approval: route this to Slack or e-mail.',
  TransitionApproved:
    'An approver approved (one event per approval; the transition applies once `approvals` reaches `required_approvals`).',
  TransitionRejected:
    'A request was rejected by an approver, or by the quality gates (`quality_gate_failures`).',
  TransitionCancelled:
    'The requester withdrew a request, or a change made it moot (its version was deleted, archived or moved, or its model deleted); the reason says which.',
  TransitionExpired: 'Nobody decided before the request expired.',
  TransitionFailed:
    'An approved request could not be applied (checked again just before: its version changed, the gates or the approvals no longer satisfy the policy, the workflow failed); the reason says why. Request it again.',
  WebhookCreated:
    'A webhook was created (`detail.webhook` names it; webhooks are registry-wide, so the event has no `model`). Its secret is never recorded, and of its URL only the origin.',
  WebhookUpdated:
    'A webhook was changed (name, URL, events, status, description or secret); `before` and `after` show it, `secret_changed` tells a new secret was set.',
  WebhookDeleted: 'A webhook was deleted (its delivery log and audit log stay until they expire).',
};

const json = (schema: z.ZodType) => JSON.stringify(z.toJSONSchema(schema, { io: 'input' }), null, 2);

export function eventDocs(): string {
  const lines = [
    '# Events',
    '',
    '<!-- Generated from functions/domain/events.ts by `npm run docs:events`. Do not edit. -->',
    '',
    `Every change to the registry is published to its EventBridge bus with \`source\` = \`${EVENT_SOURCE}\`,`,
    '`detail-type` = the event type below, and a `detail` of the shape below. The event is written to the',
    'audit log in the same DynamoDB transaction as the change (the transactional outbox); a relay reads',
    "the table's stream and publishes it, so a committed change is never without its event. Delivery is",
    'at least once: dedupe on `detail.event_id`, which stays the same across redeliveries and replays.',
    '',
    '## Delivery: at least once, replayable',
    '',
    "- **Order.** The relay publishes a model's events in the order they were recorded. A record it",
    '  cannot publish after 3 tries (a few seconds apart) is sent whole (the event and its table key',
    "  `pk`/`sk`) to the relay's dead-letter queue and the relay moves on, so one bad record never",
    '  holds the stream until its 24-hour retention ends. If the dead-letter queue cannot take it either,',
    '  the batch is retried from that record by the event source mapping (whose own on-failure message',
    '  names only the stream batch).',
    '- **Replay.** `POST /events/replay` (`mreg events replay --from <time> --to <time> [--model <name>]',
    '  [--dry-run]`, for the operator role) publishes again every event recorded in a time range, of',
    '  one model or of all (deleted models too), from the audit log: the outbox is kept forever, so a',
    "  dead-lettered record, or records lost while the relay was down for longer than the stream's",
    '  24 hours, are never a permanent gap. A replayed event has its original `event_id` and',
    '  `occurred_at`; a consumer that dedupes on `event_id` sees the events it already had as',
    '  duplicates. `--dry-run` lists the events and publishes nothing.',
    `- **Size.** EventBridge refuses an entry of ${PUT_EVENTS_ENTRY_LIMIT.toLocaleString('en-US')} bytes or more, counted as the UTF-8 bytes`,
    '  of `Detail`, `DetailType`, `Source` and each of `Resources`, plus 14 for `Time`. The registry',
    `  bounds every entry to ${EVENT_ENTRY_BUDGET.toLocaleString('en-US')} bytes: an event that would be larger (a model created with`,
    '  the largest tags and description a 256 KiB body holds) is published with its largest fields',
    '  emptied (an empty value of the same type), `detail.truncated` = `true` and',
    '  `detail.truncated_fields` naming them (e.g. `["data.tags"]`). The full event is in the audit log',
    '  (`GET /models/{name}/audit`, `mreg audit`), and the model or version itself in the API.',
    '',
    `## Envelope (\`detail\`, schema version ${EVENT_SCHEMA_VERSION})`,
    '',
    '```json',
    json(eventDetailSchema),
    '```',
    '',
    '`detail.schema_version` changes only for incompatible changes; new optional fields may appear in any',
    'version. `detail.data` holds the type-specific fields below. Every event is about a model',
    '(`detail.model`), except the webhook events, which are about a webhook (`detail.webhook`): webhooks',
    "are registry-wide, and their audit entries are kept in the webhook's own partition.",
    '',
    '## Subscribing a deployment to promotions',
    '',
    'An EventBridge rule on the registry bus (or `registry.onPromotion(target)` in the CDK construct):',
    '',
    '```json',
    JSON.stringify(
      {
        source: [EVENT_SOURCE],
        'detail-type': ['ModelVersionStageChanged'],
        detail: { model: { name: ['churn-model'] }, data: { to_stage: ['Production'] } },
      },
      null,
      2,
    ),
    '```',
    '',
    '## Event types',
    '',
  ];
  for (const type of EVENT_TYPES) {
    lines.push(
      `### ${type}`,
      '',
      DESCRIPTIONS[type],
      '',
      '`detail.data`:',
      '',
      '```json',
      json(EVENT_DATA[type]),
      '```',
      '',
    );
  }
  return lines.join('\n');
}
