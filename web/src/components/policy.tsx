/**
 * A model's governance policy: the effective policy (which fields this model overrides), an
 * editor (PUT /models/{name}/policy: applied at once, or — when it weakens the policy — filed as a
 * policy change request that others approve), and the pending policy change requests.
 */
import { useState } from 'preact/hooks';
import type { GovernancePolicy, ModelCardSection, PolicyChangeRequest, Stage } from '../../../sdk/types';
import { useResource } from '../hooks';
import { useSession } from '../session';
import { ErrorNotice, Loading, Notice, Principal, Time } from './ui';

type Key = keyof GovernancePolicy;

const LABELS: Record<Key, string> = {
  guarded_stages: 'Stages that need approval',
  protected_aliases: 'Protected aliases',
  required_approvals: 'Approvals required',
  requester_may_approve: 'Requester may approve',
  request_ttl_hours: 'Requests expire after (hours)',
  protect_live_versions: 'Live versions protected from deletion',
  quality_gates: 'Quality gates',
  required_card_sections: 'Model card sections required',
  rollback_requires_gates: 'Rollback checks the quality gates',
  policy_changes_need_approval: 'Weakening changes need approval',
};
const KEYS = Object.keys(LABELS) as Key[];
const GUARDABLE: Stage[] = ['Staging', 'Production', 'Archived'];
/** The model card's sections (functions/domain/model-card.ts), as the policy editor offers them. */
const CARD_SECTIONS: Record<ModelCardSection, string> = {
  model_details: 'Model details',
  intended_use: 'Intended use',
  training_data: 'Training data',
  evaluation_data: 'Evaluation data',
  metrics: 'Metrics',
  limitations: 'Limitations',
  known_failure_modes: 'Known failure modes',
  ethical_considerations: 'Ethical considerations',
  caveats: 'Caveats',
};
const SECTION_KEYS = Object.keys(CARD_SECTIONS) as ModelCardSection[];

