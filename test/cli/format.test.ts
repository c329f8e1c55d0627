/** The CLI's human output and the aws-style text output, as pure functions. */
import { describe, expect, it } from 'vitest';
import { principal, table, time, truncate } from '../../cli/format';
import { genericTable, textOutput } from '../../cli/output';

describe('principal', () => {
  it.each([
    ['arn:aws:iam::123456789012:user/alice', 'alice'],
    ['arn:aws:iam::123456789012:user/division/alice', 'alice'],
    ['arn:aws:sts::123456789012:assumed-role/Deployer/alice@example.com', 'Deployer/alice@example.com'],
    ['arn:aws:iam::123456789012:role/service/Deployer', 'Deployer'],
    ['arn:aws:sts::123456789012:federated-user/bob', 'bob'],
    ['arn:aws-us-gov:iam::123456789012:user/carol', 'carol'],
    ['arn:aws:iam::123456789012:root', 'root'],
    ['model-registry', 'model-registry'],
    ['arn:aws:s3:::bucket/key', 'arn:aws:s3:::bucket/key'],
  ])('%s → %s', (arn, shown) => {
    expect(principal(arn)).toBe(shown);
  });
});

describe('table', () => {
  const headers = ['ID', 'NAME', 'DESCRIPTION'];
  const rows = [
    ['tr-0123456789abcdef', 'churn', 'a fairly long description that will not fit'],
    ['tr-1', 'fraud-detection', 'short'],
  ];

  it('aligns columns and leaves a table that fits alone', () => {
    expect(table(headers, rows, { max: 200 }).split('\n')).toEqual([
      'ID                   NAME             DESCRIPTION',
      'tr-0123456789abcdef  churn            a fairly long description that will not fit',
      'tr-1                 fraud-detection  short',
    ]);
  });

  it('cuts the free-text columns first, with an ellipsis, to fit the width', () => {
    const lines = table(headers, rows, { max: 50, keep: ['ID'], flex: ['DESCRIPTION'] }).split('\n');
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(50);
    expect(lines[1]).toMatch(/^tr-0123456789abcdef {2}churn {12}a fairly lo…$/);
  });

  it('cuts identifiers last, and fits even a very narrow terminal', () => {
    const lines = table(headers, rows, { max: 12, keep: ['ID'] }).split('\n');
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(12);
  });

  it('keeps each row on one line', () => {
    expect(table(['A', 'B'], [['x\ny', 'tab\there']], { max: 80 }).split('\n')).toEqual([
      'A    B',
      'x y  tab here',
    ]);
  });

  it('truncates by characters, not bytes', () => {
    expect(truncate('→→→→→', 3)).toBe('→→…');
  });
});

describe('time', () => {
  it('is local time with its UTC offset', () => {
    expect(time(Date.UTC(2026, 10, 30, 13, 5, 9))).toMatch(/^2026-11-30 \d\d:\d\d:09 [+-]\d\d:\d\d$/);
    const d = new Date(Date.UTC(2026, 10, 30, 13, 5, 9));
    const offset = -d.getTimezoneOffset();
    const shifted = new Date(d.getTime() + offset * 60_000);
    expect(time(d.getTime()).slice(0, 19)).toBe(shifted.toISOString().replace('T', ' ').slice(0, 19));
  });
});

describe('text output (the aws CLI layout)', () => {
  it('prints an object as its sorted scalars, then each nested value under its key', () => {
    const data = {
      model_versions: [
        { version: 1, name: 'churn', metrics: { auc: 0.9, f1: 0.8 }, aliases: ['champion', 'prod'] },
        { version: 2, name: 'churn', run_id: 'r2', metrics: {}, aliases: [] },
      ],
      next_page_token: 'abc',
    };
    expect(textOutput(data).split('\n')).toEqual([
      'abc',
      'MODEL_VERSIONS\tchurn\t\t1',
      'ALIASES\tchampion',
      'ALIASES\tprod',
      'METRICS\t0.9\t0.8',
      'MODEL_VERSIONS\tchurn\tr2\t2',
    ]);
  });

  it('prints a bare list of scalars on one line, and null and booleans as the aws CLI does', () => {
    expect(textOutput([1, 'two', null, true])).toBe('1\ttwo\tNone\tTrue');
    expect(textOutput('x')).toBe('x');
    expect(textOutput([])).toBe('');
  });
});

describe('generic table (for --query results)', () => {
  it('lays out a list of objects, a list of scalars and an object', () => {
    expect(genericTable([{ v: 1, s: 'None' }, { v: 2 }])).toBe('V  S\n1  None\n2');
    expect(genericTable(['a', 'b'])).toBe('a\nb');
    expect(genericTable({ name: 'churn', tags: { a: '1' } })).toBe('name: churn\ntags: {"a":"1"}');
    expect(genericTable(null)).toBe('');
  });
});
