/** Lambda entry point of the workflow function (the Task states of the approval state machine). */
import { readEnvironment } from './runtime';
import { buildWorkflowHandler } from './workflow-factory';

export const handler = buildWorkflowHandler(readEnvironment());
