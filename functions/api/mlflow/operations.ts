/**
 * MLflow's Model Registry operations as thin translations over the registry's use cases: the
 * validated MLflow request becomes a RegistryService call and the result MLflow's wire shape.
 * There is no second registry: a model created through MLflow is the same item the registry's
 * own API, events and governance see.
 */
import {
  InvalidParameterError,
  InvalidStateError,
  RegistryError,
  ResourceNotFoundError,
} from '../../domain/errors';
import type { TransitionRequest } from '../../domain/governance';
import { parseStage, type Stage } from '../../domain/model';
import { assertDescription, parseVersionNumber } from '../../domain/rules';
import { parseWebhookEvent, parseWebhookStatus } from '../../domain/webhooks';
import type { GovernanceService, RequestView } from '../../use-cases/governance';
import type { RegistryService } from '../../use-cases/registry';
import { OPERATIONS } from '../contract';
import { webhookTestJson } from '../presenters';
import type { Implementations } from '../protocol';
import type { MLFLOW_OPERATIONS } from './contract';
import { TransitionPendingApprovalError } from './errors';
import {
  isStageRequest,
  mlflowActivity,
  mlflowModelVersion,
  mlflowRegisteredModel,
  mlflowTransitionRequest,
  mlflowWebhook,
  type StageRequest,
  type StageRequestView,
  tagMap,
} from './presenters';

/** MLflow's webhook list limits (ListWebhooks: max_results defaults to 100). */
export const WEBHOOKS_MAX_RESULTS = { default: 100, max: 1000 } as const;

const webhookEvents = (events: readonly { entity: string; action: string }[] | undefined) =>
  events?.map((e) => parseWebhookEvent(e.entity, e.action));

/** MLflow's search limits (mlflow/store/model_registry). */
export const REGISTERED_MODELS_MAX_RESULTS = { default: 100, max: 1000 } as const;
export const MODEL_VERSIONS_MAX_RESULTS = { default: 200_000, max: 200_000 } as const;
/**
 * The most model versions one response carries, whatever max_results asks for: a Lambda response
 * is at most 6 MB. MLflow allows the server to return fewer results than asked with a
 * next_page_token (mlflow.search_model_versions follows it).
 */
export const MODEL_VERSIONS_PAGE_CAP = 1000;

/** How many `models:/name/N` sources are followed to find a copy's artifacts. */
const MAX_COPY_DEPTH = 16;

function maxResults(value: number | undefined, limits: { default: number; max: number }): number {
  if (value === undefined) return limits.default;
  if (value < 1) {
    throw new InvalidParameterError(
      `Invalid value for request parameter max_results. It must be a positive integer, but got value ${value}`,
    );
  }
  if (value > limits.max) {
    throw new InvalidParameterError(
      `Invalid value for request parameter max_results. It must be at most ${limits.max}, but got value ${value}`,
    );
  }
  return value;
}

const version = (value: string) => parseVersionNumber(value);

/** `models:/<name>/<number>`: the source MLflow's copy_model_version registers. */
function copiedFrom(source: string): { name: string; version: number } | undefined {
  const [, name, number] = /^models:\/([^/@]+)\/(\d{1,10})\/?$/.exec(source) ?? [];
  return name && number ? { name, version: parseVersionNumber(number) } : undefined;
}

/** `models:/m-<id>`: an MLflow 3 logged model, which the client resolves through its tracking server. */
const isLoggedModel = (source: string) => /^models:\/m-[^/@]+\/?$/.test(source);

/**
 * Where a version's artifacts are, as MLflow's get-download-uri answers it: the version's source,
 * except that a copy (`models:/name/N`) resolves to the artifacts of the version it copies, and a
 * registry-managed version's source is already the s3:// prefix of its verified files.
 */
