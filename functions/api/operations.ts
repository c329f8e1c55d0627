/**
 * What each operation of the contract does: turn the validated input into a use-case call and
 * the result into the response body. Kept free of HTTP and AWS details.
 */
import type { TransitionRequest } from '../domain/governance';
import { parseStage, type RegisteredModel } from '../domain/model';
import { parseVersionNumber } from '../domain/rules';
import { parseWebhookEventName, parseWebhookStatus } from '../domain/webhooks';
import type { ArtifactService } from '../use-cases/artifacts';
import type { PolicyChangeOutcome } from '../use-cases/policy';
import type { CreateVersionInput } from '../use-cases/registry';
import type { OPERATIONS } from './contract';
import {
  auditJson,
  deliveryJson,
  downloadJson,
  isModelEvent,
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
import { Accepted, type Implementations, type OperationContext } from './protocol';

const v = (input: { readonly path: { readonly version: string } }) => parseVersionNumber(input.path.version);

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

export const IMPLEMENTATIONS: Implementations<typeof OPERATIONS> = {
  async createRegisteredModel({ registry }, { body: b, caller }) {
    return { registered_model: modelJson(await registry.createRegisteredModel(b, caller)) };
  },
  async searchRegisteredModels({ registry }, { query: q }) {
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
    return { registered_model: modelJson(await registry.getRegisteredModel(path.name)) };
  },
  async updateRegisteredModel({ registry }, { path, body: b, caller }) {
    return {
      registered_model: modelJson(await registry.updateRegisteredModel(path.name, b.description, caller)),
    };
  },
  async deleteRegisteredModel({ registry }, { path, caller }) {
    await registry.deleteRegisteredModel(path.name, caller);
    return {};
  },
  async renameRegisteredModel({ registry }, { path, body: b, caller }) {
    return {
      registered_model: modelJson(await registry.renameRegisteredModel(path.name, b.new_name, caller)),
    };
  },
  async setRegisteredModelTag({ registry }, { path, body: b, caller }) {
    await registry.setRegisteredModelTag(path.name, b.key, b.value, caller);
    return {};
  },
  async deleteRegisteredModelTag({ registry }, { path, query, caller }) {
    await registry.deleteRegisteredModelTag(path.name, query.key, caller);
    return {};
  },
  async getLatestVersions({ registry }, { path, query }) {
    const stages = (query.stages ?? []).map(parseStage);
    return { model_versions: (await registry.getLatestVersions(path.name, stages)).map(versionJson) };
  },
  async setRegisteredModelAlias(ctx, { path, body: b, caller }) {
    const outcome = await ctx.registry.setRegisteredModelAlias(
      path.name,
      path.alias,
      parseVersionNumber(b.version),
      caller,
    );
    return outcome.kind === 'pending' ? pendingRequest(ctx, path.name, outcome.request) : {};
  },
  async deleteRegisteredModelAlias({ registry }, { path, caller }) {
    await registry.deleteRegisteredModelAlias(path.name, path.alias, caller);
    return {};
  },
  async getModelVersionByAlias({ registry }, { path }) {
    return { model_version: versionJson(await registry.getModelVersionByAlias(path.name, path.alias)) };
  },
  async createModelVersion(ctx, { path, body: b, caller }) {
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
      const { version, upload } = await artifactsOf(ctx).createVersion(path.name, input, b.files, caller);
      return { model_version: versionJson(version), upload: uploadJson(upload) };
    }
    const { version } = await ctx.registry.createModelVersion(path.name, input, caller);
    return { model_version: versionJson(version) };
  },
  async getUploadUrls(ctx, input) {
    const b = input.body;
    const { version, upload } = await artifactsOf(ctx).uploadUrls(
      input.path.name,
      v(input),
      b.files?.map((f) => ({ path: f.path, partNumbers: f.part_numbers })),
    );
    return { model_version: versionJson(version), upload: uploadJson(upload) };
  },
  async finalizeModelVersion(ctx, input) {
    const b = input.body;
    const parts = Object.fromEntries(
      Object.entries(b.parts ?? {}).map(([path, list]) => [
        path,
        list.map((p) => ({ partNumber: p.part_number, etag: p.etag })),
      ]),
    );
    return { model_version: versionJson(await artifactsOf(ctx).finalize(input.path.name, v(input), parts)) };
  },
  async getModelVersionDownload(ctx, input) {
    const { version, download } = await artifactsOf(ctx).download(input.path.name, v(input));
    return { model_version: versionJson(version), download: downloadJson(download) };
  },
  async resolveModelUri(ctx, { query }) {
    const { version, download } = await artifactsOf(ctx).resolve(query.uri);
    return { model_version: versionJson(version), download: downloadJson(download) };
  },
  async listModelVersions({ registry }, { path, query: q }) {
    await registry.requireModel(path.name);
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
    return { model_version: versionJson(await cards.versionWithCard(input.path.name, v(input))) };
  },
  async updateModelVersion({ registry }, input) {
    const b = input.body;
    return {
      model_version: versionJson(
        await registry.updateModelVersion(input.path.name, v(input), b.description, input.caller),
      ),
    };
  },
  async deleteModelVersion({ registry }, input) {
    await registry.deleteModelVersion(input.path.name, v(input), input.caller);
    return {};
  },
  async setModelVersionTag({ registry }, input) {
    const b = input.body;
    await registry.setModelVersionTag(input.path.name, v(input), b.key, b.value, input.caller);
    return {};
  },
  async deleteModelVersionTag({ registry }, input) {
    const key = input.query.key;
    await registry.deleteModelVersionTag(input.path.name, v(input), key, input.caller);
    return {};
  },
  async getModelCard({ cards }, input) {
    return { model_card: await cards.getCard(input.path.name, v(input)) };
  },
  async putModelCard({ cards }, input) {
    const b = input.body;
    return { model_card: await cards.putCard(input.path.name, v(input), b.model_card, input.caller) };
  },
  async transitionModelVersionStage(ctx, input) {
    const b = input.body;
    const outcome = await ctx.registry.transitionModelVersionStage(
      input.path.name,
      v(input),
      {
        stage: parseStage(b.stage),
        archiveExistingVersions: b.archive_existing_versions ?? false,
        comment: b.comment,
      },
      input.caller,
    );
    if (outcome.kind === 'pending') return pendingRequest(ctx, input.path.name, outcome.request);
    return { model_version: versionJson(outcome.value) };
  },
  async listTransitions({ registry }, { path, query: q }) {
    const page = await registry.listTransitions(path.name, {
      version: q.version === undefined ? undefined : parseVersionNumber(q.version),
      maxResults: q.max_results,
      pageToken: q.page_token,
    });
    return {
      transitions: page.items.map(transitionJson),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  },
  async searchModelVersions({ registry }, { query: q }) {
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
  async listTransitionRequests({ governance }, { path, query: q }) {
    const page = await governance.listRequests(path.name, {
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
    return { transition_request: requestJson(await governance.getRequest(path.name, path.request_id)) };
  },
  async approveTransitionRequest({ governance }, { path, body: b, caller }) {
    return {
      transition_request: requestJson(
        await governance.approve(path.name, path.request_id, caller, b.comment),
      ),
    };
  },
  async rejectTransitionRequest({ governance }, { path, body: b, caller }) {
    return {
      transition_request: requestJson(await governance.reject(path.name, path.request_id, caller, b.reason)),
    };
  },
  async cancelTransitionRequest({ governance }, { path, body: b, caller }) {
    return {
      transition_request: requestJson(await governance.cancel(path.name, path.request_id, caller, b.reason)),
    };
  },
  async rollbackProduction({ governance }, { path, body: b, caller }) {
    return { model_version: versionJson(await governance.rollback(path.name, caller, b.comment)) };
  },
  async getGovernancePolicy({ policies }, { path }) {
    return policyResponseJson(await policies.getPolicy(path.name));
  },
  async setGovernancePolicy({ policies }, { path, body: b, caller }) {
    return policyOutcome(await policies.setPolicy(path.name, b.policy, caller, b.comment));
  },
  async deleteGovernancePolicy({ policies }, { path, query: q, caller }) {
    return policyOutcome(await policies.deletePolicy(path.name, caller, q.comment));
  },
  async listPolicyChangeRequests({ policies }, { path, query: q }) {
    const page = await policies.listRequests(path.name, {
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
    return { policy_request: policyRequestJson(await policies.getRequest(path.name, path.request_id)) };
  },
  async approvePolicyChangeRequest({ policies }, { path, body: b, caller }) {
    return {
      policy_request: policyRequestJson(
        await policies.approve(path.name, path.request_id, caller, b.comment),
      ),
    };
  },
  async rejectPolicyChangeRequest({ policies }, { path, body: b, caller }) {
    return {
      policy_request: policyRequestJson(await policies.reject(path.name, path.request_id, caller, b.reason)),
    };
  },
  async cancelPolicyChangeRequest({ policies }, { path, body: b, caller }) {
    return {
      policy_request: policyRequestJson(await policies.cancel(path.name, path.request_id, caller, b.reason)),
    };
  },
  async listOpenTransitionRequests({ governance }, { query: q }) {
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
    const b = input.body;
    return {
      model_version: versionJson(
        await breakGlass.transition(
          input.path.name,
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
  async breakGlassSetAlias({ breakGlass }, { path, body: b, caller }) {
    await breakGlass.setAlias(path.name, path.alias, parseVersionNumber(b.version), caller, b.reason);
    return {};
  },
  async breakGlassDeleteAlias({ breakGlass }, { path, query, caller }) {
    await breakGlass.deleteAlias(path.name, path.alias, caller, query.reason);
    return {};
  },
  async breakGlassDeleteModelVersion({ breakGlass }, input) {
    const q = input.query;
    await breakGlass.deleteVersion(input.path.name, v(input), input.caller, q.reason);
    return {};
  },
  async breakGlassDeleteRegisteredModel({ breakGlass }, { path, query, caller }) {
    await breakGlass.deleteModel(path.name, caller, query.reason);
    return {};
  },
  async getAuditLog({ governance }, { path, query: q }) {
    const page = await governance.auditLog(path.name, {
      ...(q.version !== undefined ? { version: parseVersionNumber(q.version) } : {}),
      maxResults: q.max_results,
      ...(q.page_token ? { pageToken: q.page_token } : {}),
    });
    return {
      // A model's audit log holds only events about it.
      entries: page.items.filter(isModelEvent).map(auditJson),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  },
  async getStageHistory({ governance }, { path, query: q }) {
    const stage = parseStage(q.stage);
    return { stage, at: q.at, versions: await governance.versionsInStageAt(path.name, stage, q.at) };
  },
  async replayEvents({ replay }, { body: b }) {
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

  async createWebhook({ webhooks }, { body: b, caller }) {
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
  async listWebhooks({ webhooks }, { query: q }) {
    const page = await webhooks.list({ maxResults: q.max_results, pageToken: q.page_token });
    return {
      webhooks: page.items.map(webhookJson),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  },
  async getWebhook({ webhooks }, { path }) {
    return { webhook: webhookJson(await webhooks.get(path.webhook_id!)) };
  },
  async updateWebhook({ webhooks }, { path, body: b, caller }) {
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
  async testWebhook({ webhooks }, { path, body: b }) {
    return webhookTestJson(
      await webhooks.test(path.webhook_id!, b.event ? parseWebhookEventName(b.event) : undefined),
    );
  },
  async listWebhookDeliveries({ webhooks }, { path, query: q }) {
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
