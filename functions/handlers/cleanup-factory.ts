/**
 * The cleanup function: the rule `RULES.retireArtifacts` delivers each RegisteredModelDeleted and
 * ModelVersionDeleted event, and the function marks the deleted files (ArtifactRetention). Locally
 * the same handler runs from the local rule with the same pattern.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { s3Client } from '../adapters/s3/artifact-store';
import { S3DeletedArtifactMarker } from '../adapters/s3/deleted-artifact-marker';
import { type ArtifactDeletion, ArtifactRetention } from '../use-cases/artifact-retention';
import { type Environment, logger, observeCalls, parseEnvironment, type SdkCallObserver } from './runtime';

const deleted = z.discriminatedUnion('detail-type', [
  z.object({
    'detail-type': z.literal('RegisteredModelDeleted'),
    detail: z.object({ model: z.object({ id: z.string().min(1) }) }),
  }),
  z.object({
    'detail-type': z.literal('ModelVersionDeleted'),
    detail: z.object({ model: z.object({ id: z.string().min(1) }), version: z.number().int().positive() }),
  }),
]);

export type CleanupHandler = middy.MiddyfiedHandler<unknown, { prefix: string; objects: number }>;

export function buildCleanupHandler(env: Environment, observe?: SdkCallObserver): CleanupHandler {
  const settings = parseEnvironment(env);
  if (!settings.ARTIFACT_BUCKET)
    throw new Error('Invalid function configuration: ARTIFACT_BUCKET is not set');
  const s3 = observeCalls(s3Client({ endpoint: settings.S3_ENDPOINT }), observe);
  const retention = new ArtifactRetention(new S3DeletedArtifactMarker(s3, settings.ARTIFACT_BUCKET));
  return middy<unknown, { prefix: string; objects: number }>()
    .use(injectLambdaContext(logger))
    .handler(async (event) => {
      const e = deleted.parse(event);
      const deletion: ArtifactDeletion =
        e['detail-type'] === 'RegisteredModelDeleted'
          ? { kind: 'model', modelId: e.detail.model.id }
          : { kind: 'version', modelId: e.detail.model.id, version: e.detail.version };
      const result = await retention.retire(deletion);
      logger.info('Marked the files of a deletion', { ...deletion, ...result });
      return result;
    });
}
