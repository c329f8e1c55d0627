/** Lambda entry point of the `download` group: presigned GETs of READY versions, models:/ resolution. */
import { buildApiHandler } from './api-factory';
import { artifactService } from './artifact-runtime';
import { readEnvironment } from './runtime';

const env = readEnvironment();

export const handler = buildApiHandler('download', env, {
  artifacts: (services, queue) => artifactService(env, services, queue),
});
