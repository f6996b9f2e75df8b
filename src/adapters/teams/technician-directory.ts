/**
 * The technicians TicketZero knows, for "reassign @name" and mentions: the settings file (TECHNICIANS_FILE), the
 * technicians' team roster, and technicians remembered from tickets.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import type { Technician, TechnicianDirectory } from '../../ports/technicians.js';
import type { AdapterKv } from './teams-kv.js';

const FileEntry = z.object({
  name: z.string().min(1),
  email: z.string().email(),
  ateraContactId: z.number().int().positive().optional(),
  aadObjectId: z.string().min(1).optional(),
});

/** Reads and checks the technicians file at start-up; every problem is reported with the variable name. */
export function readTechniciansFile(path: string): Technician[] {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `TECHNICIANS_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`,
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError([`TECHNICIANS_FILE: ${path} is not valid JSON`]);
  }
  const parsed = z.array(FileEntry).safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `TECHNICIANS_FILE: entry ${i.path.join('.')}: ${i.message}`),
    );
  }
  return parsed.data.map((t) => ({
    name: t.name,
    email: t.email,
    ateraContactId: t.ateraContactId ?? null,
    userId: t.aadObjectId ?? null,
  }));
}

export interface TechnicianDirectoryDeps {
  fromFile: Technician[];
  /** The technicians' team roster (empty when there is no team yet). */
  roster: () => Promise<Technician[]>;
  kv: AdapterKv;
}

const NS = 'teams.technicians';
const KEY = 'remembered';

export function createTechnicianDirectory(
  deps: TechnicianDirectoryDeps,
): TechnicianDirectory & { list(): Promise<Technician[]> } {
  async function remembered(): Promise<Technician[]> {
    return (await deps.kv.getValue<Technician[]>(NS, KEY)) ?? [];
  }

  async function everyone(): Promise<Technician[]> {
    const merged = new Map<string, Technician>();
    for (const t of [...deps.fromFile, ...(await deps.roster()), ...(await remembered())]) {
      const key = t.email.toLowerCase();
      const known = merged.get(key);
      merged.set(
        key,
        known
          ? {
              name: known.name || t.name,
              email: known.email,
              ateraContactId: known.ateraContactId ?? t.ateraContactId,
              userId: known.userId ?? t.userId,
            }
          : t,
      );
    }
    return [...merged.values()];
  }

  return {
    list: everyone,

    async find(query) {
      const q = query.trim().replace(/^@/, '').toLowerCase();
      if (!q) return [];
      const all = await everyone();
      const exact = all.filter((t) => t.email.toLowerCase() === q);
      if (exact.length > 0) return exact;
      return all.filter((t) => {
        const name = t.name.toLowerCase();
        return (
          name === q ||
          name.startsWith(q) ||
          name.split(/\s+/).some((word) => word.startsWith(q)) ||
          t.email.toLowerCase().startsWith(q)
        );
      });
    },

    async remember(technician) {
      const list = await remembered();
      const at = list.findIndex((t) => t.email.toLowerCase() === technician.email.toLowerCase());
      if (at >= 0) {
        const known = list[at]!;
        const merged = {
          name: technician.name || known.name,
          email: known.email,
          ateraContactId: technician.ateraContactId ?? known.ateraContactId,
          userId: technician.userId ?? known.userId,
        };
        // Seen on every poll of a busy ticket: write only what is new.
        if (
          merged.name === known.name &&
          merged.ateraContactId === known.ateraContactId &&
          merged.userId === known.userId
        ) {
          return;
        }
        list[at] = merged;
      } else {
        list.push(technician);
      }
      await deps.kv.setValue(NS, KEY, list);
    },
  };
}
