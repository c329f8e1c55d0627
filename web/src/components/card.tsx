/** A version's model card: shown as a document, edited as a form. */
import { useId, useState } from 'preact/hooks';
import { ApiError } from '../api/client';
import { type CardMetric, compactCard, type DataDescription, type ModelCard } from '../card';
import { formatNumber } from '../format';
import { useResource } from '../hooks';
import { useSession } from '../session';
import { ErrorNotice, Loading, Notice } from './ui';

const Text = ({ value }: { value: string | undefined }) => (value ? <p class="prose">{value}</p> : null);

function Data({ title, data }: { title: string; data: DataDescription | undefined }) {
  if (!data || !Object.values(data).some(Boolean)) return null;
  return (
    <section>
      <h4>{title}</h4>
      <dl class="pairs">
        {data.name && (
          <div>
            <dt>Name</dt>
            <dd>{data.name}</dd>
          </div>
        )}
        {data.digest && (
          <div>
            <dt>Digest</dt>
            <dd class="mono">{data.digest}</dd>
          </div>
        )}
        {data.uri && (
          <div>
            <dt>URI</dt>
            <dd class="mono">{data.uri}</dd>
          </div>
        )}
      </dl>
      <Text value={data.description} />
    </section>
  );
}

export function CardView({ card }: { card: ModelCard }) {
  const details = card.model_details;
  const use = card.intended_use;
  return (
    <div class="card-doc">
      {details && (
        <section>
          <h4>Model details</h4>
          <Text value={details.overview} />
          {details.owners?.length ? (
            <p>
              Owners:{' '}
              {details.owners.map((o, i) => (
                <span key={`${o.name}-${i}`}>
                  {i > 0 && ', '}
                  {o.name}
                  {o.contact && ` (${o.contact})`}
                </span>
              ))}
            </p>
          ) : null}
          {details.license && <p>License: {details.license}</p>}
          {details.references?.length ? (
            <ul>
              {details.references.map((r) => (
                <li key={r} class="mono">
                  {r}
                </li>
              ))}
            </ul>
          ) : null}
        </section>
      )}
      {use && (
        <section>
          <h4>Intended use</h4>
          {use.primary_uses && (
            <p class="prose">
              <strong>Primary uses.</strong> {use.primary_uses}
            </p>
          )}
          {use.primary_users && (
            <p class="prose">
              <strong>Primary users.</strong> {use.primary_users}
            </p>
          )}
          {use.out_of_scope_uses && (
            <p class="prose">
              <strong>Out of scope.</strong> {use.out_of_scope_uses}
            </p>
          )}
        </section>
      )}
      <Data title="Training data" data={card.training_data} />
      <Data title="Evaluation data" data={card.evaluation_data} />
      {card.metrics?.length ? (
        <section>
          <h4>Metrics</h4>
          <table>
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">Slice</th>
                <th scope="col" class="num">
                  Value
                </th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {card.metrics.map((m, i) => (
                <tr key={`${m.name}-${m.slice ?? ''}-${i}`}>
                  <td>{m.name}</td>
                  <td>{m.slice ?? 'overall'}</td>
                  <td class="num">{formatNumber(m.value)}</td>
                  <td>{m.description ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
      {card.limitations && (
        <section>
          <h4>Limitations</h4>
          <Text value={card.limitations} />
        </section>
      )}
      {card.known_failure_modes && (
        <section>
          <h4>Known failure modes</h4>
          <Text value={card.known_failure_modes} />
        </section>
      )}
      {card.ethical_considerations?.length ? (
        <section>
          <h4>Ethical considerations</h4>
          <dl class="pairs">
            {card.ethical_considerations.map((e, i) => (
              <div key={`${e.name}-${i}`}>
                <dt>{e.name}</dt>
                <dd>Mitigation: {e.mitigation || 'none given'}</dd>
              </div>
            ))}
          </dl>
        </section>
      ) : null}
      {card.caveats && (
        <section>
          <h4>Caveats</h4>
          <Text value={card.caveats} />
        </section>
      )}
    </div>
  );
}

/** Whether the registry has no card for the version (or serves no cards at all). */
const isMissing = (error: unknown) =>
  error instanceof ApiError &&
  (error.code === 'RESOURCE_DOES_NOT_EXIST' || error.code === 'ENDPOINT_NOT_FOUND' || error.status === 404);

/** The card of a version: fetched, shown, and editable in place. */
export function ModelCardSection({
  name,
  version,
  readOnly,
}: {
  name: string;
  version: number;
  readOnly?: boolean;
}) {
  const { api } = useSession();
  const card = useResource(async () => {
    try {
      return { card: await api.getCard(name, version) };
    } catch (error) {
      if (isMissing(error))
        return { card: undefined, unsupported: (error as ApiError).code === 'ENDPOINT_NOT_FOUND' };
      throw error;
    }
  }, [api, name, version]);
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);

  if (card.loading) return <Loading what="the model card" />;
  if (card.error) return <ErrorNotice error={card.error} />;
  const current = card.data?.card;
  if (editing) {
    return (
      <CardEditor
        initial={current ?? {}}
        onCancel={() => setEditing(false)}
        onSave={async (next) => {
          await api.putCard(name, version, next);
          // The saved card is shown with the notice, never the one it replaced.
          await card.reload();
          setEditing(false);
          setSaved(true);
        }}
      />
    );
  }
  return (
    <div>
      {saved && <Notice>Model card saved.</Notice>}
      {current && Object.keys(current).length ? <CardView card={current} /> : <p>No model card.</p>}
      {!readOnly && !card.data?.unsupported && (
        <button
          type="button"
          onClick={() => {
            setSaved(false);
            setEditing(true);
          }}
        >
          {current ? 'Edit model card' : 'Write a model card'}
        </button>
      )}
    </div>
  );
}

const shown = (value: unknown) =>
  typeof value === 'number' && !Number.isFinite(value) ? '' : String(value ?? '');

type Field<T> = { key: keyof T & string; label: string; type?: 'number' };

/** Rows of a list of objects (owners, metrics, …): one input per field, add and remove. */
function RowsEditor<T extends object>({
  legend,
  rows,
  fields,
  blank,
  onChange,
}: {
  legend: string;
  rows: T[];
  fields: Field<T>[];
  blank: T;
  onChange: (rows: T[]) => void;
}) {
  const id = useId();
  const set = (i: number, key: keyof T, value: unknown) =>
    onChange(rows.map((row, j) => (j === i ? { ...row, [key]: value } : row)));
  return (
    <fieldset>
      <legend>{legend}</legend>
      {rows.map((row, i) => (
        <div class="row-fields" key={i}>
          {fields.map((f) => {
            const input = `${id}-${i}-${f.key}`;
            const value = shown((row as Record<string, unknown>)[f.key]);
            return (
              <div class="row-field" key={f.key}>
                <label for={input}>{f.label}</label>
                {f.type === 'number' ? (
                  <input
                    id={input}
                    type="number"
                    step="any"
                    value={value}
                    onInput={(e) =>
                      set(i, f.key, e.currentTarget.value === '' ? Number.NaN : Number(e.currentTarget.value))
                    }
                  />
                ) : (
                  <input
                    id={input}
                    type="text"
                    value={value}
                    onInput={(e) => set(i, f.key, e.currentTarget.value)}
                  />
                )}
              </div>
            );
          })}
          <button type="button" onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            Remove
            <span class="visually-hidden">
              {' '}
              {legend.toLowerCase()} row {i + 1}
            </span>
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...rows, { ...blank }])}>
        Add<span class="visually-hidden"> a row to {legend.toLowerCase()}</span>
      </button>
    </fieldset>
  );
}

function TextField({
  label,
  value,
  onInput,
  long,
}: {
  label: string;
  value: string | undefined;
  onInput: (value: string) => void;
  long?: boolean;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {long ? (
        <textarea id={id} rows={3} value={value ?? ''} onInput={(e) => onInput(e.currentTarget.value)} />
      ) : (
        <input id={id} type="text" value={value ?? ''} onInput={(e) => onInput(e.currentTarget.value)} />
      )}
    </div>
  );
}

function DataFields({
  legend,
  value,
  onChange,
}: {
  legend: string;
  value: DataDescription | undefined;
  onChange: (value: DataDescription) => void;
}) {
  const data = value ?? {};
  const set = (key: keyof DataDescription) => (v: string) => onChange({ ...data, [key]: v });
  return (
    <fieldset>
      <legend>{legend}</legend>
      <TextField label="Name" value={data.name} onInput={set('name')} />
      <TextField label="Digest" value={data.digest} onInput={set('digest')} />
      <TextField label="URI" value={data.uri} onInput={set('uri')} />
      <TextField label="Description" value={data.description} onInput={set('description')} long />
    </fieldset>
  );
}

export function CardEditor({
  initial,
  onSave,
  onCancel,
}: {
  initial: ModelCard;
  onSave: (card: ModelCard) => Promise<void>;
  onCancel: () => void;
}) {
  const [card, setCard] = useState<ModelCard>(initial);
  const [error, setError] = useState<unknown>();
  const [saving, setSaving] = useState(false);
  const details = card.model_details ?? {};
  const use = card.intended_use ?? {};
  const setDetails = (patch: Partial<NonNullable<ModelCard['model_details']>>) =>
    setCard({ ...card, model_details: { ...details, ...patch } });
  const setUse = (patch: Partial<NonNullable<ModelCard['intended_use']>>) =>
    setCard({ ...card, intended_use: { ...use, ...patch } });
  const invalidMetric = (card.metrics ?? []).find((m) => m.name.trim() && !Number.isFinite(m.value));

  return (
    <form
      class="card-editor"
      aria-label="Model card"
      onSubmit={async (event) => {
        event.preventDefault();
        if (invalidMetric) return;
        setSaving(true);
        setError(undefined);
        try {
          await onSave(compactCard(card));
        } catch (err) {
          setError(err);
        } finally {
          setSaving(false);
        }
      }}
    >
      <fieldset>
        <legend>Model details</legend>
        <TextField
          label="Overview"
          value={details.overview}
          onInput={(overview) => setDetails({ overview })}
          long
        />
        <TextField label="License" value={details.license} onInput={(license) => setDetails({ license })} />
        <TextField
          label="References (one per line)"
          value={details.references?.join('\n')}
          onInput={(text) => setDetails({ references: text.split('\n') })}
          long
        />
      </fieldset>
      <RowsEditor
        legend="Owners"
        rows={details.owners ?? []}
        fields={[
          { key: 'name', label: 'Name' },
          { key: 'contact', label: 'Contact' },
        ]}
        blank={{ name: '', contact: '' }}
        onChange={(owners) => setDetails({ owners })}
      />
      <fieldset>
        <legend>Intended use</legend>
        <TextField
          label="Primary uses"
          value={use.primary_uses}
          onInput={(primary_uses) => setUse({ primary_uses })}
          long
        />
        <TextField
          label="Primary users"
          value={use.primary_users}
          onInput={(primary_users) => setUse({ primary_users })}
        />
        <TextField
          label="Out-of-scope uses"
          value={use.out_of_scope_uses}
          onInput={(out_of_scope_uses) => setUse({ out_of_scope_uses })}
          long
        />
      </fieldset>
      <DataFields
        legend="Training data"
        value={card.training_data}
        onChange={(training_data) => setCard({ ...card, training_data })}
      />
      <DataFields
        legend="Evaluation data"
        value={card.evaluation_data}
        onChange={(evaluation_data) => setCard({ ...card, evaluation_data })}
      />
      <RowsEditor<CardMetric>
        legend="Metrics"
        rows={card.metrics ?? []}
        fields={[
          { key: 'name', label: 'Metric' },
          { key: 'value', label: 'Value', type: 'number' },
          { key: 'slice', label: 'Slice (e.g. sex=female)' },
          { key: 'description', label: 'Description' },
        ]}
        blank={{ name: '', value: Number.NaN }}
        onChange={(metrics) => setCard({ ...card, metrics })}
      />
      {invalidMetric && (
        <p class="field-error" role="alert">
          Metric {invalidMetric.name} needs a number.
        </p>
      )}
      <fieldset>
        <legend>Limitations and risks</legend>
        <TextField
          label="Limitations"
          value={card.limitations}
          onInput={(limitations) => setCard({ ...card, limitations })}
          long
        />
        <TextField
          label="Known failure modes"
          value={card.known_failure_modes}
          onInput={(known_failure_modes) => setCard({ ...card, known_failure_modes })}
          long
        />
        <TextField
          label="Caveats"
          value={card.caveats}
          onInput={(caveats) => setCard({ ...card, caveats })}
          long
        />
      </fieldset>
      <RowsEditor
        legend="Ethical considerations"
        rows={card.ethical_considerations ?? []}
        fields={[
          { key: 'name', label: 'Consideration' },
          { key: 'mitigation', label: 'Mitigation' },
        ]}
        blank={{ name: '', mitigation: '' }}
        onChange={(ethical_considerations) => setCard({ ...card, ethical_considerations })}
      />
      {error !== undefined && <ErrorNotice error={error} title="The model card was not saved" />}
      <div class="actions">
        <button type="submit" class="primary" disabled={saving}>
          {saving ? 'Saving…' : 'Save model card'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
