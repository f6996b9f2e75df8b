/**
 * Faults the Atera sandbox injects on demand, so tests exercise the way the real service fails:
 * 429 with Retry-After, 500/503, slow answers, dropped connections, and a request that is stored before its
 * connection drops (the case that makes comment delivery need a read-back).
 */

export type SandboxFaultKind = '429' | '500' | '503' | 'slow' | 'drop' | 'store-then-drop';

export interface SandboxFault {
  match?: { method?: string; path?: RegExp | string };
  kind: SandboxFaultKind;
  /** How many matching requests it affects (default 1). */
  times?: number;
  /** For 429 (default 1). */
  retryAfterSeconds?: number;
  /** For slow (default 2000). */
  delayMs?: number;
}

interface ArmedFault {
  fault: SandboxFault;
  remaining: number;
}

export interface SandboxFaults {
  inject(fault: SandboxFault): void;
  clear(): void;
}

export class FaultSwitch implements SandboxFaults {
  private armed: ArmedFault[] = [];

  inject(fault: SandboxFault): void {
    this.armed.push({ fault, remaining: fault.times ?? 1 });
  }

  clear(): void {
    this.armed = [];
  }

  get pending(): number {
    return this.armed.reduce((n, a) => n + a.remaining, 0);
  }

  /** The first armed fault matching this request, consumed once. `apiPath` is the path below /api/v3. */
  take(method: string, fullPath: string, apiPath: string): SandboxFault | null {
    const index = this.armed.findIndex((a) => matches(a.fault, method, fullPath, apiPath));
    if (index < 0) return null;
    const armed = this.armed[index]!;
    armed.remaining -= 1;
    if (armed.remaining <= 0) this.armed.splice(index, 1);
    return armed.fault;
  }
}

function matches(fault: SandboxFault, method: string, fullPath: string, apiPath: string): boolean {
  const m = fault.match;
  if (!m) return true;
  if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false;
  if (m.path === undefined) return true;
  if (typeof m.path === 'string') return m.path === apiPath || m.path === fullPath;
  m.path.lastIndex = 0;
  if (m.path.test(apiPath)) return true;
  m.path.lastIndex = 0;
  return m.path.test(fullPath);
}

/** Faults as they arrive over HTTP at /_sandbox/faults (a path starting with `^` or wrapped in `/…/` is a RegExp). */
export function faultFromJson(body: unknown): SandboxFault {
  if (!body || typeof body !== 'object') throw new Error('fault must be an object');
  const b = body as Record<string, unknown>;
  const kinds: SandboxFaultKind[] = ['429', '500', '503', 'slow', 'drop', 'store-then-drop'];
  const kind = String(b.kind) as SandboxFaultKind;
  if (!kinds.includes(kind)) throw new Error(`kind must be one of ${kinds.join(', ')}`);
  const match = (b.match ?? {}) as Record<string, unknown>;
  let path: RegExp | string | undefined;
  if (typeof match.path === 'string') {
    const p = match.path;
    if (p.startsWith('/') && p.endsWith('/') && p.length > 2) path = new RegExp(p.slice(1, -1));
    else if (p.startsWith('^')) path = new RegExp(p);
    else path = p;
  }
  return {
    kind,
    match: { method: typeof match.method === 'string' ? match.method : undefined, path },
    times: typeof b.times === 'number' ? b.times : undefined,
    retryAfterSeconds: typeof b.retryAfterSeconds === 'number' ? b.retryAfterSeconds : undefined,
    delayMs: typeof b.delayMs === 'number' ? b.delayMs : undefined,
  };
}
