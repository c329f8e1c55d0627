/**
 * Model cards: a structured, documented card per model version. The sections follow Google's
 * Model Card Toolkit schema (model details with owners, license and references; intended use and
 * out-of-scope uses; training and evaluation data; quantitative metrics with the slice each was
 * measured on; limitations; ethical considerations with their mitigations; caveats), flattened the
 * way SageMaker model cards are, with `known_failure_modes` as a section of its own.
 *
 * Every section is optional and every value bounded: strings in characters, lists in entries and
 * the whole card in UTF-8 bytes (`CARD_LIMITS.bytes`), so a card always fits one DynamoDB item
 * with room to spare. Unknown fields are refused at every level. Plain data and pure functions.
 *
 * @example
 * ```ts
 * const card = parseModelCard({ intended_use: { primary_uses: 'Retention campaigns.' } });
 * changedSections(undefined, card); // ['intended_use']
 * missingSections(card, ['intended_use', 'limitations']); // ['limitations']
 * ```
 */
import { z } from 'zod';
import { InvalidParameterError, LimitExceededError } from './errors';
import { describeValue } from './rules';

/** The card's sections, in the order they are documented, diffed and reported. */
export const CARD_SECTIONS = [
  'model_details',
  'intended_use',
  'training_data',
  'evaluation_data',
  'metrics',
  'limitations',
  'known_failure_modes',
  'ethical_considerations',
  'caveats',
] as const;
export type CardSection = (typeof CARD_SECTIONS)[number];

export const CARD_LIMITS = {
  /** Names, licenses, digests, contacts, slices (characters). */
  shortText: 1_024,
  /** URIs and references (characters). */
  uri: 2_048,
  /** Prose: overviews, uses, descriptions, limitations, mitigations, caveats (characters). */
  longText: 20_000,
  owners: 20,
  references: 50,
  metrics: 200,
  ethicalConsiderations: 50,
  /**
   * The whole card as JSON, in UTF-8 bytes. A registry item may grow to 350 KB (DynamoDB's limit
   * is 400 KB); the card item stays far below it, and a card still fits a 256 KiB request body.
   */
  bytes: 128 * 1024,
} as const;

const text = (max: number, what: string) =>
  z.string().max(max, `${what} is at most ${max.toLocaleString('en-US')} characters`);
const short = (what: string) => text(CARD_LIMITS.shortText, what);
const long = (what: string) => text(CARD_LIMITS.longText, what);
const uri = (what: string) => text(CARD_LIMITS.uri, what);

const dataSchema = (what: string) =>
  z
    .object({
      name: short('a data set name').optional(),
      digest: short('a digest').optional().describe('Content hash of the data, e.g. sha256:…'),
      uri: uri('a URI').optional().describe('Where the data lives, e.g. s3://bucket/prefix/'),
      description: long('a description').optional(),
    })
    .strict()
    .describe(what);

