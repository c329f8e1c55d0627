/**
 * A model card (after Google's Model Card Toolkit), as the API carries it in
 * `GET|PUT /models/{name}/versions/{version}/card`. Every field is optional on write.
 */
export interface DataDescription {
  name?: string;
  digest?: string;
  uri?: string;
  description?: string;
}

export interface CardMetric {
  name: string;
  value: number;
  /** The group it was measured on, e.g. `sex=female`. */
  slice?: string;
  description?: string;
}

export interface ModelCard {
  model_details?: {
    overview?: string;
    owners?: { name: string; contact: string }[];
    license?: string;
    references?: string[];
  };
  intended_use?: { primary_uses?: string; primary_users?: string; out_of_scope_uses?: string };
  training_data?: DataDescription;
  evaluation_data?: DataDescription;
  metrics?: CardMetric[];
  limitations?: string;
  known_failure_modes?: string;
  ethical_considerations?: { name: string; mitigation: string }[];
  caveats?: string;
}

const text = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

/** Drops empty strings, rows and sections, so a saved card carries only what was written. */
export function compactCard(card: ModelCard): ModelCard {
  const object = <T extends object>(value: T): T | undefined => {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return entries.length ? (Object.fromEntries(entries) as T) : undefined;
  };
  const data = (d: DataDescription | undefined) =>
    d &&
    object({
      name: text(d.name),
      digest: text(d.digest),
      uri: text(d.uri),
      description: text(d.description),
    });
  const list = <T>(items: T[] | undefined, keep: (item: T) => boolean) => {
    const kept = (items ?? []).filter(keep);
    return kept.length ? kept : undefined;
  };
  const details = card.model_details;
  const use = card.intended_use;
  return (
    object({
      model_details:
        details &&
        object({
          overview: text(details.overview),
          owners: list(details.owners, (o) => Boolean(text(o.name) || text(o.contact))),
          license: text(details.license),
          references: list(
            details.references?.map((r) => r.trim()),
            (r) => r.length > 0,
          ),
        }),
      intended_use:
        use &&
        object({
          primary_uses: text(use.primary_uses),
          primary_users: text(use.primary_users),
          out_of_scope_uses: text(use.out_of_scope_uses),
        }),
      training_data: data(card.training_data),
      evaluation_data: data(card.evaluation_data),
      metrics: list(
        card.metrics?.map((m) => ({
          name: m.name.trim(),
          value: m.value,
          ...(text(m.slice) ? { slice: text(m.slice) } : {}),
          ...(text(m.description) ? { description: text(m.description) } : {}),
        })),
        (m) => m.name.length > 0 && Number.isFinite(m.value),
      ),
      limitations: text(card.limitations),
      known_failure_modes: text(card.known_failure_modes),
      ethical_considerations: list(card.ethical_considerations, (e) => Boolean(text(e.name))),
      caveats: text(card.caveats),
    }) ?? {}
  );
}
