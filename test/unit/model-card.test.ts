/**
 * Model cards in the domain: the schema and its bounds, which sections count as filled in, the
 * diff of two cards (with a property test), the bounded record of an edit, and the policy's
 * required sections as a quality gate.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError, LimitExceededError } from '../../functions/domain/errors';
import {
  DEFAULT_POLICY,
  gateFailures,
  parsePolicyOverride,
  stricterPolicy,
  weakenings,
} from '../../functions/domain/governance';
import {
  CARD_EVENT_INLINE_BYTES,
  CARD_LIMITS,
  CARD_SECTIONS,
  type CardSection,
  canonicalJson,
  cardBytes,
  cardEditRecord,
  changedSections,
  isFilled,
  type ModelCard,
  missingSections,
  parseModelCard,
  sectionChanges,
} from '../../functions/domain/model-card';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

const full: ModelCard = {
  model_details: {
    overview: 'Predicts churn within 30 days.',
    owners: [{ name: 'Growth ML', contact: 'ml@example.com' }],
    license: 'Apache-2.0',
    references: ['https://example.com/paper'],
  },
  intended_use: {
    primary_uses: 'Retention campaigns.',
    primary_users: 'The growth team.',
    out_of_scope_uses: 'Credit decisions.',
  },
  training_data: { name: 'churn-2026-10', digest: 'sha256:aaa', uri: 's3://data/churn/2026-10/' },
  evaluation_data: { name: 'churn-2026-11', description: 'A later month.' },
  metrics: [
    { name: 'recall', value: 0.81 },
    { name: 'recall', value: 0.78, slice: 'sex=female', description: 'Within 0.05 of overall.' },
  ],
  limitations: 'Trained on EU customers only.',
  known_failure_modes: 'New customers (under a month) are scored at random.',
  ethical_considerations: [{ name: 'Fairness', mitigation: 'Recall checked per sex.' }],
  caveats: 'Retrain monthly.',
};

function invalid(input: unknown): string {
  try {
    parseModelCard(input);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidParameterError);
    return (err as Error).message;
  }
  throw new Error('expected the card to be refused');
}

describe('parseModelCard', () => {
  it('accepts a full card, an empty one and any subset of sections', () => {
    expect(parseModelCard(full)).toEqual(full);
    expect(parseModelCard({})).toEqual({});
    expect(parseModelCard({ limitations: 'None known.' })).toEqual({ limitations: 'None known.' });
  });

  it('refuses unknown fields at every level, naming where and what the fields are', () => {
    expect(invalid({ colour: 'red' })).toBe(
      `model_card: unknown field 'colour'; the fields are ${CARD_SECTIONS.join(', ')}.`,
    );
    expect(invalid({ intended_use: { primary_uses: 'x', audience: 'y' } })).toBe(
      "model_card.intended_use: unknown field 'audience'; the fields are primary_uses, primary_users, out_of_scope_uses.",
    );
    expect(
      invalid({
        metrics: [
          { name: 'auc', value: 0.9 },
          { name: 'f1', value: 1, group: 'x' },
        ],
      }),
    ).toBe("model_card.metrics.1: unknown field 'group'; the fields are name, value, slice, description.");
    expect(invalid({ model_details: { owners: [{ name: 'a', email: 'b' }] } })).toContain(
      "model_card.model_details.owners.0: unknown field 'email'; the fields are name, contact.",
    );
  });

  it('refuses wrong types, unnamed metrics, and text and lists over their bounds', () => {
    expect(invalid(null)).toContain('model_card must be a JSON object');
    expect(invalid([])).toContain('model_card must be a JSON object');
    expect(invalid({ limitations: 42 })).toMatch(/^model_card\.limitations: /);
    expect(invalid({ metrics: [{ name: '', value: 1 }] })).toBe(
      'model_card.metrics.0.name: a metric needs a name.',
    );
    expect(invalid({ metrics: [{ name: 'auc', value: '0.9' }] })).toMatch(/^model_card\.metrics\.0\.value: /);
    expect(invalid({ caveats: 'x'.repeat(CARD_LIMITS.longText + 1) })).toBe(
      'model_card.caveats: caveats is at most 20,000 characters.',
    );
    expect(
      invalid({
        metrics: Array.from({ length: CARD_LIMITS.metrics + 1 }, (_, i) => ({ name: `m${i}`, value: i })),
      }),
    ).toBe('model_card.metrics: at most 200 metrics.');
  });

  it('counts the whole card in UTF-8 bytes: multi-byte text within every string bound is refused as too large', () => {
    // 7 sections of 10,000 four-byte characters: 20,000 UTF-16 units each (within the string
    // bound), 40,000 bytes each, 280 KB in all.
    const emoji = '😀'.repeat(10_000);
    const card = {
      limitations: emoji,
      known_failure_modes: emoji,
      caveats: emoji,
      intended_use: { primary_uses: emoji, primary_users: emoji, out_of_scope_uses: emoji },
      model_details: { overview: emoji },
    };
    expect(() => parseModelCard(card)).toThrow(LimitExceededError);
    expect(() => parseModelCard(card)).toThrow(/bytes as UTF-8 JSON; the limit is 131,072 bytes/);
    const ascii = { ...card, limitations: 'x'.repeat(10_000) };
    expect(cardBytes(ascii as ModelCard)).toBeGreaterThan(CARD_LIMITS.bytes);
    expect(() => parseModelCard({ limitations: 'é'.repeat(20_000) })).not.toThrow();
  });
});

describe('filled sections', () => {
  it('counts a section filled when it holds non-blank text or a number', () => {
    expect(CARD_SECTIONS.every((s) => isFilled(full, s))).toBe(true);
    const blank: ModelCard = {
      model_details: { owners: [{ name: ' ', contact: '' }], references: [] },
      intended_use: {},
      metrics: [],
      limitations: '  \n',
      ethical_considerations: [],
    };
    expect(CARD_SECTIONS.filter((s) => isFilled(blank, s))).toEqual([]);
    expect(isFilled({ metrics: [{ name: 'auc', value: 0 }] }, 'metrics')).toBe(true);
    expect(isFilled({ model_details: { owners: [{ contact: 'a@b' }] } }, 'model_details')).toBe(true);
  });

  it('lists the required sections a card lacks, in section order; no card lacks them all', () => {
    expect(
      missingSections({ caveats: 'x', limitations: ' ' }, ['limitations', 'caveats', 'intended_use']),
    ).toEqual(['intended_use', 'limitations']);
    expect(missingSections(undefined, ['caveats', 'metrics'])).toEqual(['metrics', 'caveats']);
    expect(missingSections(full, [...CARD_SECTIONS])).toEqual([]);
  });
});

describe('the diff of two cards', () => {
  it('names the sections whose content changed, ignoring the order of keys', () => {
    expect(changedSections(full, full)).toEqual([]);
    expect(changedSections(undefined, { limitations: 'x' })).toEqual(['limitations']);
    expect(changedSections(full, { ...full, caveats: undefined, limitations: 'Other.' })).toEqual([
      'limitations',
      'caveats',
    ]);
    const reordered: ModelCard = {
      ...full,
      intended_use: {
        out_of_scope_uses: full.intended_use!.out_of_scope_uses!,
        primary_users: full.intended_use!.primary_users!,
        primary_uses: full.intended_use!.primary_uses!,
      },
    };
    expect(changedSections(full, reordered)).toEqual([]);
    // A list's order is content.
    expect(changedSections(full, { ...full, metrics: [...full.metrics!].reverse() })).toEqual(['metrics']);
  });

  const text = fc.string({ maxLength: 12 });
  const cards: fc.Arbitrary<ModelCard> = fc.record(
    {
      model_details: fc.record(
        {
          overview: text,
          owners: fc.array(fc.record({ name: text, contact: text }, { requiredKeys: [] }), { maxLength: 2 }),
          license: text,
          references: fc.array(text, { maxLength: 2 }),
        },
        { requiredKeys: [] },
      ),
      intended_use: fc.record(
        { primary_uses: text, primary_users: text, out_of_scope_uses: text },
        { requiredKeys: [] },
      ),
      training_data: fc.record(
        { name: text, digest: text, uri: text, description: text },
        { requiredKeys: [] },
      ),
      evaluation_data: fc.record(
        { name: text, digest: text, uri: text, description: text },
        { requiredKeys: [] },
      ),
      metrics: fc.array(
        fc.record(
          {
            name: fc.string({ minLength: 1, maxLength: 8 }),
            value: fc.double({ noNaN: true, noDefaultInfinity: true }),
            slice: text,
          },
          { requiredKeys: ['name', 'value'] },
        ),
        { maxLength: 3 },
      ),
      limitations: text,
      known_failure_modes: text,
      ethical_considerations: fc.array(
        fc.record(
          { name: fc.string({ minLength: 1, maxLength: 8 }), mitigation: text },
          { requiredKeys: ['name'] },
        ),
        { maxLength: 2 },
      ),
      caveats: text,
    },
    { requiredKeys: [] },
  );
  /** The same card with every object's keys in reverse order. */
  const reorder = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(reorder)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value)
              .reverse()
              .map(([k, v]) => [k, reorder(v)]),
          )
        : value;

  it('is empty exactly when the cards are equal, symmetric, and blind to key order (property)', () => {
    fc.assert(
      fc.property(cards, cards, (a, b) => {
        const diff = changedSections(a, b);
        expect(diff.length === 0).toBe(canonicalJson(a) === canonicalJson(b));
        expect(changedSections(b, a)).toEqual(diff);
        expect(changedSections(a, reorder(a) as ModelCard)).toEqual([]);
        expect(changedSections(a, a)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('names exactly the sections that differ: taking them from the second card gives it (property)', () => {
    fc.assert(
      fc.property(cards, cards, (a, b) => {
        const diff = changedSections(a, b);
        const patched: Record<string, unknown> = { ...a };
        for (const s of diff) {
          if (b[s] === undefined) delete patched[s];
          else patched[s] = b[s];
        }
        expect(canonicalJson(patched)).toBe(canonicalJson(b));
        for (const s of CARD_SECTIONS.filter((x) => !diff.includes(x))) {
          expect(canonicalJson(a[s] ?? null)).toBe(canonicalJson(b[s] ?? null));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the record of an edit', () => {
  it('carries the changed sections with their before and after', () => {
    const after: ModelCard = {
      ...full,
      limitations: 'Now also trained on US customers.',
      caveats: undefined,
    };
    const record = cardEditRecord(full, after, sha256);
    expect(record).toMatchObject({
      created: false,
      changed_sections: ['limitations', 'caveats'],
      changes: [
        {
          section: 'limitations',
          recorded: 'values',
          before: full.limitations,
          after: 'Now also trained on US customers.',
        },
        { section: 'caveats', recorded: 'values', before: full.caveats, after: null },
      ],
      card_sha256: sha256(canonicalJson(after)),
      card_bytes: cardBytes(after),
    });
    expect(cardEditRecord(undefined, {}, sha256)).toMatchObject({
      created: true,
      changed_sections: [],
      changes: [],
    });
  });

  it('records digests instead of values for the sections past the budget', () => {
    const big = (c: string) => c.repeat(CARD_LIMITS.longText);
    const before: ModelCard = { limitations: big('a'), known_failure_modes: big('b'), caveats: big('c') };
    const after: ModelCard = { limitations: big('d'), known_failure_modes: big('e'), caveats: big('f') };
    const changes = sectionChanges(before, after, sha256);
    // 40 KB per section (before and after): the first fits 64 KiB, the others do not.
    expect(changes.map((c) => c.recorded)).toEqual(['values', 'digests', 'digests']);
    expect(changes[1]).toEqual({
      section: 'known_failure_modes',
      recorded: 'digests',
      before_sha256: sha256(JSON.stringify(big('b'))),
      after_sha256: sha256(JSON.stringify(big('e'))),
    });
    const removed = sectionChanges(before, { limitations: big('a') }, sha256, 0);
    expect(removed).toEqual([
      {
        section: 'known_failure_modes',
        recorded: 'digests',
        before_sha256: expect.any(String),
        after_sha256: null,
      },
      { section: 'caveats', recorded: 'digests', before_sha256: expect.any(String), after_sha256: null },
    ]);
    const inline = changes
      .filter((c) => c.recorded === 'values')
      .reduce((n, c) => n + JSON.stringify(c).length, 0);
    expect(inline).toBeLessThanOrEqual(CARD_EVENT_INLINE_BYTES + 200);
  });
});

describe('required card sections in the governance policy', () => {
  it('parses section names (in section order, once each) and refuses unknown ones', () => {
    expect(
      parsePolicyOverride({ required_card_sections: ['limitations', 'intended_use', 'limitations'] }),
    ).toEqual({
      requiredCardSections: ['intended_use', 'limitations'],
    });
    expect(() => parsePolicyOverride({ required_card_sections: ['fairness'] })).toThrow(
      /'fairness' is not a model card section; choose from model_details, intended_use/,
    );
    expect(DEFAULT_POLICY.requiredCardSections).toEqual([]);
  });

  it('is stricter with more sections; removing one weakens the policy', () => {
    const a = { ...DEFAULT_POLICY, requiredCardSections: ['limitations'] as CardSection[] };
    const b = { ...DEFAULT_POLICY, requiredCardSections: ['intended_use'] as CardSection[] };
    expect(stricterPolicy(a, b).requiredCardSections).toEqual(['intended_use', 'limitations']);
    expect(weakenings(a, { ...a, requiredCardSections: [] })).toEqual([
      'model card section limitations no longer required',
    ]);
    expect(weakenings(a, stricterPolicy(a, b))).toEqual([]);
  });

  it('is a quality gate naming the missing sections, next to the metric gates', () => {
    const policy = {
      qualityGates: [{ metric: 'auc', operator: '>=' as const, threshold: 0.9 }],
      requiredCardSections: ['intended_use', 'limitations'] as CardSection[],
    };
    expect(gateFailures({ metrics: { auc: 0.8 } }, { intended_use: { primary_uses: 'x' } }, policy)).toEqual([
      'auc = 0.8 (needs auc >= 0.9)',
      'model card lacks limitations (needs required_card_sections filled in)',
    ]);
    expect(gateFailures({ metrics: { auc: 0.95 } }, undefined, policy)).toEqual([
      'model card is missing (needs intended_use, limitations filled in)',
    ]);
    expect(gateFailures({ metrics: { auc: 0.95 } }, full, policy)).toEqual([]);
  });
});
