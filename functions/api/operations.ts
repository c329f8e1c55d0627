/**
 * What each operation of the contract does: turn the validated input into a use-case call and
 * the result into the response body. Kept free of HTTP and AWS details.
 */
import type { z } from 'zod';
import type { TransitionRequest } from '../domain/governance';
import type { Principal } from '../domain/identity';
import { parseStage, type RegisteredModel } from '../domain/model';
import { parseVersionNumber } from '../domain/rules';
import { parseWebhookEventName, parseWebhookStatus } from '../domain/webhooks';
import type { ArtifactService } from '../use-cases/artifacts';
import type { BreakGlassService } from '../use-cases/break-glass';
import type { GovernanceService } from '../use-cases/governance';
import type { ModelCardService } from '../use-cases/model-cards';
import type { PolicyChangeOutcome, PolicyService } from '../use-cases/policy';
import type { CreateVersionInput, RegistryService } from '../use-cases/registry';
import type { EventReplay } from '../use-cases/replay';
import type { WebhookService } from '../use-cases/webhooks';
import type { OperationId } from './contract';
import {
  auditJson,
  deliveryJson,
  downloadJson,
  modelJson,
  policyRequestJson,
  policyResponseJson,
  requestJson,
  transitionJson,
  uploadJson,
  versionJson,
  webhookJson,
  webhookTestJson,
} from './presenters';
import type * as s from './schemas';

export interface OperationInput {
  readonly path: Record<string, string>;
  readonly query: Record<string, unknown>;
  readonly body: Record<string, unknown>;
  /** Who signed the request: the person and the IAM principal ARN (docs/identity.md). */
  readonly caller: Principal;
}

/** A result answered with 202 Accepted (the change waits for approval). */
export class Accepted {
  constructor(readonly body: unknown) {}
}

export interface OperationContext {
  readonly registry: RegistryService;
  readonly governance: GovernanceService;
  readonly policies: PolicyService;
  readonly breakGlass: BreakGlassService;
  readonly cards: ModelCardService;
  /** Present in the functions that handle registry-managed artifacts. */
  readonly artifacts?: ArtifactService;
  /** Replays recorded events to the bus (the write function). */
  readonly replay?: EventReplay;
  /** The OpenAPI document, loaded lazily by the one route that serves it. */
  readonly openApiDocument: () => Promise<unknown>;
  /** Webhooks (MLflow's webhooks API and the registry's own routes). */
  readonly webhooks: WebhookService;
}

type Impl = (ctx: OperationContext, input: OperationInput) => Promise<unknown>;

const v = (input: OperationInput) => parseVersionNumber(input.path.version!);

/** A request filed by a change that waits for approval, as the API shows it (202). */
async function pendingRequest(ctx: OperationContext, name: string, request: TransitionRequest) {
  const model: RegisteredModel = await ctx.registry.requireModel(name);
  return new Accepted({ transition_request: requestJson(ctx.governance.view(request, model)) });
}

function policyOutcome(outcome: PolicyChangeOutcome) {
  return outcome.kind === 'pending'
    ? new Accepted({ policy_request: policyRequestJson(outcome.request) })
    : policyResponseJson(outcome.policy);
}

function artifactsOf(ctx: OperationContext): ArtifactService {
  if (!ctx.artifacts) throw new Error('This function is not configured for artifacts (ARTIFACT_BUCKET).');
  return ctx.artifacts;
}

