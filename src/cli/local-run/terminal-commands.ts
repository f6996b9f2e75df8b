/**
 * What you can type at the local run's terminal: make an Atera ticket arrive, play a technician or the end user
 * writing in Atera, read a ticket's comments. Needs the Atera sandbox; with your own Atera account, you do these in
 * Atera itself.
 */
import { htmlToText } from '../../adapters/atera/comment-html.js';
import { AteraSandboxError, type AteraSandbox } from '../../sandboxes/atera/atera-sandbox.js';
import { PLAYGROUND } from '../../sandboxes/graph/sandbox-directory.js';

export const TERMINAL_HELP = [
  '  Type here:  ticket <what is wrong>   e.g. "ticket Outlook does not show new mail"',
  '              reply <id> <text>        a technician answers the user in Atera (public reply)',
  '              note <id> <text>         a technician’s internal note (stays in Atera)',
  '              email <id> <text>        the end user answers by e-mail',
  '              comments <id>            show a ticket’s comments in Atera',
  '              quit',
];

export interface TerminalActions {
  /** null: Atera is your account, not the sandbox. */
  atera: AteraSandbox | null;
  pollSeconds: number;
  print(text: string): void;
  quit(): void;
}

/** Carries out one line typed at the terminal. */
export function runTerminalLine(line: string, actions: TerminalActions): void {
  const text = line.trim();
  if (!text) return;
  if (/^(quit|exit)$/i.test(text)) {
    actions.quit();
    return;
  }
  const { atera, print } = actions;
  const ticket = text.match(/^ticket\s+(\S[\s\S]*)$/i);
  const write = text.match(/^(reply|note|email)\s+(\d+)\s+(\S[\s\S]*)$/i);
  const comments = text.match(/^comments\s+(\d+)$/i);
  if (!ticket && !write && !comments) {
    print(
      'Commands: ticket <what is wrong> · reply <id> <text> · note <id> <text> · email <id> <text> · comments <id> · quit',
    );
    return;
  }
  if (!atera) {
    print('Atera is your own account in this run: create and answer tickets in Atera itself.');
    return;
  }
  try {
    if (ticket) {
      const title = ticket[1]!;
      const created = atera.createTicket({
        title,
        description: `${title} (created from the TicketZero local run)`,
        endUserEmail: PLAYGROUND.user.email,
        endUserFirstName: 'Alex',
        endUserLastName: 'Wilber',
        customerId: 101,
        priority: 'Medium',
      });
      print(
        `→ Atera ticket #${created.TicketID} "${title}" created for Alex Wilber; TicketZero picks it up within ${actions.pollSeconds} s.`,
      );
    } else if (write) {
      const kind = write[1]!.toLowerCase() as 'reply' | 'note' | 'email';
      const ticketId = Number(write[2]);
      const body = write[3]!;
      const c =
        kind === 'email'
          ? atera.addEndUserReply(ticketId, { text: body, via: 'email' })
          : atera.addTechnicianReply(ticketId, { text: body, internal: kind === 'note' });
      const who = `${String(c.FirstName ?? '')} ${String(c.LastName ?? '')}`.trim();
      print(
        {
          reply: `→ ${who} replied on Atera ticket #${ticketId}; watch the Playground chat.`,
          note: `→ ${who} added an internal note on Atera ticket #${ticketId}; it stays in Atera.`,
          email: `→ ${who} answered Atera ticket #${ticketId} by e-mail; watch the Playground chat.`,
        }[kind],
      );
    } else if (comments) {
      const id = Number(comments[1]);
      if (!atera.getTicket(id)) {
        print(`✗ There is no Atera ticket #${id}.`);
        return;
      }
      const list = atera.comments(id);
      if (list.length === 0) print(`No comments on Atera ticket #${id}.`);
      for (const c of list) {
        const who = `${String(c.FirstName ?? '')} ${String(c.LastName ?? '')}`.trim() || 'unknown';
        const tag = c.IsInternal === true ? ' (internal)' : c.EndUserID != null ? ' (end user)' : '';
        print(`• ${who}${tag}: ${htmlToText(String(c.Comment ?? '')).replace(/\n/g, '\n  ')}`);
      }
    }
  } catch (error) {
    if (!(error instanceof AteraSandboxError)) throw error;
    print(`✗ ${error.message}`);
  }
}
