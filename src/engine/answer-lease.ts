/**
 * Answer leases: several instances may share one store, so the instance that takes a user message holds the right
 * to answer it for a while. When that instance dies before answering, another one takes the lease once it runs
 * out (on a redelivery or a tick) — the message is answered, and answered once.
 */
import type { ConversationRecord } from '../ports/conversation-store.js';
import type { EngineContext } from './engine-context.js';

const DEFAULT_LEASE_MS = 120_000;

/** A lease for this instance, from now on. */
export function newAnswerLease(ctx: EngineContext): { by: string; until: string } {
  const until = new Date(ctx.clock().getTime() + (ctx.settings.answerLeaseMs ?? DEFAULT_LEASE_MS));
  return { by: ctx.settings.instanceId ?? 'engine', until: until.toISOString() };
}

/** Takes the right to answer the last user message, unless another live instance holds it. */
export async function takeAnswerLease(
  ctx: EngineContext,
  ticketId: number,
): Promise<ConversationRecord | null> {
  const now = ctx.clock().getTime();
  const me = ctx.settings.instanceId ?? 'engine';
  const exclusive = ctx.settings.exclusiveStore ?? true;
  return ctx.write(ticketId, (c) => {
    if (!c || c.state !== 'active' || !c.awaitingAnswer) return { result: null };
    const held = c.answerLease;
    const free = exclusive || !held || held.by === me || Date.parse(held.until) <= now;
    if (!free) return { result: null };
    // Ours, taken with the message a moment ago and good for most of its time: no write needed.
    const leaseMs = ctx.settings.answerLeaseMs ?? DEFAULT_LEASE_MS;
    if (held?.by === me && Date.parse(held.until) - now > leaseMs / 2) return { result: c };
    const next: ConversationRecord = { ...c, answerLease: newAnswerLease(ctx) };
    return { conversation: next, result: next };
  });
}