async function downloadUri(registry: RegistryService, name: string, number: number): Promise<string> {
  let current = { name, version: number };
  for (let depth = 0; depth <= MAX_COPY_DEPTH; depth++) {
    const { version: v } = await registry.getModelVersion(current.name, current.version);
    if (v.status !== 'READY') {
      throw new InvalidStateError(
        `Model Version (name=${v.name}, version=${v.version}) is ${v.status}${v.statusMessage ? ` (${v.statusMessage})` : ''}; its artifacts can be downloaded once it is READY.`,
      );
    }
    const next = copiedFrom(v.source);
    if (!next) return v.source;
    current = next;
  }
  throw new InvalidStateError(
    `Model Version (name=${name}, version=${number}) is a copy of a copy more than ${MAX_COPY_DEPTH} levels deep; its artifacts cannot be located.`,
  );
}

/** MLflow checks a `models:/` source when the version is created, as its server does. */
async function checkModelsSource(registry: RegistryService, source: string): Promise<void> {
  if (!/^models:/i.test(source) || isLoggedModel(source)) return;
  const unable = (why: string) =>
    new InvalidParameterError(
      `Unable to fetch model from model URI source artifact location '${source}'. Error: ${why}`,
    );
  const ref = copiedFrom(source);
  if (!ref) throw unable('a version source must name a version number: models:/<name>/<version>.');
  try {
    await downloadUri(registry, ref.name, ref.version);
  } catch (err) {
    if (err instanceof RegistryError) throw unable(err.message);
    throw err;
  }
}

/**
 * The answer to a transition that a governance policy holds: it names the transition request that
 * was created and the registry route that approves it (looked up in the contract, so the hint
 * follows the route).
 */
function pendingApproval(request: TransitionRequest) {
  const { name, version, id } = request;
  const what =
    request.target.kind === 'stage'
      ? {
          not: `moved to ${request.target.toStage}`,
          guard: `a governance policy guards ${request.target.toStage}`,
          after: `the version moves to ${request.target.toStage}`,
        }
      : {
          not: `given the alias @${request.target.alias}`,
          guard: `@${request.target.alias} is a protected alias`,
          after: `@${request.target.alias} moves to it`,
        };
  const approve = OPERATIONS.find((o) => o.operationId === 'approveTransitionRequest');
  const how =
    approve && id
      ? `An approver approves it with ${approve.method} ${approve.path.replace('{name}', name).replace('{request_id}', id)} on the registry API`
      : 'An approver approves it through the registry API';
  return new TransitionPendingApprovalError(
    `Model Version (name=${name}, version=${version}) was not ${what.not}: ${what.guard}, so transition request ${id} was created and waits for approval. ${how} (see docs/mlflow.md, "Governed stages"); ${what.after} once it is approved.`,
  );
}

// ---------------------------------------------------------------- transition requests

/** More open requests than one version can have (one per target stage). */
const OPEN_REQUESTS_LIST = 100;

/** The reason recorded when MLflow's reject carries no comment (the registry requires one). */
export const DEFAULT_REJECT_REASON = 'Rejected';

/** The version's open (PENDING) stage requests: MLflow's transition requests. */
const openRequests = async (governance: GovernanceService, name: string, version: number) =>
  (
    await governance.listRequests(name, { status: 'PENDING', version, maxResults: OPEN_REQUESTS_LIST })
  ).items.filter(isStageView);

const isStageView = (v: RequestView): v is StageRequestView => isStageRequest(v.request);

/** The version's open (PENDING) request to move it to `stage`: MLflow names a request by both. */
async function openRequest(
  governance: GovernanceService,
  name: string,
  version: number,
  stage: Stage,
): Promise<StageRequest> {
  const request = (await openRequests(governance, name, version)).find(
    (v) => v.request.target.toStage === stage,
  )?.request;
  if (!request) {
    throw new ResourceNotFoundError(
      `No open transition request to move Model Version (name=${name}, version=${version}) to ${stage}.`,
    );
  }
  return request;
}

const nextPage = (nextPageToken: string | undefined) =>
  nextPageToken ? { next_page_token: nextPageToken } : {};

