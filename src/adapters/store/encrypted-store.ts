/**
 * A ConversationStore decorator that keeps the users' words and personal details encrypted at rest: turn texts,
 * the ticket's title and description, the end user's name, e-mail and phone, the Entra profile's personal
 * fields, the devices' logged-in users, notices queued for the chat, and the text of queued Atera comments. Ids, states and times stay in
 * clear so the inner store can index them (by user id, thread, state, end time).
 * Values written before encryption was turned on stay readable (they are passed through as they are).
 */
import type {
  ConversationRecord,
  ConversationStore,
  Mutation,
  OutboxEntry,
} from '../../ports/conversation-store.js';
import type { NewComment } from '../../ports/ticket-desk.js';
import type { TranscriptCipher } from './transcript-cipher.js';

type Transform = (value: string) => string;

function nullable(value: string | null, transform: Transform): string | null {
  return value === null ? null : transform(value);
}

/** The record with every personal text passed through `transform` (a new object; the input is not changed). */
export function mapPersonalText(record: ConversationRecord, transform: Transform): ConversationRecord {
  const { ticket, user } = record;
  return {
    ...record,
    ticket: {
      ...ticket,
      title: transform(ticket.title),
      description: transform(ticket.description),
      endUser: {
        ...ticket.endUser,
        email: nullable(ticket.endUser.email, transform),
        firstName: transform(ticket.endUser.firstName),
        lastName: transform(ticket.endUser.lastName),
        phone: nullable(ticket.endUser.phone, transform),
      },
    },
    user: user && {
      ...user,
      displayName: transform(user.displayName),
      mail: nullable(user.mail, transform),
      userPrincipalName: transform(user.userPrincipalName),
      jobTitle: nullable(user.jobTitle, transform),
      department: nullable(user.department, transform),
      officeLocation: nullable(user.officeLocation, transform),
    },
    devices: record.devices.map((d) => ({ ...d, loggedInUsers: d.loggedInUsers.map(transform) })),
    turns: record.turns.map((t) => ({ ...t, text: transform(t.text) })),
    ...(record.chatOutbox
      ? {
          chatOutbox: record.chatOutbox.map((e) =>
            'notice' in e.body ? { ...e, body: { notice: transform(e.body.notice) } } : e,
          ),
        }
      : {}),
  };
}

export function withEncryptedTranscripts(
  store: ConversationStore,
  cipher: TranscriptCipher,
): ConversationStore {
  const encrypt: Transform = (v) => cipher.encrypt(v);
  const decrypt: Transform = (v) => cipher.decrypt(v);
  const open = (r: ConversationRecord): ConversationRecord => mapPersonalText(r, decrypt);
  const openOrNull = (r: ConversationRecord | null) => (r ? open(r) : null);
  const sealComment = (c: NewComment): NewComment => ({ ...c, text: encrypt(c.text) });
  const openEntry = (e: OutboxEntry): OutboxEntry => ({
    ...e,
    comment: { ...e.comment, text: decrypt(e.comment.text) },
  });

  return {
    getCursor: (name) => store.getCursor(name),
    setCursor: (name, value) => store.setCursor(name, value),
    claimTicket: (ticketId, claim) => store.claimTicket(ticketId, claim),
    pruneClaims: (createdBefore) => store.pruneClaims(createdBefore),
    getConversation: async (ticketId) => openOrNull(await store.getConversation(ticketId)),
    findLiveByUser: async (userId) => (await store.findLiveByUser(userId)).map(open),
    findByThread: async (threadId) => openOrNull(await store.findByThread(threadId)),
    listLive: async () => (await store.listLive()).map(open),
    listEnded: async (options) => (await store.listEnded(options)).map(open),
    update: <T>(ticketId: number, change: (current: ConversationRecord | null) => Mutation<T>) =>
      store.update(ticketId, (sealed) => {
        const mutation = change(openOrNull(sealed));
        return {
          ...mutation,
          ...(mutation.conversation ? { conversation: mapPersonalText(mutation.conversation, encrypt) } : {}),
          ...(mutation.comments ? { comments: mutation.comments.map(sealComment) } : {}),
        };
      }),
    dueComments: async (now, limit, leaseMs) => (await store.dueComments(now, limit, leaseMs)).map(openEntry),
    pendingComments: async (ticketId, limit) => (await store.pendingComments(ticketId, limit)).map(openEntry),
    markDelivered: (...entryIds) => store.markDelivered(...entryIds),
    markFailed: (entryId, error, nextAttemptAt) => store.markFailed(entryId, error, nextAttemptAt),
    outboxStats: () => store.outboxStats(),
    getValue: (namespace, key) => store.getValue(namespace, key),
    setValue: (namespace, key, value) => store.setValue(namespace, key, value),
    deleteEndedBefore: (endedBefore) => store.deleteEndedBefore(endedBefore),
    close: () => store.close(),
  };
}
