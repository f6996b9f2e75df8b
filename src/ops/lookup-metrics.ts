/**
 * Counts Microsoft Graph lookups where the engine and the Teams adapter make them: at the UserDirectory boundary.
 * The decorator changes nothing about the answers or errors; it only times and counts them.
 */
import { TicketZeroError } from '../errors.js';
import type { UserDirectory } from '../ports/user-directory.js';

export interface GraphLookupEvent {
  kind: 'user' | 'group';
  /** found, not_found, disabled, guest, member, not_member, or error. */
  result: string;
  ms: number;
  /** The coded error's code when result is `error`. */
  errorCode?: string;
}

export interface LookupMetricsSink {
  onGraphLookup(event: GraphLookupEvent): void;
}

export function withLookupMetrics<D extends UserDirectory>(directory: D, sink: LookupMetricsSink): D {
  const timed = async <T>(
    kind: GraphLookupEvent['kind'],
    call: () => Promise<T>,
    resultOf: (value: T) => string,
  ): Promise<T> => {
    const started = performance.now();
    try {
      const value = await call();
      sink.onGraphLookup({ kind, result: resultOf(value), ms: performance.now() - started });
      return value;
    } catch (error) {
      sink.onGraphLookup({
        kind,
        result: 'error',
        ms: performance.now() - started,
        errorCode: error instanceof TicketZeroError ? error.code : 'unexpected',
      });
      throw error;
    }
  };
  return new Proxy(directory, {
    get(target, property, receiver) {
      if (property === 'findByEmail') {
        return (tenant: Parameters<UserDirectory['findByEmail']>[0], email: string) =>
          timed(
            'user',
            () => target.findByEmail(tenant, email),
            (lookup) => lookup.status,
          );
      }
      if (property === 'isInGroup') {
        return (tenant: Parameters<UserDirectory['isInGroup']>[0], userId: string, groupId: string) =>
          timed(
            'group',
            () => target.isInGroup(tenant, userId, groupId),
            (member) => (member ? 'member' : 'not_member'),
          );
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
