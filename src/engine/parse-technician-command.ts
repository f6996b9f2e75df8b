/**
 * Reads a technician's @mention command. Case-insensitive, tolerant of extra words ("please take over this one"),
 * with the bot's mention already removed. Unknown text is `unknown` (the engine answers with help, or relays it
 * to the user while a technician has taken over).
 */

export type ParsedCommand =
  | { name: 'reassign'; target: string }
  | { name: 'escalate'; reason: string | null }
  | { name: 'pause' }
  | { name: 'resume' }
  | { name: 'take_over' }
  | { name: 'hand_back' }
  | { name: 'status' }
  | { name: 'help' }
  | { name: 'use_this_channel' }
  | { name: 'unknown' };

export interface CommandText {
  command: ParsedCommand;
  /** A ticket id or number named in the text ("#1234", "ticket 1234"), if any. */
  ticketRef: string | null;
}

const TICKET_REF = /(?:#|\bticket\s*#?\s*)(\d{1,12})\b/i;
/** "reassign [it|this|the ticket|this one …] [to] <who>": the filler words between the verb and the name are skipped. */
const REASSIGN = /\b(?:reassign|assign)\b(?:\s+(?:it|this|that|the|ticket|one|please))*(?:\s+to)?\s+(.+)$/i;

export function parseTechnicianCommand(raw: string): CommandText {
  const text = raw.replace(/\s+/g, ' ').trim();
  const ticketMatch = TICKET_REF.exec(text);
  const ticketRef = ticketMatch?.[1] ?? null;
  const withoutRef = ticketMatch ? text.replace(ticketMatch[0], ' ').replace(/\s+/g, ' ').trim() : text;
  const lower = withoutRef.toLowerCase();

  const command = ((): ParsedCommand => {
    if (/\buse this channel\b/.test(lower)) return { name: 'use_this_channel' };
    const reassign = REASSIGN.exec(withoutRef);
    if (reassign?.[1]) return { name: 'reassign', target: reassign[1].trim() };
    if (/\b(?:reassign|assign)\b/.test(lower)) return { name: 'reassign', target: '' };
    const escalate = /\bescalate\b\s*(.*)$/i.exec(withoutRef);
    if (escalate) {
      const reason = (escalate[1] ?? '').replace(/^(?:because|as|:|-)\s*/i, '').trim();
      return { name: 'escalate', reason: reason.length > 0 ? reason.slice(0, 300) : null };
    }
    if (/\bhand(?:ing)?\s*(?:it\s+)?back\b/.test(lower)) return { name: 'hand_back' };
    if (/\btake\s*over\b|\btakeover\b/.test(lower)) return { name: 'take_over' };
    if (/\bresume\b|\bunpause\b/.test(lower)) return { name: 'resume' };
    if (/\bpause\b|\bhold\b/.test(lower)) return { name: 'pause' };
    if (/\bstatus\b/.test(lower)) return { name: 'status' };
    if (/\bhelp\b|^\?$/.test(lower)) return { name: 'help' };
    return { name: 'unknown' };
  })();

  return { command, ticketRef };
}

export const TECHNICIAN_HELP = [
  'TicketZero commands (mention me in the ticket’s thread, or add a ticket number like #1234):',
  '• reassign <name or e-mail> — change the ticket’s technician in Atera',
  '• escalate [reason] — stop the AI and hand the ticket to a human',
  '• pause / resume — hold the AI’s answers (the user’s messages still reach Atera and this thread)',
  '• take over — talk to the user yourself: mention me with your message and I relay it',
  '• hand back — return the conversation to the AI if rounds and time remain',
  '• status [#ticket] — where the conversation stands',
  '• use this channel — make this channel the technicians’ channel',
].join('\n');
