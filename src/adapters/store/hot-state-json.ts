/**
 * JSON text of the hot state, for the lowdb store's journal lines and snapshots. A ticket's hot state and a
 * small value are immutable once stored (every change stores a new object), so each is serialised once, when
 * its change is journaled, and the snapshot reuses that text: writing a snapshot joins strings instead of
 * serialising every live transcript again.
 */
import type { HotChange, HotSnapshot } from './hot-state.js';

export class HotStateJson {
  private readonly cache = new WeakMap<object, string>();

  /** JSON of a value the hot state will not change again (cached for objects). `undefined` is written as null. */
  of(value: unknown): string {
    if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
    let text = this.cache.get(value);
    if (text === undefined) {
      text = JSON.stringify(value) ?? 'null';
      this.cache.set(value, text);
    }
    return text;
  }

  /** One journal line (without its newline). */
  changeLine(change: HotChange): string {
    switch (change.t) {
      case 'ticket':
        return `{"t":"ticket","id":${change.id},"ticket":${this.of(change.ticket)}}`;
      case 'kv':
        return `{"t":"kv","ns":${JSON.stringify(change.ns)},"key":${JSON.stringify(change.key)},"value":${this.of(change.value)}}`;
      default:
        return JSON.stringify(change);
    }
  }

  /** The same text as JSON.stringify(snapshot), built from the cached parts. */
  snapshot(snapshot: HotSnapshot): string {
    const parts: string[] = [`{"format":${snapshot.format}`];
    if (snapshot.journal !== undefined) parts.push(`,"journal":${snapshot.journal}`);
    parts.push(`,"cursors":${JSON.stringify(snapshot.cursors)}`);
    parts.push(`,"claims":${JSON.stringify(snapshot.claims)}`);
    parts.push(',"kv":{');
    let firstNs = true;
    for (const [ns, values] of Object.entries(snapshot.kv)) {
      parts.push(`${firstNs ? '' : ','}${JSON.stringify(ns)}:{`);
      firstNs = false;
      let first = true;
      for (const [key, value] of Object.entries(values)) {
        if (value === undefined) continue;
        parts.push(`${first ? '' : ','}${JSON.stringify(key)}:${this.of(value)}`);
        first = false;
      }
      parts.push('}');
    }
    parts.push('},"tickets":{');
    let first = true;
    for (const [id, ticket] of Object.entries(snapshot.tickets)) {
      parts.push(`${first ? '' : ','}${JSON.stringify(id)}:${this.of(ticket)}`);
      first = false;
    }
    parts.push(`},"outbox":${JSON.stringify(snapshot.outbox)}}`);
    return parts.join('');
  }
}