function show(key: Key, policy: GovernancePolicy): string {
  const value = policy[key];
  if (Array.isArray(value)) {
    if (!value.length) return 'none';
    return key === 'protected_aliases' ? value.map((a) => `@${a}`).join(', ') : value.join(', ');
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const list = (text: string) =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim().replace(/^@/, ''))
    .filter(Boolean);

export function PolicyPanel({ name }: { name: string }) {
  const { api } = useSession();
  const policy = useResource(() => api.getPolicy(name), [api, name]);
  const pending = useResource(() => api.policyRequests(name, { status: 'PENDING' }), [api, name]);
  const [editing, setEditing] = useState(false);
  const [outcome, setOutcome] = useState<{ applied: true } | { request: PolicyChangeRequest }>();

  if (policy.loading) return <Loading what="the policy" />;
  if (policy.error || !policy.data) return <ErrorNotice error={policy.error} />;
  const { effective, override } = policy.data;

  return (
    <div>
      {outcome && 'applied' in outcome && <Notice>The policy change was applied.</Notice>}
      {outcome && 'request' in outcome && <PolicyRequestFiled request={outcome.request} />}
      {editing ? (
        <PolicyEditor
          effective={effective}
          override={override ?? {}}
          onCancel={() => setEditing(false)}
          onSubmit={async (next, comment) => {
            const { status, body } = await api.setPolicy(name, next, comment);
            // The policy as it now is comes with the notice, never the one it replaced.
            await Promise.all([policy.reload(), pending.reload()]);
            setEditing(false);
            setOutcome(
              status === 202 && body.policy_request ? { request: body.policy_request } : { applied: true },
            );
          }}
        />
      ) : (
        <>
          <dl class="pairs">
            {KEYS.map((key) => (
              <div key={key}>
                <dt>{LABELS[key]}</dt>
                <dd>
                  {show(key, effective)}
                  {override && key in override && <span class="tag">this model</span>}
                </dd>
              </div>
            ))}
          </dl>
          <p class="muted small">Fields marked “this model” override the deployment's policy.</p>
          <button
            type="button"
            onClick={() => {
              setOutcome(undefined);
              setEditing(true);
            }}
          >
            Edit policy
          </button>
        </>
      )}
      {pending.data?.policy_requests.length ? (
        <section>
          <h3>Pending policy changes</h3>
          <ul class="plain">
            {pending.data.policy_requests.map((r) => (
              <li key={r.id}>
                <span class="mono">{r.id}</span> by <Principal arn={r.requester} />,{' '}
                <Time ms={r.creation_timestamp} />: {r.weakenings.join('; ')} ({r.approvals.length} of{' '}
                {r.required_approvals} approvals)
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}

function PolicyRequestFiled({ request }: { request: PolicyChangeRequest }) {
  return (
    // biome-ignore lint/a11y/useSemanticElements: the notice holds paragraphs, which <output> may not
    <div class="notice notice-pending" role="status">
      <p class="notice-title">The change waits for approval</p>
      <p>
        It weakens the policy ({request.weakenings.join('; ')}), so it was filed as policy change request{' '}
        <span class="mono">{request.id}</span>: it applies once {request.required_approvals} other policy{' '}
        {request.required_approvals === 1 ? 'admin approves' : 'admins approve'} it, before{' '}
        <Time ms={request.expiration_timestamp} />.
      </p>
    </div>
  );
}

function PolicyEditor({
  effective,
  override,
  onSubmit,
  onCancel,
}: {
  effective: GovernancePolicy;
  override: Partial<GovernancePolicy>;
  onSubmit: (next: Partial<GovernancePolicy>, comment: string) => Promise<void>;
  onCancel: () => void;
}) {
  const [draft, setDraft] = useState<GovernancePolicy>(effective);
  const [aliases, setAliases] = useState(effective.protected_aliases.join(', '));
  const [gates, setGates] = useState(effective.quality_gates.join('\n'));
  const [comment, setComment] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const set = <K extends Key>(key: K, value: GovernancePolicy[K]) => setDraft({ ...draft, [key]: value });
  const flag = (
    key:
      | 'requester_may_approve'
      | 'protect_live_versions'
      | 'rollback_requires_gates'
      | 'policy_changes_need_approval',
  ) => (
    <label class="check">
      <input type="checkbox" checked={draft[key]} onChange={(e) => set(key, e.currentTarget.checked)} />
      {LABELS[key]}
    </label>
  );

  return (
    <form
      aria-label="Edit the policy"
      onSubmit={async (event) => {
        event.preventDefault();
        const full: GovernancePolicy = {
          ...draft,
          protected_aliases: list(aliases),
          quality_gates: gates
            .split('\n')
            .map((g) => g.trim())
            .filter(Boolean),
        };
        // The new override: the fields this model already overrides, and every field changed here.
        const next: Partial<GovernancePolicy> = {};
        for (const key of KEYS) {
          if (key in override || !same(full[key], effective[key])) Object.assign(next, { [key]: full[key] });
        }
        if (KEYS.every((key) => same(full[key], effective[key]))) {
          setError(new Error('Nothing changed.'));
          return;
        }
        setBusy(true);
        setError(undefined);
        try {
          await onSubmit(next, comment.trim());
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <fieldset>
        <legend>{LABELS.guarded_stages}</legend>
        {GUARDABLE.map((stage) => (
          <label class="check" key={stage}>
            <input
              type="checkbox"
              checked={draft.guarded_stages.includes(stage)}
              onChange={(e) =>
                set(
                  'guarded_stages',
                  e.currentTarget.checked
                    ? [...draft.guarded_stages, stage]
                    : draft.guarded_stages.filter((s) => s !== stage),
                )
              }
            />
            {stage}
          </label>
        ))}
      </fieldset>
      <label class="field">
        {LABELS.protected_aliases} (comma separated)
        <input type="text" value={aliases} onInput={(e) => setAliases(e.currentTarget.value)} />
      </label>
      <label class="field">
        {LABELS.required_approvals}
        <input
          type="number"
          min={1}
          max={10}
          value={draft.required_approvals}
          onInput={(e) => set('required_approvals', Number(e.currentTarget.value))}
        />
      </label>
      <label class="field">
        {LABELS.request_ttl_hours}
        <input
          type="number"
          min={1}
          value={draft.request_ttl_hours}
          onInput={(e) => set('request_ttl_hours', Number(e.currentTarget.value))}
        />
      </label>
      <label class="field">
        {LABELS.quality_gates} (one per line, e.g. accuracy &gt;= 0.9)
        <textarea rows={3} value={gates} onInput={(e) => setGates(e.currentTarget.value)} />
      </label>
      <fieldset>
        <legend>{LABELS.required_card_sections}</legend>
        {SECTION_KEYS.map((section) => (
          <label class="check" key={section}>
            <input
              type="checkbox"
              checked={draft.required_card_sections.includes(section)}
              onChange={(e) =>
                set(
                  'required_card_sections',
                  SECTION_KEYS.filter((s) =>
                    s === section ? e.currentTarget.checked : draft.required_card_sections.includes(s),
                  ),
                )
              }
            />
            {CARD_SECTIONS[section]}
          </label>
        ))}
      </fieldset>
      {flag('requester_may_approve')}
      {flag('protect_live_versions')}
      {flag('rollback_requires_gates')}
      {flag('policy_changes_need_approval')}
      <label class="field">
        Why (recorded in the audit log)
        <input type="text" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
      </label>
      {error !== undefined && <ErrorNotice error={error} title="The policy was not changed" />}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Save policy
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
