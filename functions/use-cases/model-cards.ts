/**
 * Model cards of versions: read, written as a whole (validated and bounded by
 * functions/domain/model-card.ts), every edit recorded as a ModelCardUpdated event with the
 * sections it changed and their before and after, in the same transaction as the card. The
 * governance gate on required sections reads cards through the same port (governance.ts). No AWS
 * SDK here.
 */
import { createHash } from 'node:crypto';
import { ConcurrentModificationError, ResourceNotFoundError } from '../domain/errors';
import type { Principal } from '../domain/identity';
import { cardEditRecord, changedSections, type ModelCard, parseModelCard } from '../domain/model-card';
import type { RegistryCore, VersionView } from './core';

/** Attempts of an edit that lost a race with another edit of the same card (each re-reads it). */
const ATTEMPTS_ON_CONFLICT = 5;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export class ModelCardService {
  constructor(private readonly core: RegistryCore) {}

  private get repo() {
    return this.core.repo;
  }

  /** A version's card; ResourceNotFoundError when the version (or its card) does not exist. */
  async getCard(name: string, version: number): Promise<ModelCard> {
    const model = await this.core.requireModel(name);
    const [, stored] = await Promise.all([
      this.core.requireVersion(model, version),
      this.repo.getModelCard(model, version),
    ]);
    if (!stored) {
      throw new ResourceNotFoundError(
        `Model Version (name=${model.name}, version=${version}) has no model card; write one with PUT /models/${model.name}/versions/${version}/card.`,
      );
    }
    return stored.card;
  }

  /**
   * Replaces a version's card with `input` (JSON, validated). An edit that changes nothing writes
   * and records nothing; otherwise the card and its ModelCardUpdated event are written together,
   * conditioned on the card being as read (a concurrent edit makes this one read again).
   */
  async putCard(name: string, version: number, input: unknown, caller: Principal): Promise<ModelCard> {
    const card = parseModelCard(input);
    const model = await this.core.requireModel(name);
    // The version (for a clear 404 before anything is attempted) and the card, in one round trip;
    // a retry reads the card again.
    let [, stored] = await Promise.all([
      this.core.requireVersion(model, version),
      this.repo.getModelCard(model, version),
    ]);
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) stored = await this.repo.getModelCard(model, version);
      if (stored && changedSections(stored.card, card).length === 0) return stored.card;
      const event = this.core.event(
        'ModelCardUpdated',
        model,
        caller,
        cardEditRecord(stored?.card, card, sha256),
        version,
      );
      try {
        const written = await this.repo.recording(event).putModelCard(model, version, card, {
          expectedRevision: stored?.revision ?? null,
          now: this.core.clock.now(),
          actor: caller.arn,
        });
        return written.card;
      } catch (err) {
        if (!(err instanceof ConcurrentModificationError) || attempt >= ATTEMPTS_ON_CONFLICT) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** attempt));
      }
    }
  }

  /** A version as `GET /models/{name}/versions/{version}` shows it: with its card, if it has one. */
  async versionWithCard(name: string, version: number): Promise<VersionView> {
    // The model, the version and its card in one round trip (domain/model-id.ts).
    const {
      model,
      value: { version: found, card: stored },
    } = await this.core.requireModelWith(name, (m) => this.repo.getVersionWithCard(m, version));
    if (!found) throw new ResourceNotFoundError(`Model Version (name=${name}, version=${version}) not found`);
    const view = this.core.view(model, found);
    return stored ? { ...view, card: stored.card } : view;
  }
}
