/**
 * In-memory implementations of the engine's ports, for engine unit tests and the evaluation harness.
 * They behave like the real adapters where the engine can tell (e.g. getTicket of an unknown id throws
 * NotFoundError), record what the engine did, and never talk to the network.
 */
import type {
  CardSpec,
  ChatChannel,
  ChatTarget,
  Mention,
  OutgoingMessage,
  TechnicianChannel,
  ThreadRef,
} from '../../src/ports/chat.js';
import type { Clock } from '../../src/ports/clock.js';
import type { ChainResult, CompletionRequest, ModelChain } from '../../src/ports/model.js';
import type { TechnicianIdentity } from '../../src/ports/support-engine.js';
import type { Technician, TechnicianAuthority, TechnicianDirectory } from '../../src/ports/technicians.js';
import {
  markersOf,
  type Device,
  type NewComment,
  type Ticket,
  type TicketChange,
  type TicketComment,
  type TicketDesk,
} from '../../src/ports/ticket-desk.js';
import type {
  EndUserProfile,
  TenantDirectory,
  TenantRef,
  UserDirectory,
  UserLookup,
} from '../../src/ports/user-directory.js';
import { ChatGoneError, NotFoundError } from '../../src/errors.js';
import { formatControlBlock } from '../../src/engine/prompt/control-block.js';