export const MLFLOW_IMPLEMENTATIONS: Implementations<typeof MLFLOW_OPERATIONS> = {
  // ---------------------------------------------------------------- registered models

  async mlflowCreateRegisteredModel({ registry }, { body: b, caller }) {
    const view = await registry.createRegisteredModel(
      { name: b.name, description: b.description, tags: tagMap(b.tags) },
      caller,
    );
    return { registered_model: mlflowRegisteredModel(view) };
  },
  async mlflowGetRegisteredModel({ registry }, { query: q }) {
    return { registered_model: mlflowRegisteredModel(await registry.getRegisteredModel(q.name)) };
  },
  async mlflowUpdateRegisteredModel({ registry }, { body: b, caller }) {
    // Without a description (newer clients may update other fields), keep the current one.
    const description = b.description ?? (await registry.getRegisteredModel(b.name)).model.description;
    return {
      registered_model: mlflowRegisteredModel(
        await registry.updateRegisteredModel(b.name, description, caller),
      ),
    };
  },
  async mlflowRenameRegisteredModel({ registry }, { body: b, caller }) {
    return {
      registered_model: mlflowRegisteredModel(
        await registry.renameRegisteredModel(b.name, b.new_name, caller),
      ),
    };
  },
  async mlflowDeleteRegisteredModel({ registry }, { body, caller }) {
    await registry.deleteRegisteredModel(body.name, caller);
    return {};
  },
  async mlflowSearchRegisteredModels({ registry }, { query: q }) {
    const result = await registry.searchRegisteredModels({
      filter: q.filter,
      orderBy: q.order_by,
      maxResults: maxResults(q.max_results, REGISTERED_MODELS_MAX_RESULTS),
      pageToken: q.page_token || undefined,
    });
    return { registered_models: result.items.map(mlflowRegisteredModel), ...nextPage(result.nextPageToken) };
  },
  async mlflowGetLatestVersions(ctx, input) {
    return latestVersions(ctx.registry, input.body);
  },
  async mlflowGetLatestVersionsGet(ctx, input) {
    return latestVersions(ctx.registry, input.query);
  },
  async mlflowSetRegisteredModelTag({ registry }, { body: b, caller }) {
    await registry.setRegisteredModelTag(b.name, b.key, b.value ?? '', caller);
    return {};
  },
  async mlflowDeleteRegisteredModelTag({ registry }, { body: b, caller }) {
    await registry.deleteRegisteredModelTag(b.name, b.key, caller);
    return {};
  },
  async mlflowSetRegisteredModelAlias({ registry }, { body: b, caller }) {
    const outcome = await registry.setRegisteredModelAlias(b.name, b.alias, version(b.version), caller);
    if (outcome.kind === 'pending') throw pendingApproval(outcome.request);
    return {};
  },
  async mlflowDeleteRegisteredModelAlias({ registry }, { body: b, caller }) {
    await registry.deleteRegisteredModelAlias(b.name, b.alias, caller);
    return {};
  },
  async mlflowGetModelVersionByAlias({ registry }, { query: q }) {
    return { model_version: mlflowModelVersion(await registry.getModelVersionByAlias(q.name, q.alias)) };
  },

  // ---------------------------------------------------------------- model versions

  async mlflowCreateModelVersion({ registry }, { body: b, caller }) {
    if (/^models:/i.test(b.source)) {
      await registry.requireModel(b.name);
      await checkModelsSource(registry, b.source);
    }
    // model_id names the MLflow 3 logged model; its source (models:/m-<id>) the client resolves
    // through its tracking server.
    const { version: view } = await registry.createModelVersion(
      b.name,
      {
        source: b.source,
        runId: b.run_id || undefined,
        runLink: b.run_link || undefined,
        loggedModelId: b.model_id || undefined,
        description: b.description,
        tags: tagMap(b.tags),
      },
      caller,
    );
    return { model_version: mlflowModelVersion(view) };
  },
  async mlflowGetModelVersion({ registry }, { query: q }) {
    return { model_version: mlflowModelVersion(await registry.getModelVersion(q.name, version(q.version))) };
  },
  async mlflowUpdateModelVersion({ registry }, { body: b, caller }) {
    const n = version(b.version);
    const description = b.description ?? (await registry.getModelVersion(b.name, n)).version.description;
    return {
      model_version: mlflowModelVersion(await registry.updateModelVersion(b.name, n, description, caller)),
    };
  },
  async mlflowTransitionModelVersionStage({ registry }, { body: b, caller }) {
    const n = version(b.version);
    const stage = parseStage(b.stage);
    const outcome = await registry.transitionModelVersionStage(
      b.name,
      n,
      { stage, archiveExistingVersions: b.archive_existing_versions ?? false },
      caller,
    );
    if (outcome.kind === 'pending') throw pendingApproval(outcome.request);
    return { model_version: mlflowModelVersion(outcome.value) };
  },
  async mlflowDeleteModelVersion({ registry }, { body: b, caller }) {
    await registry.deleteModelVersion(b.name, version(b.version), caller);
    return {};
  },
  async mlflowGetModelVersionDownloadUri({ registry }, { query: q }) {
    return { artifact_uri: await downloadUri(registry, q.name, version(q.version)) };
  },
  async mlflowSearchModelVersions({ registry }, { query: q }) {
    const wanted = maxResults(q.max_results, MODEL_VERSIONS_MAX_RESULTS);
    const result = await registry.searchModelVersions({
      filter: q.filter,
      orderBy: q.order_by,
      maxResults: Math.min(wanted, MODEL_VERSIONS_PAGE_CAP),
      pageToken: q.page_token || undefined,
    });
    return { model_versions: result.items.map(mlflowModelVersion), ...nextPage(result.nextPageToken) };
  },
  async mlflowSetModelVersionTag({ registry }, { body: b, caller }) {
    await registry.setModelVersionTag(b.name, version(b.version), b.key, b.value ?? '', caller);
    return {};
  },
  async mlflowDeleteModelVersionTag({ registry }, { body: b, caller }) {
    await registry.deleteModelVersionTag(b.name, version(b.version), b.key, caller);
    return {};
  },

  // ---------------------------------------------------------------- transition requests

  async mlflowCreateTransitionRequest({ registry, governance, policies }, { body: b, caller }) {
    const n = version(b.version);
    const stage = parseStage(b.stage);
    if (b.comment) assertDescription(b.comment);
    await registry.getModelVersion(b.name, n);
    // MLflow's create-request never moves a version: a stage that needs no approval is refused
    // instead of being applied (transition-stage applies it).
    const { effective } = await policies.getPolicy(b.name);
    if (!effective.guardedStages.includes(stage)) {
      throw new InvalidParameterError(
        `Stage ${stage} is not guarded for Registered Model (name=${b.name}): a transition to it needs no approval. Use model-versions/transition-stage to move the version.`,
      );
    }
    const outcome = await registry.transitionModelVersionStage(
      b.name,
      n,
      {
        stage,
        archiveExistingVersions: b.archive_existing_versions ?? false,
        comment: b.comment || undefined,
      },
      caller,
    );
    if (outcome.kind !== 'pending') {
      // The policy stopped guarding the stage between the check and the transition.
      throw new InvalidStateError(
        `Model Version (name=${b.name}, version=${n}) was moved to ${stage} at once: the governance policy stopped guarding ${stage} while the request was being created.`,
      );
    }
    const view = governance.view(outcome.request, await registry.requireModel(b.name));
    if (!isStageView(view)) throw new Error(`A transition to ${stage} filed a request of another kind.`);
    return { request: mlflowTransitionRequest(view, caller) };
  },
  async mlflowListTransitionRequests({ governance }, { query: q, caller }) {
    const open = await openRequests(governance, q.name, version(q.version));
    return { requests: open.map((r) => mlflowTransitionRequest(r, caller)) };
  },
  async mlflowApproveTransitionRequest({ governance }, { body: b, caller }) {
    const n = version(b.version);
    const request = await openRequest(governance, b.name, n, parseStage(b.stage));
    // The archive flag is the request's (chosen when it was made); approving with another one is
    // refused rather than silently ignored.
    const archives = request.target.archiveExistingVersions;
    if (b.archive_existing_versions !== archives) {
      throw new InvalidParameterError(
        `Transition request ${request.id} was created with archive_existing_versions=${archives}; approve it with archive_existing_versions=${archives}, or cancel it and request the transition again with archive_existing_versions=${b.archive_existing_versions}.`,
      );
    }
    const view = await governance.approve(b.name, request.id, caller, b.comment || undefined);
    const updated = view.request;
    const mine = updated.approvals.find((a) => a.person === caller.person);
    const applying = updated.status === 'APPROVED' || updated.status === 'APPLIED';
    const system = applying
      ? `All ${view.requiredApprovals} required approval(s) given: the registry moves the version to ${request.target.toStage}${archives ? ', archiving the versions now in it' : ''}.`
      : `Approval ${updated.approvals.length} of ${view.requiredApprovals}: the request stays open.`;
    return {
      activity: mlflowActivity(
        'APPROVED_REQUEST',
        request.target,
        caller.arn,
        mine?.timestamp ?? updated.updatedAt,
        b.comment,
        system,
      ),
    };
  },
  async mlflowRejectTransitionRequest({ governance }, { body: b, caller }) {
    const n = version(b.version);
    const request = await openRequest(governance, b.name, n, parseStage(b.stage));
    const comment = b.comment?.trim() ? b.comment : undefined;
    const { request: updated } = await governance.reject(
      b.name,
      request.id,
      caller,
      comment ?? DEFAULT_REJECT_REASON,
    );
    return {
      activity: mlflowActivity('REJECTED_REQUEST', request.target, caller.arn, updated.updatedAt, comment),
    };
  },
  async mlflowDeleteTransitionRequest({ governance }, { body: b, caller }) {
    const n = version(b.version);
    const stage = parseStage(b.stage);
    const request = await openRequest(governance, b.name, n, stage);
    if (request.requester.arn !== b.creator && request.requester.person !== b.creator) {
      throw new ResourceNotFoundError(
        `No open transition request by ${b.creator} to move Model Version (name=${b.name}, version=${n}) to ${stage}; the open request ${request.id} was created by ${request.requester.arn}.`,
      );
    }
    // Only the requester may cancel (403 PERMISSION_DENIED otherwise).
    await governance.cancel(b.name, request.id, caller, b.comment || undefined);
    return {};
  },

  // ---------------------------------------------------------------- webhooks

  async mlflowCreateWebhook({ webhooks }, { body: b, caller }) {
    const webhook = await webhooks.create(
      {
        name: b.name,
        url: b.url,
        events: webhookEvents(b.events) ?? [],
        description: b.description || undefined,
        secret: b.secret || undefined,
        status: b.status ? parseWebhookStatus(b.status) : undefined,
      },
      caller,
    );
    return { webhook: mlflowWebhook(webhook) };
  },
  async mlflowListWebhooks({ webhooks }, { query: q }) {
    const result = await webhooks.list({
      maxResults: maxResults(q.max_results, WEBHOOKS_MAX_RESULTS),
      pageToken: q.page_token || undefined,
    });
    return { webhooks: result.items.map(mlflowWebhook), ...nextPage(result.nextPageToken) };
  },
  async mlflowGetWebhook({ webhooks }, { path }) {
    return { webhook: mlflowWebhook(await webhooks.get(path.webhook_id!)) };
  },
  async mlflowUpdateWebhook({ webhooks }, { path, body: b, caller }) {
    const webhook = await webhooks.update(
      path.webhook_id!,
      {
        name: b.name || undefined,
        description: b.description || undefined,
        url: b.url || undefined,
        events: b.events?.length ? webhookEvents(b.events) : undefined,
        secret: b.secret || undefined,
        status: b.status ? parseWebhookStatus(b.status) : undefined,
      },
      caller,
    );
    return { webhook: mlflowWebhook(webhook) };
  },
  async mlflowDeleteWebhook({ webhooks }, { path, caller }) {
    await webhooks.delete(path.webhook_id!, caller);
    return {};
  },
  async mlflowTestWebhook({ webhooks }, { path, body: b }) {
    const event = b.event ? parseWebhookEvent(b.event.entity, b.event.action) : undefined;
    return webhookTestJson(await webhooks.test(path.webhook_id!, event));
  },
};

async function latestVersions(
  registry: RegistryService,
  request: { name: string; stages?: string[] | undefined },
) {
  const stages = (request.stages ?? []).filter((x) => x !== '').map(parseStage);
  return { model_versions: (await registry.getLatestVersions(request.name, stages)).map(mlflowModelVersion) };
}
