/**
 * Where the lowdb store keeps conversations that have ended and have nothing left to deliver: append-only JSON
 * Lines files, one per UTC day of archiving (`archive/conversations-YYYY-MM-DD.jsonl`), so the hot document
 * (rewritten on every change) stays as small as the live work, however many tickets were ever seen.
 *
 * Each line is one ticket's final state: `{ n, ticketId, lastSeq, endedAt, record }`. A ticket can be archived
 * more than once (reopened, changed after it ended); the line with the highest `n` wins. An in-memory index
 * (ticket → file, offset, length) makes lookups one read; retention rewrites files without expired lines.
 * A line torn by a crash mid-append is cut off when the archive is next opened.
 */
import { mkdir, open, readdir, readFile, rename, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConversationRecord } from '../../ports/conversation-store.js';
import type { Log } from '../../ports/log.js';
import { endedAtOf, timeOf } from './conversation-record-fields.js';
import type { ColdTicket } from './hot-state.js';
import { fsyncDirectory } from './durable-json-file.js';
import { asStoreError, StoreCorruptError } from './store-errors.js';

interface ArchiveLine {
  n: number;
  ticketId: number;
  lastSeq: number;
  /** When the conversation ended, or when a record-less ticket was archived (for retention). */
  endedAt: string;
  record: ConversationRecord | null;
}

interface IndexEntry {
  file: string;
  offset: number;
  length: number;
  n: number;
  endedAtMs: number;
  hasRecord: boolean;
}

const FILE_PATTERN = /^conversations-\d{4}-\d{2}-\d{2}\.jsonl$/;
const NEWLINE = 0x0a;

