/** MLflow's filter grammar, order_by and matching, without any engine. */
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../functions/domain/errors';
import {
  compareBy,
  effectiveOrder,
  likeMatch,
  matchesFilter,
  parseFilter,
  parseOrderBy,
  type Searchable,
} from '../../functions/domain/search-filter';

const v = (over: Partial<Searchable>): Searchable =>
  ({
    name: 'm',
    version: 1,
    creationTimestamp: 1,
    lastUpdatedTimestamp: 1,
    tags: {},
    source: 's3://b/k',
    ...over,
  }) as Searchable;

describe('parseFilter', () => {
  it('parses every comparator MLflow supports, joined by AND', () => {
    expect(
      parseFilter(
        'versions',
        "name = 'a' AND run_id IN ('r1', 'r2') AND tags.`team x` != 'b' AND version_number >= 3",
      ),
    ).toEqual([
      { key: { type: 'attribute', name: 'name' }, comparator: '=', value: 'a' },
      { key: { type: 'attribute', name: 'run_id' }, comparator: 'IN', value: ['r1', 'r2'] },
      { key: { type: 'tag', name: 'team x' }, comparator: '!=', value: 'b' },
      { key: { type: 'attribute', name: 'version_number' }, comparator: '>=', value: 3 },
    ]);
    expect(parseFilter('models', "name ILIKE '%Churn%'")[0]).toMatchObject({
      comparator: 'ILIKE',
      value: '%Churn%',
    });
    expect(parseFilter('models', 'tags.a.b LIKE "x%"')[0]).toMatchObject({
      key: { type: 'tag', name: 'a.b' },
    });
    expect(parseFilter('models', '  ')).toEqual([]);
    expect(parseFilter('models', undefined)).toEqual([]);
  });

  it.each([
    ["name = 'a' OR name = 'b'", 'OR is not supported'],
    ["(name = 'a')", 'parentheses are not supported'],
    ["colour = 'red'", "unknown key 'colour'"],
    ['name = a', 'must be a quoted string'],
    ["version_number = 'x'", 'must be compared with an integer'],
    ["name IN ('a')", 'IN is only supported for run_id'],
    ["name > 'a'", "'>' cannot be used with name"],
    ["name = 'a' AND", 'a clause is missing after AND'],
  ])('rejects %j with an actionable message', (filter, message) => {
    const kind = filter.includes('version_number') || filter.includes('IN') ? 'versions' : 'models';
    expect(() => parseFilter(kind, filter)).toThrow(InvalidParameterError);
    expect(() => parseFilter(kind, filter)).toThrow(message);
  });

  it('rejects filters that are too long or have too many clauses', () => {
    expect(() => parseFilter('models', `name = '${'x'.repeat(5000)}'`)).toThrow('limit is 4096');
    expect(() => parseFilter('models', Array.from({ length: 33 }, () => "name = 'a'").join(' AND '))).toThrow(
      'limit is 32',
    );
  });
});

describe('matching and ordering', () => {
  it('applies SQL LIKE semantics without regular expressions', () => {
    expect(likeMatch('churn-model', 'churn%', false)).toBe(true);
    expect(likeMatch('churn-model', 'Churn%', false)).toBe(false);
    expect(likeMatch('churn-model', 'Churn%', true)).toBe(true);
    expect(likeMatch('abc', 'a_c', false)).toBe(true);
    expect(likeMatch('a.c', 'a.c', false)).toBe(true);
    expect(likeMatch('abc', 'a.c', false)).toBe(false);
    expect(likeMatch('x'.repeat(50), `${'%x'.repeat(20)}y`, false)).toBe(false);
  });

  it('matches every clause of a filter', () => {
    const clauses = parseFilter('versions', "name LIKE 'ch%' AND tags.team = 'ml' AND version_number > 1");
    expect(matchesFilter(v({ name: 'churn', version: 2, tags: { team: 'ml' } }), clauses)).toBe(true);
    expect(matchesFilter(v({ name: 'churn', version: 1, tags: { team: 'ml' } }), clauses)).toBe(false);
    expect(matchesFilter(v({ name: 'churn', version: 2, tags: {} }), clauses)).toBe(false);
  });

  it('orders with the user terms first, then MLflow tiebreaks', () => {
    expect(effectiveOrder('versions', parseOrderBy('versions', ['creation_timestamp DESC']))).toEqual([
      { key: 'creation_timestamp', direction: 'DESC' },
      { key: 'name', direction: 'ASC' },
      { key: 'version_number', direction: 'DESC' },
    ]);
    expect(effectiveOrder('models', [])).toEqual([{ key: 'name', direction: 'ASC' }]);
    const sorted = [
      v({ name: 'b', version: 1 }),
      v({ name: 'a', version: 1 }),
      v({ name: 'a', version: 2 }),
    ].sort(compareBy(effectiveOrder('versions', parseOrderBy('versions', ['name']))));
    expect(sorted.map((x) => `${x.name}${x.version}`)).toEqual(['a2', 'a1', 'b1']);
    expect(() => parseOrderBy('models', ['version_number'])).toThrow('Invalid order_by');
    expect(() => parseOrderBy('models', ['name', 'name DESC'])).toThrow('more than once');
  });
});
