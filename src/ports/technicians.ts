/** Who counts as a technician, and the directory used to reassign tickets. */
import type { TechnicianIdentity } from './support-engine.js';

export interface Technician {
  name: string;
  email: string;
  /** Atera TechnicianContactID when known. */
  ateraContactId: number | null;
  /** Entra object id when known (to @mention in Teams). */
  userId: string | null;
}

export interface TechnicianAuthority {
  /**
   * True when the person is a member of the technicians' team/channel or the technicians' Entra group.
   * Checked on every command; identity comes from the authenticated activity, never from text.
   */
  isTechnician(who: TechnicianIdentity, where: { teamId: string | null }): Promise<boolean>;
}

export interface TechnicianDirectory {
  /** Technicians whose name or e-mail matches the query (case-insensitive; exact e-mail wins). */
  find(query: string): Promise<Technician[]>;
  /** Remembers a technician seen on a ticket. */
  remember(technician: Technician): Promise<void>;
}
