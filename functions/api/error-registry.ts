/**
 * Errors mapped by class, never by list order: the error's own class first, then its nearest
 * mapped ancestor (an `instanceof` match that cannot depend on where a class sits in a list).
 *
 * A protocol's table is keyed by the names of the concrete error classes a module exports, so a
 * new error class in functions/domain/errors.ts does not compile until every protocol maps it.
 */
import type { RegistryError } from '../domain/errors';

type ConcreteErrorClass = new (...args: never[]) => RegistryError;

/** The concrete RegistryError classes among a module's exports, by export name. */
export type ErrorClassesOf<M> = {
  readonly [K in keyof M as M[K] extends ConcreteErrorClass ? K : never]: M[K];
};

/** One mapping per concrete error class of `M`, no more, no less. */
export type ErrorTable<M, Mapping> = { readonly [K in keyof ErrorClassesOf<M>]: Mapping };

export interface ErrorRegistry<Mapping> {
  /** The mapping of the error's class, or of its nearest mapped ancestor; undefined if none. */
  resolve(err: RegistryError): Mapping | undefined;
  /** Whether the class itself (not an ancestor) is mapped. */
  mapsExactly(cls: abstract new (...args: never[]) => unknown): boolean;
}

export function errorRegistry<M extends Readonly<Record<string, unknown>>, T extends ErrorTable<M, unknown>>(
  classes: M,
  table: T,
): ErrorRegistry<T[keyof T]> {
  type Mapping = T[keyof T];
  const byClass = new Map<unknown, Mapping>();
  const constructors: Readonly<Record<string, unknown>> = classes;
  for (const name in table) {
    const cls = constructors[name];
    if (typeof cls !== 'function') throw new Error(`No error class ${name} to map.`);
    byClass.set(cls, table[name]);
  }
  return {
    resolve(err) {
      // The exact constructor, then each ancestor in turn: the most specific mapping wins.
      for (
        let proto: object | null = Object.getPrototypeOf(err);
        proto;
        proto = Object.getPrototypeOf(proto)
      ) {
        const mapping = byClass.get(proto.constructor);
        if (mapping !== undefined) return mapping;
      }
      return undefined;
    },
    mapsExactly: (cls) => byClass.has(cls),
  };
}