export const modelCardSchema = z
  .object({
    model_details: z
      .object({
        overview: long('the overview').optional(),
        owners: z
          .array(
            z
              .object({ name: short('an owner name').optional(), contact: short('a contact').optional() })
              .strict(),
          )
          .max(CARD_LIMITS.owners, `at most ${CARD_LIMITS.owners} owners`)
          .optional(),
        license: short('the license').optional(),
        references: z
          .array(uri('a reference'))
          .max(CARD_LIMITS.references, `at most ${CARD_LIMITS.references} references`)
          .optional(),
      })
      .strict()
      .optional()
      .describe('What the model is, who owns it, its license and references.'),
    intended_use: z
      .object({
        primary_uses: long('primary_uses').optional(),
        primary_users: long('primary_users').optional(),
        out_of_scope_uses: long('out_of_scope_uses').optional(),
      })
      .strict()
      .optional()
      .describe('What the model is for, for whom, and what it must not be used for.'),
    training_data: dataSchema('The data the model was trained on.').optional(),
    evaluation_data: dataSchema('The data the model was evaluated on.').optional(),
    metrics: z
      .array(
        z
          .object({
            name: z
              .string()
              .min(1, 'a metric needs a name')
              .max(256, 'a metric name is at most 256 characters'),
            value: z.number(),
            slice: short('a slice')
              .optional()
              .describe('The group it was measured on, e.g. sex=female (absent: overall).'),
            description: long('a metric description').optional(),
          })
          .strict(),
      )
      .max(CARD_LIMITS.metrics, `at most ${CARD_LIMITS.metrics} metrics`)
      .optional()
      .describe('Quantitative analysis: metrics overall and per group (fairness).'),
    limitations: long('limitations').optional(),
    known_failure_modes: long('known_failure_modes').optional(),
    ethical_considerations: z
      .array(
        z
          .object({
            name: z
              .string()
              .min(1, 'an ethical consideration needs a name')
              .max(CARD_LIMITS.shortText, 'a consideration name is at most 1,024 characters'),
            mitigation: long('a mitigation').optional(),
          })
          .strict(),
      )
      .max(CARD_LIMITS.ethicalConsiderations, `at most ${CARD_LIMITS.ethicalConsiderations} considerations`)
      .optional(),
    caveats: long('caveats').optional(),
  })
  .strict()
  // One named schema: the OpenAPI document refers to it instead of repeating it.
  .meta({
    id: 'ModelCard',
    description:
      "A model card after Google's Model Card Toolkit: every section optional, unknown fields refused, at most 128 KiB as UTF-8 JSON.",
  });

export type ModelCard = z.infer<typeof modelCardSchema>;

/** The fields a (possibly nested, possibly listed) object of the card schema has at `path`. */
function fieldsAt(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = modelCardSchema;
  for (const step of path) {
    while (schema instanceof z.ZodOptional) schema = schema.unwrap() as z.ZodType;
    if (schema instanceof z.ZodArray && typeof step === 'number') schema = schema.element as z.ZodType;
    else if (schema instanceof z.ZodObject)
      schema = (schema.shape as Record<string, z.ZodType>)[String(step)]!;
    else return [];
    if (!schema) return [];
  }
  while (schema instanceof z.ZodOptional) schema = schema.unwrap() as z.ZodType;
  while (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

/** The size of a card as the registry counts it: its JSON, in UTF-8 bytes. */
export function cardBytes(card: ModelCard): number {
  return utf8Bytes(JSON.stringify(card));
}

/**
 * Validates a card given as JSON: unknown fields (at any level), wrong types and values over
 * their bounds are refused with the path of the offending field (400 INVALID_PARAMETER_VALUE);
 * a card over `CARD_LIMITS.bytes` is refused with LIMIT_EXCEEDED.
 */
export function parseModelCard(input: unknown, where = 'model_card'): ModelCard {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidParameterError(
      `${where} must be a JSON object of sections (${CARD_SECTIONS.join(', ')}); every section is optional.`,
    );
  }
  const result = modelCardSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = [where, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      throw new InvalidParameterError(
        `${path}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => describeValue(k)).join(', ')}; the fields are ${fieldsAt(issue.path).join(', ')}.`,
      );
    }
    throw new InvalidParameterError(`${path}: ${issue.message}.`);
  }
  const size = cardBytes(result.data);
  if (size > CARD_LIMITS.bytes) {
    throw new LimitExceededError(
      `${where} takes ${size.toLocaleString('en-US')} bytes as UTF-8 JSON; the limit is ${CARD_LIMITS.bytes.toLocaleString('en-US')} bytes (text outside ASCII takes 2-4 bytes per character). Shorten its text or move long material to a document the card references.`,
    );
  }
  return result.data;
}

// ------------------------------------------------------------------ comparing cards

/** JSON with object keys sorted at every level: equal content, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

const sectionText = (card: ModelCard | undefined, section: CardSection) =>
  card?.[section] === undefined ? undefined : canonicalJson(card[section]);

/**
 * The sections whose content differs between two cards (an absent card has no sections; the
 * order of object keys does not count), in CARD_SECTIONS order.
 */
