/**
 * Governance rules as properties (fast-check): quality gates parse in linear time and refuse
 * anything else with InvalidParameterError only, the implication between gates is sound, a policy
 * never weakens itself or the stricter of itself and another, and the strict policy schema refuses
 * every input that is not a policy, naming the offending field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../functions/domain/errors';
import {
  DEFAULT_POLICY,
  failedGates,
  formatGate,
  type GateOperator,
  type GovernancePolicy,
  gatesImply,
  MLFLOW_POLICY,
  POLICY_FIELDS,
  parseGate,
  parsePolicyOverride,
  type QualityGate,
  stricterPolicy,
  weakenings,
} from '../../functions/domain/governance';
import { STAGES, type Stage } from '../../functions/domain/model';
import { CARD_SECTIONS } from '../../functions/domain/model-card';

const OPERATORS: readonly GateOperator[] = ['>=', '>', '<=', '<', '=='];

/** Runs `parseGate` and reports what it did: a gate, or the class of what it threw. */
function tryParse(text: string): QualityGate | Error {
  try {
    return parseGate(text);
  } catch (err) {
    return err as Error;
  }
}

// ------------------------------------------------------------------ generators

const metricChar = fc.constantFrom(...'abcxyz_09.-/'.split(''));
/** Metric names as gates allow them: letters, digits, _ . - / and inner spaces. */
const metricName = fc
  .tuple(metricChar, fc.array(fc.oneof(metricChar, fc.constant(' ')), { maxLength: 30 }), metricChar)
  .map(([a, mid, b]) => `${a}${mid.join('')}${b}`);
const threshold = fc
  .double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 })
  .map((x) => (Object.is(x, -0) ? 0 : x));
const gate: fc.Arbitrary<QualityGate> = fc.record({
  metric: metricName,
  operator: fc.constantFrom(...OPERATORS),
  threshold,
});

/** Gates over few metrics and thresholds, so that sets of gates overlap and share boundaries. */
const SMALL_THRESHOLDS = [-1, 0, 0.5, 0.9, 1, 2];
const smallGate: fc.Arbitrary<QualityGate> = fc.record({
  metric: fc.constantFrom('accuracy', 'latency'),
  operator: fc.constantFrom(...OPERATORS),
  threshold: fc.constantFrom(...SMALL_THRESHOLDS),
});
/** Metric values to test gates with: every threshold, its neighbours and far-away values. */
const SAMPLE_VALUES = [
  -Infinity,
  -1e9,
  ...SMALL_THRESHOLDS.flatMap((t) => [t - 0.25, t - Number.EPSILON * 4, t, t + Number.EPSILON * 4, t + 0.25]),
  1e9,
  Infinity,
];

const guardable = STAGES.filter((s) => s !== 'None') as Stage[];
const policy: fc.Arbitrary<GovernancePolicy> = fc.record({
  guardedStages: fc.subarray(guardable),
  protectedAliases: fc.subarray(['champion', 'challenger', 'canary']),
  requiredApprovals: fc.integer({ min: 1, max: 10 }),
  requesterMayApprove: fc.boolean(),
  requestTtlHours: fc.constantFrom(0.001, 1, 24, 168, 8760),
  protectLiveVersions: fc.boolean(),
  qualityGates: fc.array(smallGate, { maxLength: 4 }),
  requiredCardSections: fc.subarray([...CARD_SECTIONS]),
  rollbackRequiresGates: fc.boolean(),
  policyChangesNeedApproval: fc.boolean(),
});

// ------------------------------------------------------------------ quality gates

