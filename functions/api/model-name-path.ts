/**
 * How a registered model name travels in a native route's URL. Names are what MLflow accepts
 * (functions/domain/rules.ts), and some cannot be a path segment: `/` splits it, `%` and `\` are
 * read differently by different proxies, `.` and `..` are removed by URL normalisation, and `?` and
 * `#` end the path when a client forgets to encode them. Such a name is sent as the segment
 * NAME_IN_QUERY with the name in the `name` query parameter:
 *
 *   GET /models/churn-model/versions          (the name in the path, percent-encoded)
 *   GET /models/~/versions?name=team%2Fchurn  (the name in the query)
 *
 * Plain data and functions only: the handlers, the SDK and the console all import this module.
 */

/** The path segment that stands for the model named by the `name` query parameter. */
export const NAME_IN_QUERY = '~';

/** The query parameter that carries the name when the path segment is NAME_IN_QUERY. */
export const NAME_QUERY_PARAMETER = 'name';

/** Whether a name can be a (percent-encoded) path segment. */
export function travelsInPath(name: string): boolean {
  return name !== '.' && name !== '..' && name !== NAME_IN_QUERY && !/[/\\%?#]/.test(name);
}

/** The path segment (not yet percent-encoded) and the query parameters that carry `name`. */
export function namePlacement(name: string): { segment: string; query: Record<string, string> } {
  return travelsInPath(name)
    ? { segment: name, query: {} }
    : { segment: NAME_IN_QUERY, query: { [NAME_QUERY_PARAMETER]: name } };
}