export class ManualClock implements Clock {
  constructor(private current = new Date('2026-11-25T09:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advanceMinutes(minutes: number): void {
    this.current = new Date(this.current.getTime() + minutes * 60_000);
  }
  advanceMs(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export function makeTicket(overrides: Partial<Ticket> & { id: number }): Ticket {
  return {
    number: String(overrides.id),
    title: 'Outlook keeps asking for my password',
    description: 'Since this morning Outlook asks for my password every few minutes.',
    priority: 'Medium',
    status: 'Open',
    type: 'Incident',
    createdAt: '2026-11-25T08:59:00.000Z',
    modifiedAt: '2026-11-25T08:59:00.000Z',
    customer: { id: 101, name: 'Contoso Ltd' },
    endUser: {
      id: 501,
      email: 'megan.bowen@contoso.example',
      firstName: 'Megan',
      lastName: 'Bowen',
      phone: null,
    },
    technician: { contactId: null, email: null, fullName: null },
    ...overrides,
  };
}

export class InMemoryTicketDesk implements TicketDesk {
  readonly tickets = new Map<number, Ticket>();
  readonly comments = new Map<number, (NewComment & { postedAt: number })[]>();
  readonly changes: { ticketId: number; change: TicketChange }[] = [];
  failUpdates = 0;
  devices: Device[] = [];

  add(ticket: Ticket): void {
    this.tickets.set(ticket.id, ticket);
  }
  async getTicket(ticketId: number): Promise<Ticket> {
    const t = this.tickets.get(ticketId);
    if (!t) throw new NotFoundError(`ticket ${ticketId} not found`);
    return t;
  }
  async updateTicket(ticketId: number, change: TicketChange): Promise<void> {
    if (this.failUpdates > 0) {
      this.failUpdates -= 1;
      throw new NotFoundError('simulated Atera failure');
    }
    const t = await this.getTicket(ticketId);
    this.changes.push({ ticketId, change });
    this.tickets.set(ticketId, {
      ...t,
      ...(change.status ? { status: change.status } : {}),
      ...(change.priority ? { priority: change.priority } : {}),
      technician: change.technicianEmail
        ? { contactId: change.technicianContactId ?? null, email: change.technicianEmail, fullName: null }
        : t.technician,
    });
  }
  /** Comments written in Atera by people (a technician's reply or note, the user's e-mail reply). */
  readonly written = new Map<number, TicketComment[]>();
  listCommentCalls = 0;
  /** The next this many comment reads fail, as when Atera answers 429 or 5xx. */
  listCommentFailures = 0;

  /** Someone writes on the ticket in Atera; the ticket's modification time moves. */
  write(ticketId: number, comment: Omit<TicketComment, 'date'> & { date?: string }): Ticket {
    const date = comment.date ?? new Date().toISOString();
    this.written.set(ticketId, [...(this.written.get(ticketId) ?? []), { ...comment, date }]);
    const ticket = this.tickets.get(ticketId);
    if (!ticket) throw new NotFoundError(`ticket ${ticketId} not found`);
    const changed = { ...ticket, modifiedAt: date };
    this.tickets.set(ticketId, changed);
    return changed;
  }

  async listComments(ticketId: number): Promise<TicketComment[]> {
    this.listCommentCalls += 1;
    if (this.listCommentFailures > 0) {
      this.listCommentFailures -= 1;
      throw new NotFoundError('simulated Atera failure');
    }
    const own = (this.comments.get(ticketId) ?? []).map((c): TicketComment => ({
      text: `${c.text}\n${markersOf(c)
        .map((m) => `[${m}]`)
        .join(' ')}`,
      date: c.timestampUtc,
      author: c.author === 'end_user' ? 'end_user' : 'technician',
      authorEmail: null,
      internal: c.visibility === 'internal',
    }));
    return [...own, ...(this.written.get(ticketId) ?? [])];
  }
  async addComment(ticketId: number, comment: NewComment): Promise<void> {
    const list = this.comments.get(ticketId) ?? [];
    list.push({ ...comment, postedAt: Date.now() });
    this.comments.set(ticketId, list);
  }
  async findDevices(): Promise<Device[]> {
    return this.devices;
  }
}

export const CONTOSO: TenantRef = { key: 'contoso', tenantId: '11111111-1111-4111-8111-111111111111' };

export function makeUser(overrides: Partial<EndUserProfile> = {}): EndUserProfile {
  return {
    id: 'aad-megan',
    tenant: CONTOSO,
    displayName: 'Megan Bowen',
    mail: 'megan.bowen@contoso.example',
    userPrincipalName: 'megan.bowen@contoso.example',
    jobTitle: 'Marketing Manager',
    department: 'Marketing',
    preferredLanguage: 'en-US',
    officeLocation: null,
    managedDevices: null,
    ...overrides,
  };
}

export class InMemoryUserDirectory implements UserDirectory {
  readonly users = new Map<string, UserLookup>();
  lookups = 0;
  add(email: string, lookup: UserLookup): void {
    this.users.set(email.toLowerCase(), lookup);
  }
  async findByEmail(_tenant: TenantRef, email: string): Promise<UserLookup> {
    this.lookups += 1;
    return this.users.get(email.toLowerCase()) ?? { status: 'not_found' };
  }
  async isInGroup(): Promise<boolean> {
    return false;
  }
}

export class SingleTenantDirectory implements TenantDirectory {
  constructor(
    private readonly tenant: TenantRef = CONTOSO,
    private readonly unmapped: number[] = [],
  ) {}
  tenantForCustomer(customerId: number | null): TenantRef | null {
    return customerId !== null && this.unmapped.includes(customerId) ? null : this.tenant;
  }
  tenantById(tenantId: string): TenantRef | null {
    return tenantId === this.tenant.tenantId ? this.tenant : null;
  }
}

export interface SentMessage {
  conversationId: string;
  message: OutgoingMessage;
}

export class InMemoryChat implements ChatChannel {
  readonly sent: SentMessage[] = [];
  readonly opened: ChatTarget[] = [];
  typing = 0;
  openFailures = 0;

  /** Chats Teams no longer knows: a send there fails with ChatGoneError, as the connector's 404 does. */
  readonly gone = new Set<string>();
  /** Each user's current 1:1 chat, once it had to be opened anew. */
  private readonly reopened = new Map<string, string>();

  async openChat(
    target: ChatTarget,
    options: { replacing?: string } = {},
  ): Promise<{ conversationId: string }> {
    if (this.openFailures > 0) {
      this.openFailures -= 1;
      throw new NotFoundError('simulated connector failure');
    }
    this.opened.push(target);
    const current = this.reopened.get(target.userId) ?? `a:chat-${target.userId}`;
    if (options.replacing !== current) return { conversationId: current };
    const fresh = `a:chat-${target.userId}-${this.opened.length}`;
    this.reopened.set(target.userId, fresh);
    return { conversationId: fresh };
  }
  /** The next this many sends fail, as when Teams is unreachable (or the process dies while sending). */
  sendFailures = 0;

  async send(conversationId: string, message: OutgoingMessage): Promise<void> {
    if (this.gone.has(conversationId)) throw new ChatGoneError(conversationId);
    if (this.sendFailures > 0) {
      this.sendFailures -= 1;
      throw new NotFoundError('simulated connector failure');
    }
    this.sent.push({ conversationId, message });
  }
  async sendTyping(): Promise<void> {
    this.typing += 1;
  }
  texts(conversationId?: string): string[] {
    return this.sent
      .filter((s) => !conversationId || s.conversationId === conversationId)
      .flatMap((s) => (s.message.kind === 'text' ? [s.message.text] : []));
  }
  cards(kind?: CardSpec['kind']): CardSpec[] {
    return this.sent.flatMap((s) =>
      s.message.kind === 'card' && (!kind || s.message.card.kind === kind) ? [s.message.card] : [],
    );
  }
}

export class InMemoryTechnicianChannel implements TechnicianChannel {
  configured = true;
  readonly threads: {
    thread: ThreadRef;
    cards: CardSpec[];
    posts: { message: OutgoingMessage; mention?: Mention }[];
  }[] = [];
  captured: { teamId: string; channelId: string } | null = null;

  async isConfigured(): Promise<boolean> {
    return this.configured;
  }
  async useChannel(where: { teamId: string; channelId: string }): Promise<void> {
    this.captured = where;
    this.configured = true;
  }
  async openThread(card: CardSpec): Promise<ThreadRef> {
    const n = this.threads.length + 1;
    const thread = { threadId: `19:tech@thread.tacv2;messageid=${1000 + n}`, cardActivityId: `${1000 + n}` };
    this.threads.push({ thread, cards: [card], posts: [] });
    return thread;
  }
  private heldCardUpdate: { started: () => void; gate: Promise<void> } | null = null;

  /** The next card update waits until `release()`: Teams taking a moment to accept it. */
  holdCardUpdate(): { started: Promise<void>; release(): void } {
    let release!: () => void;
    let started!: () => void;
    const startedP = new Promise<void>((resolve) => (started = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.heldCardUpdate = { started, gate };
    return { started: startedP, release };
  }

  async updateCard(thread: ThreadRef, card: CardSpec): Promise<void> {
    const hold = this.heldCardUpdate;
    this.heldCardUpdate = null;
    if (hold) {
      hold.started();
      await hold.gate;
    }
    this.find(thread).cards.push(card);
  }
  async post(thread: ThreadRef, message: OutgoingMessage, mention?: Mention): Promise<void> {
    this.find(thread).posts.push({ message, ...(mention ? { mention } : {}) });
  }
  private find(thread: ThreadRef) {
    const t = this.threads.find((x) => x.thread.threadId === thread.threadId);
    if (!t) throw new NotFoundError(`no thread ${thread.threadId}`);
    return t;
  }
}

export class InMemoryTechnicians implements TechnicianAuthority, TechnicianDirectory {
  readonly members = new Set<string>();
  readonly list: Technician[] = [];
  async isTechnician(who: TechnicianIdentity): Promise<boolean> {
    return this.members.has(who.userId);
  }
  async find(query: string): Promise<Technician[]> {
    const q = query.toLowerCase().trim();
    const exact = this.list.filter((t) => t.email.toLowerCase() === q);
    if (exact.length) return exact;
    return this.list.filter((t) => t.name.toLowerCase().includes(q) || t.email.toLowerCase().startsWith(q));
  }
  async remember(technician: Technician): Promise<void> {
    if (!this.list.some((t) => t.email === technician.email)) this.list.push(technician);
  }
}

/**
 * A model chain that answers from a script: each call takes the next answer (a string in the reply format,
 * or 'fail' for every provider failing). Records the prompts it was given.
 */
export class ScriptedModel implements ModelChain {
  readonly providers = ['scripted'];
  readonly requests: CompletionRequest[] = [];
  constructor(private readonly script: (string | 'fail')[] = []) {}

  push(...answers: (string | 'fail')[]): void {
    this.script.push(...answers);
  }

  private nextHold: { started: () => void; gate: Promise<void> } | null = null;

  /** The next call waits until `release()`: a model still working when the user writes again. */
  hold(): { started: Promise<void>; release(): void } {
    let release!: () => void;
    let started!: () => void;
    const startedP = new Promise<void>((resolve) => (started = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.nextHold = { started, gate };
    return { started: startedP, release };
  }

  async complete(request: CompletionRequest): Promise<ChainResult> {
    this.requests.push(request);
    const hold = this.nextHold;
    this.nextHold = null;
    if (hold) {
      hold.started();
      await hold.gate;
    }
    const next = this.script.shift() ?? continueAnswer('Could you tell me what you see on the screen now?');
    if (next === 'fail') {
      return {
        status: 'all_failed',
        failures: [{ provider: 'scripted', status: 'unavailable', error: 'connection refused' }],
      };
    }
    const mid = Math.max(1, Math.floor(next.length / 2));
    request.onText?.(next.slice(0, mid), { provider: 'scripted', restart: false });
    request.onText?.(next.slice(mid), { provider: 'scripted', restart: false });
    return { status: 'ok', text: next, provider: 'scripted', model: 'scripted', usage: null, latencyMs: 1 };
  }
}

/** An answer in the reply format the support prompt asks for. */
export function continueAnswer(text: string, category = 'outlook'): string {
  return `${text}\n${formatControlBlock({ outcome: 'continue', category })}`;
}

export function resolvedAnswer(text: string, category = 'outlook'): string {
  return `${text}\n${formatControlBlock({ outcome: 'resolved_pending_confirmation', category })}`;
}

export function needsHumanAnswer(text: string, reason: string, category = 'hardware'): string {
  return `${text}\n${formatControlBlock({ outcome: 'needs_human', category, reason })}`;
}