describe('parsing a quality gate', () => {
  it('returns a gate or throws InvalidParameterError, nothing else, for any string', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 400 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      fc.string({ unit: 'binary', maxLength: 100 }),
      fc
        .array(
          fc.constantFrom(
            'a',
            ' ',
            '>',
            '<',
            '=',
            '>=',
            '==',
            '1',
            '.',
            'e',
            '-',
            '+',
            '\u00e9',
            '\u{1f600}',
          ),
          {
            maxLength: 400,
          },
        )
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(text, (s) => {
        const result = tryParse(s);
        if (result instanceof Error) expect(result).toBeInstanceOf(InvalidParameterError);
        else expect(OPERATORS).toContain(result.operator);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a non-string with InvalidParameterError', () => {
    for (const value of [undefined, null, 3, {}, ['a >= 1']]) {
      expect(tryParse(value as unknown as string)).toBeInstanceOf(InvalidParameterError);
    }
  });

  it('takes time linear in its input: adversarial gates of any length answer at once', () => {
    const adversarial = (n: number) => [
      'a'.repeat(n) + ' '.repeat(n) + '>',
      'a'.repeat(n) + ' '.repeat(n) + '>' + ' '.repeat(n),
      'a >' + '1'.repeat(n) + 'x',
      'a > ' + '1'.repeat(n) + '.' + '1'.repeat(n) + 'e',
      'a' + ' a'.repeat(n) + ' >= 1!',
      '>'.repeat(n),
      '=<'.repeat(n),
      ' '.repeat(n) + '>=' + ' '.repeat(n),
      '\u{1f600}'.repeat(n) + ' >= 1',
    ];
    // Up to 100,000 repetitions: more than an API request body (256 KB) can carry.
    for (const n of [10, 100, 149, 1_000, 6_000, 100_000]) {
      for (const text of adversarial(n)) {
        expect(tryParse(text)).toBeInstanceOf(InvalidParameterError);
        // A backtracking parser took 8 s on 6,000 characters (minutes on 100,000); linear takes
        // microseconds. The best of three runs, so a busy machine's pauses do not count.
        let elapsed = Number.POSITIVE_INFINITY;
        for (let run = 0; run < 3; run++) {
          const started = performance.now();
          tryParse(text);
          elapsed = Math.min(elapsed, performance.now() - started);
        }
        expect(elapsed, `${text.length} characters: ${elapsed.toFixed(1)} ms`).toBeLessThan(250);
      }
    }
  });

  it('names a gate that is too long without echoing it whole', () => {
    const error = tryParse(`${'a'.repeat(6000)} >= 1`);
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as Error).message).toContain('at most 300 characters');
    expect((error as Error).message.length).toBeLessThan(400);
  });

  it('reads back what it formats, for any gate', () => {
    fc.assert(
      fc.property(gate, (g) => {
        expect(parseGate(formatGate(g))).toEqual(g);
      }),
      { numRuns: 1000 },
    );
  });

  it('reads the same gate whatever the spacing around the operator', () => {
    fc.assert(
      fc.property(gate, fc.nat(3), fc.nat(3), (g, before, after) => {
        const text = `${g.metric}${' '.repeat(before)}${g.operator}${' '.repeat(after)}${g.threshold}`;
        expect(parseGate(text)).toEqual(g);
      }),
    );
  });
});

