/**
 * Faults the Graph sandbox injects on demand, the way Graph fails in production: 429 with Retry-After (throttling),
 * 503 with Retry-After, 500, and a dropped connection.
 */

export type GraphFaultKind = '429' | '500' | '503' | 'drop';

export interface GraphFault {
  /** Which requests it hits: method and path (exact, prefix of the path, or a RegExp on the path). Default: any Graph call. */
  match?: { method?: string; path?: RegExp | string };
  kind: GraphFaultKind;
  /** How many matching requests it affects (default 1). */
  times?: number;
  /** For 429 and 503 (default 1). */
  retryAfterSeconds?: number;
}

export interface GraphFaults {
  inject(fault: GraphFault): void;
  clear(): void;
}

export class GraphFaultSwitch implements GraphFaults {
  private armed: { fault: GraphFault; remaining: number }[] = [];

  inject(fault: GraphFault): void {
    this.armed.push({ fault, remaining: fault.times ?? 1 });
  }

  clear(): void {
    this.armed = [];
  }

  /** The first armed fault matching this request (path without the query), consumed once. */
  take(method: string, path: string, isGraphCall: boolean): GraphFault | null {
    const index = this.armed.findIndex((a) => matches(a.fault, method, path, isGraphCall));
    if (index < 0) return null;
    const armed = this.armed[index]!;
    armed.remaining -= 1;
    if (armed.remaining <= 0) this.armed.splice(index, 1);
    return armed.fault;
  }
}

function matches(fault: GraphFault, method: string, path: string, isGraphCall: boolean): boolean {
  const m = fault.match;
  if (m?.method && m.method.toUpperCase() !== method.toUpperCase()) return false;
  if (m?.path === undefined) return isGraphCall;
  if (typeof m.path === 'string') return path === m.path || path.startsWith(m.path);
  m.path.lastIndex = 0;
  return m.path.test(path);
}

/** A fault as posted to `/_sandbox/faults` (a path wrapped in `/…/` is a RegExp). */
export function graphFaultFromJson(body: unknown): GraphFault {
  if (!body || typeof body !== 'object') throw new Error('fault must be an object');
  const b = body as Record<string, unknown>;
  const kinds: GraphFaultKind[] = ['429', '500', '503', 'drop'];
  const kind = String(b.kind) as GraphFaultKind;
  if (!kinds.includes(kind)) throw new Error(`kind must be one of ${kinds.join(', ')}`);
  const match = (b.match ?? {}) as Record<string, unknown>;
  let path: RegExp | string | undefined;
  if (typeof match.path === 'string') {
    const p = match.path;
    path = p.length > 2 && p.startsWith('/') && p.endsWith('/') ? new RegExp(p.slice(1, -1)) : p;
  }
  return {
    kind,
    match: {
      ...(typeof match.method === 'string' ? { method: match.method } : {}),
      ...(path ? { path } : {}),
    },
    ...(typeof b.times === 'number' ? { times: b.times } : {}),
    ...(typeof b.retryAfterSeconds === 'number' ? { retryAfterSeconds: b.retryAfterSeconds } : {}),
  };
}
