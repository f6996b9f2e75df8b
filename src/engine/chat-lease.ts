/**
 * Chat leases: several instances may share one store, and each may send a ticket's recorded chat messages (the
 * one that recorded them at once, the others from their tick when a message stays unsent). The sender holds the
 * ticket's chat lease while it sends, so a send still under way on one instance is not repeated by another.
 *
 * The write that records a message takes the lease for its instance when no other instance holds one (no extra
 * store write); an instance that finds a message recorded by another takes it once that lease has run out.
 */
import type { ConversationRecord } from '../ports/conversation-store.js';
import type { EngineSettings } from './engine-deps.js';

/** Without a setting: a little over the Teams connector's worst send (its retry budget plus one attempt). */
const DEFAULT_CHAT_SEND_LEASE_MS = 100_000;

type Lease = NonNullable<ConversationRecord['chatLease']>;

export function newChatLease(settings: EngineSettings, nowMs: number): Lease {
  const until = new Date(nowMs + (settings.chatSendLeaseMs ?? DEFAULT_CHAT_SEND_LEASE_MS));
  return { by: settings.instanceId ?? 'engine', until: until.toISOString() };
}

/**
 * Who holds the record's chat lease now: another instance (`elsewhere`), this one with at least half its time left
 * (`here`: no need to take it again), or nobody that matters (`free`: none, run out, or ours and half spent).
 */
export function chatLeaseHolder(
  record: Pick<ConversationRecord, 'chatLease'>,
  settings: EngineSettings,
  nowMs: number,
): 'elsewhere' | 'here' | 'free' {
  const held = record.chatLease;
  if (!held) return 'free';
  const left = Date.parse(held.until) - nowMs;
  if (held.by !== (settings.instanceId ?? 'engine')) return left > 0 ? 'elsewhere' : 'free';
  return left > (settings.chatSendLeaseMs ?? DEFAULT_CHAT_SEND_LEASE_MS) / 2 ? 'here' : 'free';
}

/**
 * The record as a write leaves it: when it records new chat messages on a shared store, with this instance's lease
 * (unless another instance holds one: that one sends them with the rest).
 */
export function withChatLeaseFor(
  before: ConversationRecord | null,
  after: ConversationRecord,
  settings: EngineSettings,
  nowMs: number,
): ConversationRecord {
  if (settings.exclusiveStore !== false) return after;
  const had = new Set((before?.chatOutbox ?? []).map((e) => e.id));
  const added = (after.chatOutbox ?? []).some((e) => !had.has(e.id));
  if (!added || chatLeaseHolder(after, settings, nowMs) !== 'free') return after;
  return { ...after, chatLease: newChatLease(settings, nowMs) };
}
