/**
 * Registry views to MLflow's wire shapes (model_registry.proto, snake_case): versions as strings,
 * tags as `[{key, value}]`, aliases as `[{alias, version}]` on a registered model and as names on
 * a version, timestamps in epoch ms, the creator as `user_id`. `status` is always present: a
 * missing status decodes as PENDING_REGISTRATION and makes the client poll for five minutes.
 */
import type { ModelView, VersionView } from '../../use-cases/registry';

const tagList = (tags: Readonly<Record<string, string>>) =>
  Object.entries(tags)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value }));

export function mlflowModelVersion({ version: v, aliases }: VersionView) {
  return {
    name: v.name,
    version: String(v.version),
    creation_timestamp: v.creationTimestamp,
    last_updated_timestamp: v.lastUpdatedTimestamp,
    current_stage: v.stage,
    description: v.description,
    source: v.source,
    ...(v.runId ? { run_id: v.runId } : {}),
    ...(v.runLink ? { run_link: v.runLink } : {}),
    // The registry's statuses are MLflow's ModelVersionStatus names.
    status: v.status,
    ...(v.statusMessage ? { status_message: v.statusMessage } : {}),
    tags: tagList(v.tags),
    aliases: [...aliases],
    user_id: v.createdBy,
  };
}

export function mlflowRegisteredModel({ model, latestVersions }: ModelView) {
  return {
    name: model.name,
    creation_timestamp: model.creationTimestamp,
    last_updated_timestamp: model.lastUpdatedTimestamp,
    description: model.description,
    tags: tagList(model.tags),
    aliases: Object.entries(model.aliases)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([alias, version]) => ({ alias, version: String(version) })),
    latest_versions: latestVersions.map(mlflowModelVersion),
    user_id: model.createdBy,
  };
}

/** MLflow's `[{key, value}]` tags to the registry's map (a repeated key: the last one wins). */
export function tagMap(tags: readonly { key: string; value?: string | undefined }[] | undefined) {
  // No prototype: a tag named `__proto__` is just a tag.
  const out: Record<string, string> = Object.create(null);
  for (const t of tags ?? []) out[t.key] = t.value ?? '';
  return out;
}