export class ConversationArchive {
  private readonly index = new Map<number, IndexEntry>();
  private nextN = 1;
  /** Appends, reads and rewrites run one at a time (offsets stay valid). */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly fsync: boolean,
    private readonly log: Log,
  ) {}

  static async open(dir: string, options: { fsync: boolean; log: Log }): Promise<ConversationArchive> {
    const archive = new ConversationArchive(dir, options.fsync, options.log);
    try {
      await mkdir(dir, { recursive: true });
      const files = (await readdir(dir)).filter((f) => FILE_PATTERN.test(f)).sort();
      for (const file of files) await archive.scan(file);
    } catch (error) {
      throw asStoreError(`cannot open the archive in ${dir}`, error);
    }
    return archive;
  }

  has(ticketId: number): boolean {
    return this.index.has(ticketId);
  }

  get size(): number {
    return this.index.size;
  }

  /** Appends the tickets' final states in one write (and one fsync). */
  append(tickets: readonly ColdTicket[], archivedAt: Date): Promise<void> {
    return this.exclusive(async () => {
      if (tickets.length === 0) return;
      const file = `conversations-${archivedAt.toISOString().slice(0, 10)}.jsonl`;
      const path = join(this.dir, file);
      const handle = await open(path, 'a');
      try {
        let offset = (await handle.stat()).size;
        const chunks: Buffer[] = [];
        const placed: Array<[number, IndexEntry]> = [];
        for (const cold of tickets) {
          const line: ArchiveLine = {
            n: this.nextN++,
            ticketId: cold.ticketId,
            lastSeq: cold.lastSeq,
            endedAt: cold.record ? endedAtOf(cold.record) : archivedAt.toISOString(),
            record: cold.record,
          };
          const bytes = Buffer.from(`${JSON.stringify(line)}\n`, 'utf8');
          chunks.push(bytes);
          placed.push([cold.ticketId, this.entryFor(line, file, offset, bytes.length - 1)]);
          offset += bytes.length;
        }
        await handle.writeFile(Buffer.concat(chunks));
        if (this.fsync) await handle.datasync();
        for (const [ticketId, entry] of placed) this.index.set(ticketId, entry);
      } finally {
        await handle.close();
      }
    }, 'cannot append to the archive');
  }

  /** The ticket's archived state, or null when it is not archived. */
  read(ticketId: number): Promise<ColdTicket | null> {
    return this.exclusive(async () => {
      const entry = this.index.get(ticketId);
      if (!entry) return null;
      const line = await this.readLine(entry);
      return { ticketId, record: line.record, lastSeq: line.lastSeq };
    }, 'cannot read the archive');
  }

  /** Archived records, newest ended first, skipping tickets `skip` says are held elsewhere. */
  listEnded(
    limit: number,
    sinceMs: number,
    skip: (ticketId: number) => boolean,
  ): Promise<ConversationRecord[]> {
    return this.exclusive(async () => {
      const candidates = [...this.index.entries()]
        .filter(([id, e]) => e.hasRecord && e.endedAtMs >= sinceMs && !skip(id))
        .sort(([ida, a], [idb, b]) => b.endedAtMs - a.endedAtMs || idb - ida)
        .slice(0, Math.max(0, limit));
      const records: ConversationRecord[] = [];
      for (const [, entry] of candidates) {
        const line = await this.readLine(entry);
        if (line.record) records.push(line.record);
      }
      return records;
    }, 'cannot read the archive');
  }

  /**
   * Retention: rewrites every file without the lines of conversations that ended before `cutoffMs`, without
   * superseded lines and without tickets `drop` names (held or deleted in the hot document). Returns the ids of
   * archived conversations deleted.
   */
  deleteEndedBefore(cutoffMs: number, drop: (ticketId: number) => boolean): Promise<number[]> {
    return this.exclusive(async () => {
      const deleted: number[] = [];
      const byFile = new Map<string, Array<[number, IndexEntry]>>();
      for (const [id, entry] of this.index) {
        const list = byFile.get(entry.file) ?? [];
        list.push([id, entry]);
        byFile.set(entry.file, list);
      }
      const files = (await readdir(this.dir)).filter((f) => FILE_PATTERN.test(f));
      for (const file of files) {
        const current = byFile.get(file) ?? [];
        const keep = current.filter(([id, e]) => e.endedAtMs >= cutoffMs && !drop(id));
        for (const [id, e] of current) {
          if (e.hasRecord && e.endedAtMs < cutoffMs) deleted.push(id);
        }
        for (const [id] of current) if (!keep.some(([k]) => k === id)) this.index.delete(id);
        await this.rewrite(file, keep);
      }
      return deleted;
    }, 'cannot apply retention to the archive');
  }

  // Internals -------------------------------------------------------------------------------------------------

  private async rewrite(file: string, keep: Array<[number, IndexEntry]>): Promise<void> {
    const path = join(this.dir, file);
    if (keep.length === 0) {
      await unlink(path);
      if (this.fsync) await fsyncDirectory(this.dir);
      return;
    }
    const whole = await readFile(path);
    keep.sort(([, a], [, b]) => a.offset - b.offset);
    const unchanged = keep.length > 0 && this.linesIn(whole) === keep.length;
    if (unchanged) return;
    const chunks: Buffer[] = [];
    let offset = 0;
    const moved: Array<[number, IndexEntry]> = [];
    for (const [id, entry] of keep) {
      const line = whole.subarray(entry.offset, entry.offset + entry.length + 1);
      chunks.push(line);
      moved.push([id, { ...entry, offset }]);
      offset += line.length;
    }
    const temp = join(this.dir, `.${file}.tmp`);
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(Buffer.concat(chunks));
      if (this.fsync) await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    if (this.fsync) await fsyncDirectory(this.dir);
    for (const [id, entry] of moved) this.index.set(id, entry);
  }

  private linesIn(buffer: Buffer): number {
    let count = 0;
    for (let i = buffer.indexOf(NEWLINE); i !== -1; i = buffer.indexOf(NEWLINE, i + 1)) count += 1;
    return count;
  }

  private async scan(file: string): Promise<void> {
    const path = join(this.dir, file);
    const whole = await readFile(path);
    let start = 0;
    while (start < whole.length) {
      const end = whole.indexOf(NEWLINE, start);
      if (end === -1) {
        // A line torn by a crash mid-append: cut it off so the next append starts on a fresh line.
        this.log.warn({ file, offset: start, bytes: whole.length - start }, 'archive torn line cut off');
        await truncate(path, start);
        return;
      }
      let line: ArchiveLine;
      try {
        line = JSON.parse(whole.subarray(start, end).toString('utf8')) as ArchiveLine;
      } catch (error) {
        throw new StoreCorruptError(`archive ${file} has an unreadable line at byte ${start}`, {
          cause: error,
        });
      }
      const existing = this.index.get(line.ticketId);
      if (!existing || existing.n < line.n) {
        this.index.set(line.ticketId, this.entryFor(line, file, start, end - start));
      }
      this.nextN = Math.max(this.nextN, line.n + 1);
      start = end + 1;
    }
  }

  private entryFor(line: ArchiveLine, file: string, offset: number, length: number): IndexEntry {
    return {
      file,
      offset,
      length,
      n: line.n,
      endedAtMs: timeOf(line.endedAt),
      hasRecord: line.record !== null,
    };
  }

  private async readLine(entry: IndexEntry): Promise<ArchiveLine> {
    const handle = await open(join(this.dir, entry.file), 'r');
    try {
      const buffer = Buffer.alloc(entry.length);
      await handle.read(buffer, 0, entry.length, entry.offset);
      return JSON.parse(buffer.toString('utf8')) as ArchiveLine;
    } finally {
      await handle.close();
    }
  }

  private exclusive<T>(work: () => Promise<T>, failure: string): Promise<T> {
    const run = this.queue.then(work).catch((error: unknown) => {
      throw asStoreError(failure, error);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
