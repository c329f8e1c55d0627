/**
 * The approval state machine definition (functions/deployment/approval-workflow.ts) is valid Amazon
 * States Language: the JSON the stack deploys and the local runtime runs passes asl-validator,
 * including its JSONPath and ARN checks.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { approvalWorkflowDefinition, TASK_ACTIONS } from '../../functions/deployment/approval-workflow';

interface AslValidation {
  isValid: boolean;
  errors: { message?: string }[];
  errorsText(separator?: string): string;
}
type AslValidator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => AslValidation;

// asl-validator 4 is a CommonJS module without type declarations.
const aslValidator = createRequire(__filename)('asl-validator') as AslValidator;

const WORKFLOW_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:wf';

/** The validator annotates the definition it checks (QueryLanguage): give it a copy. */
const validate = (definition: unknown) =>
  aslValidator(structuredClone(definition), { checkPaths: true, checkArn: true });

describe('approval workflow definition', () => {
  it('is valid ASL (schema, transitions, terminal states, JSONPath and ARNs)', () => {
    const result = validate(approvalWorkflowDefinition(WORKFLOW_ARN));
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('the validator does catch a broken definition', () => {
    const broken = approvalWorkflowDefinition(WORKFLOW_ARN) as { States: Record<string, any> };
    broken.States.Prepare.Next = 'NoSuchState';
    expect(validate(broken).isValid).toBe(false);
  });

  it('invokes only the given workflow function, from every Task state', () => {
    const { States } = approvalWorkflowDefinition(WORKFLOW_ARN) as { States: Record<string, any> };
    const tasks = Object.entries(States).filter(([, s]) => s.Type === 'Task');
    expect(tasks.map(([name]) => name).sort()).toEqual(Object.keys(TASK_ACTIONS).sort());
    for (const [name, state] of tasks) {
      expect(state.Parameters.FunctionName, name).toBe(WORKFLOW_ARN);
      expect(state.Parameters.Payload.action, name).toBe(TASK_ACTIONS[name]);
    }
  });
});
