import { describe, expect, it } from 'vitest';
import { InvalidParameterError, LimitExceededError } from '../../functions/domain/errors';
import { parseStage } from '../../functions/domain/model';
import {
  assertAlias,
  assertLineage,
  assertModelName,
  assertSource,
  describeValue,
  parseVersionNumber,
} from '../../functions/domain/rules';

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
    ['https://host/x'],
    ['mlflow-artifacts:/1/2'],
  ])('accepts %j', (source) => {
    expect(assertSource(source)).toBe(source);
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
