import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError, LimitExceededError } from '../../functions/domain/errors';
import { parseStage } from '../../functions/domain/model';
import { firstModelId } from '../../functions/domain/model-id';
import {
  assertAlias,
  assertLineage,
  assertModelName,
  describeValue,
  parseVersionNumber,
} from '../../functions/domain/rules';
import {
  assertNotOtherModelsFiles,
  assertSource,
  isPromptVersion,
  keyInBucket,
} from '../../functions/domain/sources';

describe('stage names', () => {
  it.each([
    ['production', 'Production'],
    ['STAGING', 'Staging'],
    [' none ', 'None'],
    ['archived', 'Archived'],
  ])('parses %j case-insensitively as %s', (input, stage) => {
    expect(parseStage(input)).toBe(stage);
  });

  it('refuses an unknown stage and lists the valid ones', () => {
    expect(() => parseStage('prod')).toThrow(/Choose one of None, Staging, Production, Archived/);
  });
});

describe('version numbers', () => {
  it.each([
    ['1', 1],
    [7, 7],
    ['2147483647', 2147483647],
  ])('parses %j', (input, out) => {
    expect(parseVersionNumber(input)).toBe(out);
  });

  it.each([['0'], ['-1'], ['1.5'], ['abc'], ['2147483648'], [''], ['1e3']])('refuses %j', (input) => {
    expect(() => parseVersionNumber(input)).toThrow("Parameter 'version' must be an integer");
  });
});

describe('names and values in error messages', () => {
  it('never echoes control characters or unbounded input', () => {
    const shown = describeValue(`a\u0000b${'x'.repeat(10_000)}`);
    expect(shown.length).toBeLessThan(120);
    expect(shown).not.toContain('\u0000');
  });

  it('explains the model name rule', () => {
    expect(() => assertModelName('a\u0000b')).toThrow(/control characters/);
    expect(() => assertModelName('')).toThrow('Registered model name cannot be empty.');
    expect(() => assertModelName('x'.repeat(901))).toThrow(/901 bytes of UTF-8, over the limit of 900/);
  });
});

describe('aliases', () => {
  it('accepts word characters and dashes', () => {
    expect(assertAlias('champion-2_b')).toBe('champion-2_b');
  });

  it.each([['latest'], ['LaTeSt'], ['v3'], ['V10']])('reserves %j', (alias) => {
    expect(() => assertAlias(alias)).toThrow(/reserved/);
  });
});

describe('sources', () => {
  it.each([
    ['s3://bucket/key'],
    ['runs:/abc/model'],
    ['models:/churn/3'],
    ['models:/m-0123abcd'],
    ['https://host/x'],
    ['mlflow-artifacts:/1/2'],
    ['dbfs:/databricks/mlflow/1'],
    ['gs://bucket/a//b/'],
    ['s3://bucket/modèle/データ'],
  ])('accepts %j, as MLflow does', (source) => {
    expect(assertSource(source)).toBe(source);
  });

  it.each([
    ['dummy-source', /local path/],
    ['relative/path', /local path/],
    ['/abs/path', /local path/],
    ['file:///tmp/model', /local path/],
    ['s3://bucket/a/../b', /absolute path/],
    ['s3://bucket/a/%2e%2e/b', /absolute path/],
    ['s3://bucket/a/%252e%252e/b', /absolute path/],
    // `..` percent-encoded 40 times over: decoded until it no longer changes, as MLflow does.
    [
      `s3://bucket/a/${Array.from({ length: 39 }).reduce<string>((s) => encodeURIComponent(s), '%2E%2E')}/b`,
      /absolute path/,
    ],
    ['s3://bucket/a/./b', /absolute path/],
    ['s3://bucket', /absolute path/],
    ['runs:abc/model', /absolute path/],
    ['http://host/artifacts%00', /absolute path/],
    ['s3://bucket/a\nb', /control characters/],
    ['', /1 to 2048/],
    [`s3://b/${'x'.repeat(2048)}`, /1 to 2048/],
  ])("refuses %j with MLflow's reason", (source, reason) => {
    expect(() => assertSource(source)).toThrow(reason);
    expect(() => assertSource(source)).toThrow(InvalidParameterError);
  });

  it('does not check the source of a prompt version (MLflow 3 sends dummy-source)', () => {
    expect(isPromptVersion({ 'mlflow.prompt.is_prompt': 'true' })).toBe(true);
    expect(isPromptVersion({ other: 'true' })).toBe(false);
    expect(assertSource('dummy-source', { prompt: true })).toBe('dummy-source');
    // Length and control characters are still refused.
    expect(() => assertSource('', { prompt: true })).toThrow(InvalidParameterError);
  });

  it('finds the key a source names in the bucket, in every spelling S3 accepts', () => {
    const bucket = 'registry-artifacts';
    for (const source of [
      's3://registry-artifacts/models/abc/versions/1/files',
      's3a://registry-artifacts/models/abc/versions/1/files',
      'S3://Registry-Artifacts//models/abc/versions/1/files',
      's3://registry-artifacts/models%2Fabc/versions/1/files',
      'https://registry-artifacts.s3.amazonaws.com/models/abc/versions/1/files',
      'https://registry-artifacts.s3.eu-west-1.amazonaws.com/models/abc/versions/1/files',
      'https://s3.eu-west-1.amazonaws.com/registry-artifacts/models/abc/versions/1/files',
    ]) {
      expect(keyInBucket(source, bucket), source).toBe('models/abc/versions/1/files');
    }
    expect(keyInBucket('s3://other-bucket/models/abc/x', bucket)).toBeUndefined();
    expect(keyInBucket('runs:/abc/model', bucket)).toBeUndefined();
  });

  it("refuses a source in another model's managed files, or elsewhere in the bucket; accepts its own", () => {
    const bucket = 'registry-artifacts';
    const own = 'models/abc/';
    expect(() =>
      assertNotOtherModelsFiles('s3://registry-artifacts/models/abc/versions/1/files', bucket, own),
    ).not.toThrow();
    for (const source of [
      's3://registry-artifacts/models/xyz/versions/1/files',
      's3://registry-artifacts/models/abcd/versions/1/files',
      's3://registry-artifacts/models/',
      's3://registry-artifacts/other/key',
      'https://registry-artifacts.s3.amazonaws.com/models/xyz/versions/1/files',
    ]) {
      expect(() => assertNotOtherModelsFiles(source, bucket, own), source).toThrow(/another model/);
    }
    expect(() => assertNotOtherModelsFiles('s3://elsewhere/models/xyz/1', bucket, own)).not.toThrow();
  });
});

describe('lineage', () => {
  it('refuses non-finite metrics', () => {
    expect(() => assertLineage({ metrics: { auc: Number.NaN } })).toThrow(InvalidParameterError);
  });

  it('refuses too many parameters', () => {
    const parameters = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`p${i}`, 'v']));
    expect(() => assertLineage({ parameters })).toThrow(LimitExceededError);
  });

  it('refuses a malformed run id and client token', () => {
    expect(() => assertLineage({ runId: 'has space' })).toThrow(InvalidParameterError);
    expect(() => assertLineage({ clientToken: 'x'.repeat(65) })).toThrow(InvalidParameterError);
  });
});

describe('a model name first id', () => {
  it('is a version-8 UUID, the same for a name every time and different for different names', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        const id = firstModelId(a);
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(firstModelId(a)).toBe(id);
        if (a !== b) expect(firstModelId(b)).not.toBe(id);
      }),
    );
    // Names that differ only in their UTF-8 normalisation are different names.
    expect(firstModelId('caf\u00e9')).not.toBe(firstModelId('cafe\u0301'));
  });
});
