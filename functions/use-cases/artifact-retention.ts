/**
 * What happens to the files of a deleted model or version: they are marked deleted at once (so no
 * download URL issued before works any longer) and kept for the retention window before storage
 * expires them (so an accidental delete can still be undone by an operator). No AWS SDK here.
 */
import { artifactModelPrefix, artifactPrefix } from '../domain/artifacts';

/** Marks every stored object under a key prefix deleted (deployed: the registry-deleted tag). */
export interface DeletedArtifactMarker {
  /** Returns how many objects it marked; marking an object again is harmless. */
  markDeleted(prefix: string): Promise<number>;
}

/** A deletion as the registry's events report it. */
export type ArtifactDeletion =
  | { readonly kind: 'model'; readonly modelId: string }
  | { readonly kind: 'version'; readonly modelId: string; readonly version: number };

export class ArtifactRetention {
  constructor(private readonly marker: DeletedArtifactMarker) {}

  /** Marks the deleted model's (or version's) files; safe to repeat for the same deletion. */
  async retire(deletion: ArtifactDeletion): Promise<{ prefix: string; objects: number }> {
    const prefix =
      deletion.kind === 'model'
        ? artifactModelPrefix(deletion.modelId)
        : artifactPrefix(deletion.modelId, deletion.version);
    return { prefix, objects: await this.marker.markDeleted(prefix) };
  }
}
