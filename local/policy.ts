/**
 * The deployment-wide governance policy of `npm start`: `--policy <value>` (or `--policy=<value>`)
 * over GOVERNANCE_POLICY, each a profile name (`governed`, `mlflow`) or a JSON policy, read as the
 * deployed functions read the construct's `governancePolicy`.
 */
import { POLICY_PROFILES, parseDeploymentPolicy } from '../functions/domain/governance';

export interface PolicyChoice {
  /** As given: what the functions receive in GOVERNANCE_POLICY. */
  readonly text: string;
  readonly from: '--policy' | 'GOVERNANCE_POLICY';
}

export class PolicyOptionError extends Error {}

export function policyOption(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): PolicyChoice | undefined {
  let text: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--policy') {
      text = argv[i + 1];
      if (text === undefined || text.startsWith('--')) {
        throw new PolicyOptionError(
          `--policy needs a value: ${Object.keys(POLICY_PROFILES).join(' or ')}, or a JSON policy.`,
        );
      }
      i++;
    } else if (arg.startsWith('--policy=')) {
      text = arg.slice('--policy='.length);
    }
  }
  const choice: PolicyChoice | undefined =
    text !== undefined
      ? { text, from: '--policy' }
      : env.GOVERNANCE_POLICY?.trim()
        ? { text: env.GOVERNANCE_POLICY, from: 'GOVERNANCE_POLICY' }
        : undefined;
  if (!choice) return undefined;
  try {
    parseDeploymentPolicy(choice.text);
  } catch (err) {
    throw new PolicyOptionError(`${choice.from}: ${(err as Error).message}`);
  }
  return choice;
}

/** One line for the start-up banner. */
export function describePolicy(choice: PolicyChoice | undefined): string {
  const name = choice?.text.trim();
  if (!name || name === 'governed') {
    return "governed (Production and @champion need an approval by another person; --policy mlflow for MLflow's behaviour)";
  }
  if (name === 'mlflow')
    return "mlflow (MLflow's behaviour: no guarded stages or protected aliases, live versions deletable)";
  return `custom policy from ${choice!.from}`;
}