export const IMPLEMENTATIONS: Record<OperationId, Impl> = {
  async createRegisteredModel({ registry }, { body, caller }) {
    const b = body as z.infer<typeof s.createModelBody>;
    return { registered_model: modelJson(await registry.createRegisteredModel(b, caller)) };
  },
  async searchRegisteredModels({ registry }, { query }) {
    const q = query as z.infer<typeof s.searchModelsQuery>;
    const page = await registry.searchRegisteredModels({
      filter: q.filter,
      orderBy: q.order_by,
      maxResults: q.max_results,
      pageToken: q.page_token,
    });
    return {
      registered_models: page.items.map(modelJson),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  },
  async getRegisteredModel({ registry }, { path }) {
    return { registered_model: modelJson(await registry.getRegisteredModel(path.name!)) };
  },
  async updateRegisteredModel({ registry }, { path, body, caller }) {
    const b = body as z.infer<typeof s.updateModelBody>;
    return {
      registered_model: modelJson(await registry.updateRegisteredModel(path.name!, b.description, caller)),
    };
  },
  async deleteRegisteredModel({ registry }, { path, caller }) {
    await registry.deleteRegisteredModel(path.name!, caller);
    return {};
  },
  async renameRegisteredModel({ registry }, { path, body, caller }) {
    const b = body as z.infer<typeof s.renameModelBody>;
    return {
      registered_model: modelJson(await registry.renameRegisteredModel(path.name!, b.new_name, caller)),
    };
  },
  async setRegisteredModelTag({ registry }, { path, body, caller }) {
    const b = body as z.infer<typeof s.setTagBody>;
    await registry.setRegisteredModelTag(path.name!, b.key, b.value, caller);
    return {};
  },
  async deleteRegisteredModelTag({ registry }, { path, query, caller }) {
    await registry.deleteRegisteredModelTag(path.name!, (query as z.infer<typeof s.tagKeyQuery>).key, caller);
    return {};
  },
  async getLatestVersions({ registry }, { path, query }) {
    const stages = ((query as z.infer<typeof s.latestVersionsQuery>).stages ?? []).map(parseStage);
    return { model_versions: (await registry.getLatestVersions(path.name!, stages)).map(versionJson) };
  },
  async setRegisteredModelAlias(ctx, { path, body, caller }) {
    const b = body as z.infer<typeof s.setAliasBody>;
    const outcome = await ctx.registry.setRegisteredModelAlias(
      path.name!,
      path.alias!,
      parseVersionNumber(b.version),
      caller,
    );
    return outcome.kind === 'pending' ? pendingRequest(ctx, path.name!, outcome.request) : {};
  },
  async deleteRegisteredModelAlias({ registry }, { path, caller }) {
    await registry.deleteRegisteredModelAlias(path.name!, path.alias!, caller);
    return {};
  },
  async getModelVersionByAlias({ registry }, { path }) {
    return { model_version: versionJson(await registry.getModelVersionByAlias(path.name!, path.alias!)) };
  },
  async createModelVersion(ctx, { path, body, caller }) {
    const b = body as z.infer<typeof s.createVersionBody>;
    const input: CreateVersionInput = {
      source: b.source,
      runId: b.run_id,
      runLink: b.run_link,
      loggedModelId: b.model_id,
      dataset: b.dataset,
      parameters: b.parameters,
      metrics: b.metrics,
      description: b.description,
      tags: b.tags,
      clientToken: b.client_token,
    };
    if (b.files) {
      const { version, upload } = await artifactsOf(ctx).createVersion(path.name!, input, b.files, caller);
      return { model_version: versionJson(version), upload: uploadJson(upload) };
    }
    const { version } = await ctx.registry.createModelVersion(path.name!, input, caller);
    return { model_version: versionJson(version) };
  },
  async getUploadUrls(ctx, input) {
    const b = input.body as z.infer<typeof s.uploadUrlsBody>;
    const { version, upload } = await artifactsOf(ctx).uploadUrls(
      input.path.name!,
      v(input),
      b.files?.map((f) => ({ path: f.path, partNumbers: f.part_numbers })),
    );
    return { model_version: versionJson(version), upload: uploadJson(upload) };
  },
  async finalizeModelVersion(ctx, input) {
    const b = input.body as z.infer<typeof s.finalizeBody>;
    const parts = Object.fromEntries(
      Object.entries(b.parts ?? {}).map(([path, list]) => [
        path,
        list.map((p) => ({ partNumber: p.part_number, etag: p.etag })),
      ]),
    );
    return { model_version: versionJson(await artifactsOf(ctx).finalize(input.path.name!, v(input), parts)) };
  },
  async getModelVersionDownload(ctx, input) {
    const { version, download } = await artifactsOf(ctx).download(input.path.name!, v(input));
    return { model_version: versionJson(version), download: downloadJson(download) };
  },
  async resolveModelUri(ctx, { query }) {
    const { version, download } = await artifactsOf(ctx).resolve(
      (query as z.infer<typeof s.resolveQuery>).uri,
    );
    return { model_version: versionJson(version), download: downloadJson(download) };
  },
  async listModelVersions({ registry }, { path, query }) {
    const q = query as z.infer<typeof s.listVersionsQuery>;
    await registry.requireModel(path.name!);
    const page = await registry.searchModelVersions({
      filter: `name = '${path.name}'`,
      orderBy: q.order_by ?? ['version_number DESC'],
      maxResults: q.max_results,
      pageToken: q.page_token,
    });
    return {
      model_versions: page.items.map(versionJson),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  },
  async getModelVersion({ cards }, input) {
    return { model_version: versionJson(await cards.versionWithCard(input.path.name!, v(input))) };
  },
  async updateModelVersion({ registry }, input) {
    const b = input.body as z.infer<typeof s.updateVersionBody>;
    return {
      model_version: versionJson(
        await registry.updateModelVersion(input.path.name!, v(input), b.description, input.caller),
      ),
    };
  },
  async deleteModelVersion({ registry }, input) {
    await registry.deleteModelVersion(input.path.name!, v(input), input.caller);
    return {};
  },
  async setModelVersionTag({ registry }, input) {
    const b = input.body as z.infer<typeof s.setTagBody>;
    await registry.setModelVersionTag(input.path.name!, v(input), b.key, b.value, input.caller);
    return {};
  },
  async deleteModelVersionTag({ registry }, input) {
    const key = (input.query as z.infer<typeof s.tagKeyQuery>).key;
    await registry.deleteModelVersionTag(input.path.name!, v(input), key, input.caller);
    return {};
  },
  async getModelCard({ cards }, input) {
    return { model_card: await cards.getCard(input.path.name!, v(input)) };
  },
  async putModelCard({ cards }, input) {
    const b = input.body as z.infer<typeof s.putModelCardBody>;
    return { model_card: await cards.putCard(input.path.name!, v(input), b.model_card, input.caller) };
  },
  async transitionModelVersionStage(ctx, input) {
    const b = input.body as z.infer<typeof s.transitionBody>;
    const outcome = await ctx.registry.transitionModelVersionStage(
      input.path.name!,
      v(input),
      {
        stage: parseStage(b.stage),
        archiveExistingVersions: b.archive_existing_versions ?? false,
        comment: b.comment,
      },
      input.caller,
    );
    if (outcome.kind === 'pending') return pendingRequest(ctx, input.path.name!, outcome.request);
    return { model_version: versionJson(outcome.value) };
  },
  async listTransitions({ registry }, { path, query }) {
    const q = query as z.infer<typeof s.transitionsQuery>;
    const page = await registry.listTransitions(path.name!, {
      version: q.version === undefined ? undefined : parseVersionNumber(q.version),
      maxResults: q.max_results,
      pageToken: q.page_token,
    });
    return {
      transitions: page.items.map(transitionJson),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  },
  async searchModelVersions({ registry }, { query }) {
    const q = query as z.infer<typeof s.searchVersionsQuery>;
    const page = await registry.searchModelVersions({
      filter: q.filter,
      orderBy: q.order_by,
      maxResults: q.max_results,
      pageToken: q.page_token,
    });
    return {
      model_versions: page.items.map(versionJson),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  },
  async listTransitionRequests({ governance }, { path, query }) {
    const q = query as z.infer<typeof s.requestsQuery>;
    const page = await governance.listRequests(path.name!, {
      ...(q.status ? { status: q.status } : {}),
      ...(q.version !== undefined ? { version: parseVersionNumber(q.version) } : {}),
      maxResults: q.max_results,
      ...(q.page_token ? { pageToken: q.page_token } : {}),
    });
    return {
      transition_requests: page.items.map(requestJson),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  },
  async getTransitionRequest({ governance }, { path }) {
    return { transition_request: requestJson(await governance.getRequest(path.name!, path.request_id!)) };
  },
  async approveTransitionRequest({ governance }, { path, body, caller }) {
    const b = body as z.infer<typeof s.approveBody>;
    return {
      transition_request: requestJson(
        await governance.approve(path.name!, path.request_id!, caller, b.comment),
      ),
    };
  },
  async rejectTransitionRequest({ governance }, { path, body, caller }) {
    const b = body as z.infer<typeof s.rejectBody>;
    return {
      transition_request: requestJson(
        await governance.reject(path.name!, path.request_id!, caller, b.reason),
      ),
    };
  },
  async cancelTransitionRequest({ governance }, { path, body, caller }) {
    const b = body as z.infer<typeof s.cancelBody>;
    return {
      transition_request: requestJson(
        await governance.cancel(path.name!, path.request_id!, caller, b.reason),
      ),
    };
  },
  async rollbackProduction({ governance }, { path, body, caller }) {
    const b = body as z.infer<typeof s.rollbackBody>;
    return { model_version: versionJson(await governance.rollback(path.name!, caller, b.comment)) };
  },
  async getGovernancePolicy({ policies }, { path }) {
    return policyResponseJson(await policies.getPolicy(path.name!));
  },
  async setGovernancePolicy({ policies }, { path, body, caller }) {
    const b = body as z.infer<typeof s.setPolicyBody>;
    return policyOutcome(await policies.setPolicy(path.name!, b.policy, caller, b.comment));
  },
  async deleteGovernancePolicy({ policies }, { path, query, caller }) {
    const q = query as z.infer<typeof s.deletePolicyQuery>;
    return policyOutcome(await policies.deletePolicy(path.name!, caller, q.comment));
  },
  async listPolicyChangeRequests({ policies }, { path, query }) {
    const q = query as z.infer<typeof s.policyRequestsQuery>;
    const page = await policies.listRequests(path.name!, {
      ...(q.status ? { status: q.status } : {}),
      maxResults: q.max_results,
      ...(q.page_token ? { pageToken: q.page_token } : {}),
    });
    return {
      policy_requests: page.items.map(policyRequestJson),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  },
  async getPolicyChangeRequest({ policies }, { path }) {
    return { policy_request: policyRequestJson(await policies.getRequest(path.name!, path.request_id!)) };
  },
  async approvePolicyChangeRequest({ policies }, { path, body, caller }) {
    const b = body as z.infer<typeof s.approveBody>;
    return {
      policy_request: policyRequestJson(
        await policies.approve(path.name!, path.request_id!, caller, b.comment),
      ),
    };
  },
  async rejectPolicyChangeRequest({ policies }, { path, body, caller }) {
    const b = body as z.infer<typeof s.rejectBody>;
    return {
      policy_request: policyRequestJson(
        await policies.reject(path.name!, path.request_id!, caller, b.reason),
      ),
    };
  },
  async cancelPolicyChangeRequest({ policies }, { path, body, caller }) {
    const b = body as z.infer<typeof s.cancelBody>;
    return {
      policy_request: policyRequestJson(
        await policies.cancel(path.name!, path.request_id!, caller, b.reason),
      ),
    };
  },
  async listOpenTransitionRequests({ governance }, { query }) {
    const q = query as z.infer<typeof s.inboxQuery>;
    const page = await governance.inbox({
      ...(q.status ? { status: q.status } : {}),
      maxResults: q.max_results,
      ...(q.page_token ? { pageToken: q.page_token } : {}),
    });
    return {
      transition_requests: page.items.map(requestJson),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  },
  async breakGlassTransition({ breakGlass }, input) {
    const b = input.body as z.infer<typeof s.breakGlassStageBody>;
    return {
      model_version: versionJson(
        await breakGlass.transition(
          input.path.name!,
          v(input),
          {
            stage: parseStage(b.stage),
            archiveExistingVersions: b.archive_existing_versions ?? false,
            comment: b.comment,
          },
          input.caller,
          b.reason,
        ),
      ),
    };
  },
  async breakGlassSetAlias({ breakGlass }, { path, body, caller }) {
    const b = body as z.infer<typeof s.breakGlassAliasBody>;
    await breakGlass.setAlias(path.name!, path.alias!, parseVersionNumber(b.version), caller, b.reason);
    return {};
  },
  async breakGlassDeleteAlias({ breakGlass }, { path, query, caller }) {
    await breakGlass.deleteAlias(
      path.name!,
      path.alias!,
      caller,
      (query as z.infer<typeof s.breakGlassQuery>).reason,
    );
    return {};
  },
  async breakGlassDeleteModelVersion({ breakGlass }, input) {
    const q = input.query as z.infer<typeof s.breakGlassQuery>;
    await breakGlass.deleteVersion(input.path.name!, v(input), input.caller, q.reason);
    return {};
  },
  async breakGlassDeleteRegisteredModel({ breakGlass }, { path, query, caller }) {
    await breakGlass.deleteModel(path.name!, caller, (query as z.infer<typeof s.breakGlassQuery>).reason);
    return {};
  },
  async getAuditLog({ governance }, { path, query }) {
    const q = query as z.infer<typeof s.auditQuery>;
    const page = await governance.auditLog(path.name!, {
      ...(q.version !== undefined ? { version: parseVersionNumber(q.version) } : {}),
      maxResults: q.max_results,
      ...(q.page_token ? { pageToken: q.page_token } : {}),
    });
    return {
      entries: page.items.map(auditJson),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  },
  async getStageHistory({ governance }, { path, query }) {
    const q = query as z.infer<typeof s.stageHistoryQuery>;
    const stage = parseStage(q.stage);
    return { stage, at: q.at, versions: await governance.versionsInStageAt(path.name!, stage, q.at) };
  },
  async replayEvents({ replay }, { body }) {
    const b = body as z.infer<typeof s.replayEventsBody>;
    if (!replay) throw new Error('This function does not replay events.');
    const page = await replay.replay({
      from: b.from,
      to: b.to,
      modelName: b.model_name,
      modelId: b.model_id,
      dryRun: b.dry_run,
      pageToken: b.page_token,
    });
    return {
      events: page.events.map((e) => ({
        event_id: e.detail.event_id,
        event_type: e.type,
        occurred_at: e.detail.occurred_at,
        model: e.detail.model,
        ...(e.detail.version !== undefined ? { version: e.detail.version } : {}),
      })),
      published: page.published,
      dry_run: page.dryRun,
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  },
  async getOpenApiDocument({ openApiDocument }) {
    return openApiDocument();
  },

  // ---------------------------------------------------------------- webhooks

  async createWebhook({ webhooks }, { body, caller }) {
    const b = body as z.infer<typeof s.createWebhookBody>;
    const webhook = await webhooks.create(
      {
        name: b.name,
        url: b.url,
        events: b.events.map(parseWebhookEventName),
        description: b.description,
        secret: b.secret,
        status: b.status ? parseWebhookStatus(b.status) : undefined,
      },
      caller,
    );
    return { webhook: webhookJson(webhook) };
  },
  async listWebhooks({ webhooks }, { query }) {
    const q = query as z.infer<typeof s.webhooksQuery>;
    const page = await webhooks.list({ maxResults: q.max_results, pageToken: q.page_token });
    return {
      webhooks: page.items.map(webhookJson),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  },
  async getWebhook({ webhooks }, { path }) {
    return { webhook: webhookJson(await webhooks.get(path.webhook_id!)) };
  },
  async updateWebhook({ webhooks }, { path, body, caller }) {
    const b = body as z.infer<typeof s.updateWebhookBody>;
    const webhook = await webhooks.update(
      path.webhook_id!,
      {
        name: b.name,
        url: b.url,
        events: b.events?.map(parseWebhookEventName),
        description: b.description,
        secret: b.secret,
        status: b.status ? parseWebhookStatus(b.status) : undefined,
      },
      caller,
    );
    return { webhook: webhookJson(webhook) };
  },
  async deleteWebhook({ webhooks }, { path, caller }) {
    await webhooks.delete(path.webhook_id!, caller);
    return {};
  },
  async testWebhook({ webhooks }, { path, body }) {
    const b = body as z.infer<typeof s.testWebhookBody>;
    return webhookTestJson(
      await webhooks.test(path.webhook_id!, b.event ? parseWebhookEventName(b.event) : undefined),
    );
  },
  async listWebhookDeliveries({ webhooks }, { path, query }) {
    const q = query as z.infer<typeof s.webhooksQuery>;
    const page = await webhooks.deliveries(path.webhook_id!, {
      maxResults: q.max_results,
      pageToken: q.page_token,
    });
    return {
      deliveries: page.items.map(deliveryJson),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  },
  async redeliverWebhookDelivery({ webhooks }, { path }) {
    return { delivery: deliveryJson(await webhooks.redeliver(path.webhook_id!, path.delivery_id!)) };
  },
};
