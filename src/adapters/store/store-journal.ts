/**
 * The lowdb store's journal: append-only JSON Lines files of hot-state changes (one change per line, see
 * HotChange), replayed over the last snapshot when the store opens. A batch of lines is appended with one
 * write and made durable with one fdatasync, so a turn costs what it changed, not the size of the live work.
 *
 * Files are numbered generations (`ticketzero.journal-<n>.jsonl`). The snapshot names the generation to replay
 * from; compaction starts the next generation, writes a snapshot naming it, then deletes the older files. A crash
 * at any point leaves either the old snapshot with every generation from its own on, or the new snapshot with
 * the new generation; replaying a change the snapshot already holds is harmless (every change is a set).
 *
 * A line torn by a crash mid-append (no newline after it) was never acknowledged; it is cut off when the journal
 * is opened. A complete line that does not parse means the file was damaged: the store refuses to open.
 *
 * Hand-written on purpose: what it needs (group-committed appends with fdatasync, a torn tail cut off, replay
 * into our own state, generation switch tied to an atomic snapshot) is ~200 lines; no well-kept npm package does
 * this for a JSON document (lowdb and steno rewrite the whole file; the embedded databases on npm are native
 * modules or unmaintained).
 */
import { open, readdir, readFile, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Log } from '../../ports/log.js';
import { fsyncDirectory } from './durable-json-file.js';
import type { HotChange } from './hot-state.js';
import { asStoreError, StoreCorruptError, StoreError } from './store-errors.js';

const NEWLINE = 0x0a;
const FILE_PATTERN = /^ticketzero\.journal-(\d+)\.jsonl$/;

export function journalFileName(generation: number): string {
  return `ticketzero.journal-${generation}.jsonl`;
}

/** The generation a file name is the journal of, or null when it is not a journal. */
export function journalGeneration(file: string): number | null {
  const match = FILE_PATTERN.exec(file);
  return match ? Number(match[1]) : null;
}

/** Journal generations present in `dir`, ascending. */
export async function journalGenerations(dir: string): Promise<number[]> {
  return (await readdir(dir))
    .map((file) => journalGeneration(file))
    .filter((g): g is number => g !== null)
    .sort((a, b) => a - b);
}

/**
 * Parses a journal file's bytes. Returns the changes of every complete line and the length of the part that
 * holds them; bytes after it are a torn last line.
 */
export function parseJournal(bytes: Buffer, file: string): { changes: HotChange[]; complete: number } {
  const changes: HotChange[] = [];
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(NEWLINE, start);
    if (end === -1) return { changes, complete: start };
    if (end > start) {
      try {
        changes.push(JSON.parse(bytes.subarray(start, end).toString('utf8')) as HotChange);
      } catch (error) {
        throw new StoreCorruptError(`${file} has an unreadable line at byte ${start}`, { cause: error });
      }
    }
    start = end + 1;
  }
}

export class StoreJournal {
  private handle: FileHandle | null = null;
  private currentBytes = 0;
  private failed: unknown = null;

  private constructor(
    private readonly dir: string,
    private current: number,
    private readonly fsync: boolean,
  ) {}

  /**
   * Opens the journal of `dir` for a snapshot that names generation `from`: deletes older generations, replays
   * every change of generation `from` and later (in order) into `apply`, cuts off a torn last line, and opens the
   * newest generation for appending.
   */
  static async open(
    dir: string,
    from: number,
    options: { fsync: boolean; log: Log },
    apply: (change: HotChange) => void,
  ): Promise<StoreJournal> {
    const generations = await journalGenerations(dir);
    const stale = generations.filter((g) => g < from);
    for (const g of stale) await unlink(join(dir, journalFileName(g)));
    if (stale.length > 0 && options.fsync) await fsyncDirectory(dir);
    const live = generations.filter((g) => g >= from);
    let replayed = 0;
    for (const g of live) {
      const file = journalFileName(g);
      const bytes = await readFile(join(dir, file));
      const { changes, complete } = parseJournal(bytes, file);
      for (const change of changes) apply(change);
      replayed += changes.length;
      if (complete < bytes.length) {
        options.log.warn(
          { file, offset: complete, bytes: bytes.length - complete },
          'journal torn line cut off',
        );
        await truncate(join(dir, file), complete);
      }
    }
    if (replayed > 0) options.log.info({ changes: replayed, files: live.length }, 'journal replayed');
    const journal = new StoreJournal(dir, Math.max(from, ...live), options.fsync);
    await journal.openCurrent();
    return journal;
  }

  /** The generation appended to. */
  get generation(): number {
    return this.current;
  }

  /** Bytes in the generation appended to. */
  get bytes(): number {
    return this.currentBytes;
  }

  /** Appends the lines (each ending in a newline) with one write and one fdatasync. */
  async append(text: string): Promise<number> {
    if (this.failed) throw asStoreError('the journal failed earlier', this.failed);
    const handle = this.handle;
    if (!handle) throw new StoreError('the journal is closed');
    const bytes = Buffer.from(text, 'utf8');
    try {
      await handle.writeFile(bytes);
      if (this.fsync) await handle.datasync();
      this.currentBytes += bytes.length;
      return bytes.length;
    } catch (error) {
      // Cut a partly written batch off, so the next batch does not follow a broken line.
      await handle.truncate(this.currentBytes).catch((truncateError: unknown) => {
        this.failed = truncateError;
      });
      throw asStoreError(`cannot append to ${journalFileName(this.current)}`, error);
    }
  }

  /** Starts the next generation (durably created) and appends there from now on; returns its number. */
  async rotate(): Promise<number> {
    const previous = { handle: this.handle, generation: this.current, bytes: this.currentBytes };
    this.current += 1;
    try {
      await this.openCurrent();
    } catch (error) {
      this.current = previous.generation;
      this.currentBytes = previous.bytes;
      throw asStoreError(`cannot start ${journalFileName(previous.generation + 1)}`, error);
    }
    await previous.handle?.close();
    return this.current;
  }

  /** Deletes the generations before `generation` (a snapshot that names it is durable). */
  async removeBefore(generation: number): Promise<void> {
    const old = (await journalGenerations(this.dir)).filter((g) => g < generation);
    for (const g of old) await unlink(join(this.dir, journalFileName(g)));
    if (old.length > 0 && this.fsync) await fsyncDirectory(this.dir);
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  private async openCurrent(): Promise<void> {
    const handle = await open(join(this.dir, journalFileName(this.current)), 'a');
    try {
      this.currentBytes = (await handle.stat()).size;
      // The file may be new: make its directory entry durable before anything acknowledged is appended to it.
      if (this.fsync) await fsyncDirectory(this.dir);
    } catch (error) {
      await handle.close();
      throw error;
    }
    this.handle = handle;
  }
}