describe('gate implication', () => {
  it('is sound: whenever every gate of a set passes, each gate the set implies passes', () => {
    fc.assert(
      fc.property(fc.array(smallGate, { maxLength: 4 }), smallGate, (gates, implied) => {
        fc.pre(gatesImply(gates, implied));
        for (const value of SAMPLE_VALUES) {
          const metrics = { [implied.metric]: value };
          const setPasses =
            failedGates(
              metrics,
              gates.filter((g) => g.metric === implied.metric),
            ).length === 0;
          if (setPasses) {
            expect(
              failedGates(metrics, [implied]),
              `${gates.map(formatGate).join(', ')} passes ${value} but ${formatGate(implied)} does not`,
            ).toEqual([]);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('holds for a gate and itself, and for a set containing it', () => {
    fc.assert(
      fc.property(fc.array(smallGate, { maxLength: 4 }), smallGate, (others, g) => {
        expect(gatesImply([g], g)).toBe(true);
        expect(gatesImply([...others, g], g)).toBe(true);
      }),
    );
  });

  it('knows a stricter threshold implies a looser one, and not the other way round', () => {
    const g = (text: string) => parseGate(text);
    expect(gatesImply([g('accuracy >= 0.95')], g('accuracy >= 0.9'))).toBe(true);
    expect(gatesImply([g('accuracy >= 0.9')], g('accuracy >= 0.95'))).toBe(false);
    expect(gatesImply([g('accuracy > 0.9')], g('accuracy >= 0.9'))).toBe(true);
    expect(gatesImply([g('accuracy >= 0.9')], g('accuracy > 0.9'))).toBe(false);
    expect(gatesImply([g('accuracy == 1')], g('accuracy <= 1'))).toBe(true);
    expect(gatesImply([g('latency < 10')], g('accuracy >= 0.9'))).toBe(false);
    expect(gatesImply([], g('accuracy >= 0.9'))).toBe(false);
  });
});

// ------------------------------------------------------------------ comparing policies

describe('comparing policies', () => {
  it('never finds a policy weaker than itself', () => {
    fc.assert(
      fc.property(policy, (p) => {
        expect(weakenings(p, p)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('never finds the stricter of two policies weaker than either', () => {
    fc.assert(
      fc.property(policy, policy, (a, b) => {
        const strict = stricterPolicy(a, b);
        expect(weakenings(a, strict)).toEqual([]);
        expect(weakenings(b, strict)).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  it('lets through under the stricter policy only what both policies let through (gates)', () => {
    fc.assert(
      fc.property(policy, policy, fc.constantFrom(...SAMPLE_VALUES), (a, b, value) => {
        const metrics = { accuracy: value, latency: value };
        const strict = stricterPolicy(a, b);
        if (failedGates(metrics, strict.qualityGates).length === 0) {
          expect(failedGates(metrics, a.qualityGates)).toEqual([]);
          expect(failedGates(metrics, b.qualityGates)).toEqual([]);
        }
        expect(strict.requiredApprovals).toBe(Math.max(a.requiredApprovals, b.requiredApprovals));
        expect(strict.requesterMayApprove).toBe(a.requesterMayApprove && b.requesterMayApprove);
      }),
      { numRuns: 500 },
    );
  });

  it('finds every step from the governed default to the mlflow profile a weakening', () => {
    expect(weakenings(DEFAULT_POLICY, MLFLOW_POLICY)).toEqual([
      'stage Production no longer guarded',
      'alias @champion no longer protected',
      'requester_may_approve false → true',
      'protect_live_versions true → false',
      'rollback_requires_gates true → false',
      'policy_changes_need_approval true → false',
    ]);
    expect(weakenings(MLFLOW_POLICY, DEFAULT_POLICY)).toEqual([]);
  });

  it('does not count a longer or shorter request lifetime as a weakening', () => {
    fc.assert(
      fc.property(policy, fc.constantFrom(0.001, 1, 8760), (p, ttl) => {
        expect(weakenings(p, { ...p, requestTtlHours: ttl })).toEqual([]);
      }),
    );
  });
});

// ------------------------------------------------------------------ the strict schema

const WIRE_NAMES = Object.values(POLICY_FIELDS).map((f) => f.wire);

/** Values of the wrong type for each field (none of them valid for it). */
const WRONG_VALUES: Record<string, fc.Arbitrary<unknown>> = {
  guarded_stages: fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.object()),
  protected_aliases: fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.object()),
  required_approvals: fc.oneof(
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.integer()),
    fc.integer({ min: 11 }),
    fc.integer({ max: 0 }),
    fc.double({ min: 1.1, max: 9.9, noNaN: true }).filter((x) => !Number.isInteger(x)),
  ),
  requester_may_approve: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.boolean())),
  request_ttl_hours: fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.integer({ max: 0 })),
  protect_live_versions: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.object()),
  quality_gates: fc.oneof(
    fc.string(),
    fc.integer(),
    fc.constant(null),
    fc.array(fc.integer(), { minLength: 1 }),
    fc.constant(['accuracy ~ 0.9']),
  ),
  required_card_sections: fc.oneof(
    fc.string(),
    fc.integer(),
    fc.constant(null),
    fc.object(),
    fc.array(fc.integer(), { minLength: 1 }),
    fc
      .array(fc.string(), { minLength: 1 })
      .filter((names) => names.some((n) => !(CARD_SECTIONS as readonly string[]).includes(n.trim()))),
  ),
  rollback_requires_gates: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
  policy_changes_need_approval: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
};

function refusal(input: unknown): InvalidParameterError {
  try {
    parsePolicyOverride(input);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidParameterError);
    return err as InvalidParameterError;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('the strict policy schema', () => {
  it('has a wrong-value generator for every field', () => {
    expect(Object.keys(WRONG_VALUES).sort()).toEqual([...WIRE_NAMES].sort());
  });

  it.each([
    ['__proto__', '{"__proto__": {"required_approvals": 1}}'],
    [
      '__proto__ next to a valid field',
      '{"required_approvals": 2, "__proto__": {"requester_may_approve": true}}',
    ],
    ['constructor', '{"constructor": {"prototype": {"requester_may_approve": true}}}'],
    ['prototype', '{"prototype": {}}'],
  ])('refuses %s, naming it, and pollutes nothing', (_what, json) => {
    const key = /"(__proto__|constructor|prototype)"/.exec(json)![1]!;
    expect(refusal(JSON.parse(json)).message).toContain(`unknown field '${key}'`);
    expect(({} as Record<string, unknown>).requester_may_approve).toBeUndefined();
    expect(({} as Record<string, unknown>).required_approvals).toBeUndefined();
  });

  it.each([
    ['null', null],
    ['an array', [{ required_approvals: 2 }]],
    ['a string', 'governed'],
    ['a number', 2],
    ['undefined', undefined],
  ])('refuses %s, saying a policy is an object with one of its fields', (_what, input) => {
    expect(refusal(input).message).toMatch(/^policy must be an object with at least one of guarded_stages, /);
  });

  it('refuses an empty policy, pointing at DELETE for removing overrides', () => {
    expect(refusal({}).message).toContain('policy is empty');
    expect(refusal({}).message).toContain('DELETE /models/{name}/policy');
  });

  it('refuses any unknown field, naming it', () => {
    const unknownKey = fc
      .stringMatching(/^[a-z_]{1,40}$/)
      .filter((k) => !WIRE_NAMES.includes(k as never) && !k.startsWith('__'));
    fc.assert(
      fc.property(unknownKey, fc.jsonValue(), (key, value) => {
        expect(refusal({ [key]: value, required_approvals: 2 }).message).toContain(`unknown field '${key}'`);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a wrong type or value in any field, naming the field', () => {
    const field = fc.constantFrom(...WIRE_NAMES);
    fc.assert(
      fc.property(
        field.chain((name) => fc.tuple(fc.constant(name), WRONG_VALUES[name]!)),
        ([name, value]) => {
          expect(refusal({ [name]: value }).message).toMatch(new RegExp(`^policy\\.${name}\\b`));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('reads what it writes: any whole policy round-trips through its wire form', () => {
    fc.assert(
      fc.property(policy, (p) => {
        const wire = Object.fromEntries(
          (Object.keys(POLICY_FIELDS) as (keyof GovernancePolicy)[]).map((k) => [
            POLICY_FIELDS[k].wire,
            (POLICY_FIELDS[k].toWire as (v: unknown) => unknown)(p[k]),
          ]),
        );
        expect(parsePolicyOverride(JSON.parse(JSON.stringify(wire)))).toEqual(p);
      }),
      { numRuns: 300 },
    );
  });
});