export function changedSections(before: ModelCard | undefined, after: ModelCard | undefined): CardSection[] {
  return CARD_SECTIONS.filter((s) => sectionText(before, s) !== sectionText(after, s));
}

// ------------------------------------------------------------------ governance

/** Whether a value holds something written: non-blank text or a number, at any depth. */
function hasContent(value: unknown): boolean {
  if (typeof value === 'string') return value.trim().length > 0;
  if (typeof value === 'number') return true;
  if (Array.isArray(value)) return value.some(hasContent);
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasContent);
  return false;
}

/**
 * Whether a section counts as filled in for governance: it holds at least one non-blank text or
 * number (an empty object, an empty list or whitespace does not count).
 */
export function isFilled(card: ModelCard | undefined, section: CardSection): boolean {
  return hasContent(card?.[section]);
}

/** The required sections a card (or a version without one) has not filled in, in CARD_SECTIONS order. */
export function missingSections(
  card: ModelCard | undefined,
  required: readonly CardSection[],
): CardSection[] {
  return CARD_SECTIONS.filter((s) => required.includes(s) && !isFilled(card, s));
}

// ------------------------------------------------------------------ the audit record of an edit

/**
 * How many bytes of before/after section values one ModelCardUpdated event carries inline. A
 * card is at most 128 KiB, so an edit of every section could need 256 KiB for its before and
 * after, which is EventBridge's limit for a whole event; sections beyond this budget are
 * recorded by SHA-256 digests instead, keeping every event under 80 KiB.
 */
export const CARD_EVENT_INLINE_BYTES = 64 * 1024;

/** One changed section as the event records it: the values, or (over budget) their digests. */
export type CardSectionChange =
  | {
      readonly section: CardSection;
      readonly recorded: 'values';
      /** The section before and after (null: absent). */
      readonly before: unknown;
      readonly after: unknown;
    }
  | {
      readonly section: CardSection;
      readonly recorded: 'digests';
      /** SHA-256 (hex) of the section's canonical JSON before and after (null: absent). */
      readonly before_sha256: string | null;
      readonly after_sha256: string | null;
    };

/**
 * A SHA-256 of UTF-8 text, as lowercase hex (node:crypto's in the use cases; passed in so this
 * module stays free of platform imports: the console's type check reads it too).
 */
export type Sha256Hex = (text: string) => string;

/**
 * The changed sections of an edit as an event records them: each section's before and after
 * values while they fit in `budget` bytes (counted in CARD_SECTIONS order), the SHA-256 digests
 * of their canonical JSON for the sections after that.
 */
export function sectionChanges(
  before: ModelCard | undefined,
  after: ModelCard,
  sha256: Sha256Hex,
  budget: number = CARD_EVENT_INLINE_BYTES,
): CardSectionChange[] {
  let left = budget;
  return changedSections(before, after).map((section): CardSectionChange => {
    const b = before?.[section] ?? null;
    const a = after[section] ?? null;
    const size = utf8Bytes(JSON.stringify(b)) + utf8Bytes(JSON.stringify(a));
    if (size <= left) {
      left -= size;
      return { section, recorded: 'values', before: b, after: a };
    }
    return {
      section,
      recorded: 'digests',
      before_sha256: b === null ? null : sha256(canonicalJson(b)),
      after_sha256: a === null ? null : sha256(canonicalJson(a)),
    };
  });
}

/** The data of the ModelCardUpdated event of an edit (functions/domain/events.ts). */
export function cardEditRecord(before: ModelCard | undefined, after: ModelCard, sha256: Sha256Hex) {
  return {
    created: before === undefined,
    changed_sections: changedSections(before, after),
    changes: sectionChanges(before, after, sha256),
    card_sha256: sha256(canonicalJson(after)),
    card_bytes: cardBytes(after),
  };
}

/** A card as stored: its revision (a write is conditioned on it) and who wrote it last, when. */
export interface StoredModelCard {
  readonly card: ModelCard;
  readonly revision: number;
  readonly updatedAt: number;
  /** The IAM principal ARN of the last writer. */
  readonly updatedBy: string;
}
