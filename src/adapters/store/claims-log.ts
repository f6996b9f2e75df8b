/**
 * The lowdb store's ticket claims, kept out of the hot document: an append-only JSON Lines file
 * (`claims.jsonl`, one `{ ticketId, claim }` per line), so claiming a ticket appends one line instead of
 * rewriting every claim, and a turn's write does not carry the claims at all. Claims made while an append is in
 * flight are appended together by the next one (group commit, one fsync). Pruning rewrites the file atomically.
 * First writer wins in memory, synchronously, so two concurrent claims of one ticket cannot both succeed.
 */
import { open, readFile, rename, truncate } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { TicketClaim } from '../../ports/conversation-store.js';
import type { Log } from '../../ports/log.js';
import { timeOf } from './conversation-record-fields.js';
import { fsyncDirectory } from './durable-json-file.js';
import { asStoreError, StoreCorruptError } from './store-errors.js';

interface ClaimLine {
  ticketId: number;
  claim: TicketClaim;
}

export class ClaimsLog {
  private readonly claims = new Map<number, TicketClaim>();
  private pending: string[] = [];
  private waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private queue: Promise<void> = Promise.resolve();
  /** The running group-commit loop, if any. */
  private flushing: Promise<void> | null = null;

  private constructor(
    private readonly file: string,
    private readonly fsync: boolean,
  ) {}

  static async open(file: string, options: { fsync: boolean; log: Log }): Promise<ClaimsLog> {
    const log = new ClaimsLog(file, options.fsync);
    let whole: Buffer;
    try {
      whole = await readFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return log;
      throw asStoreError(`cannot read ${file}`, error);
    }
    let start = 0;
    while (start < whole.length) {
      const end = whole.indexOf(0x0a, start);
      if (end === -1) {
        options.log.warn({ file: basename(file), offset: start }, 'claims torn line cut off');
        await truncate(file, start);
        break;
      }
      try {
        const line = JSON.parse(whole.subarray(start, end).toString('utf8')) as ClaimLine;
        if (!log.claims.has(line.ticketId)) log.claims.set(line.ticketId, line.claim);
      } catch (error) {
        throw new StoreCorruptError(`${basename(file)} has an unreadable line at byte ${start}`, {
          cause: error,
        });
      }
      start = end + 1;
    }
    return log;
  }

  get size(): number {
    return this.claims.size;
  }

  /** True when this call made the claim (durable once the promise resolves); false when it existed. */
  async claim(ticketId: number, claim: TicketClaim): Promise<boolean> {
    if (this.claims.has(ticketId)) return false;
    this.claims.set(ticketId, structuredClone(claim));
    this.pending.push(`${JSON.stringify({ ticketId, claim } satisfies ClaimLine)}\n`);
    await new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.flushing ??= new Promise<void>((resolve) => setImmediate(() => resolve(this.flush())));
    });
    return true;
  }

  /** Forgets claims of tickets created before `createdBefore`; rewrites the file without them. */
  async prune(createdBefore: string): Promise<number> {
    const cutoff = timeOf(createdBefore);
    let pruned = 0;
    for (const [id, claim] of this.claims) {
      if (timeOf(claim.ticketCreatedAt) < cutoff) {
        this.claims.delete(id);
        pruned += 1;
      }
    }
    if (pruned > 0) await this.exclusive(() => this.rewrite());
    return pruned;
  }

  /** Resolves once every claim made so far is on disk. */
  async settled(): Promise<void> {
    await this.flushing;
    await this.exclusive(async () => undefined);
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const lines = this.pending;
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        await this.exclusive(() => this.append(lines.join('')));
        for (const w of waiters) w.resolve();
      } catch (error) {
        for (const w of waiters) w.reject(asStoreError('cannot record a ticket claim', error));
      }
    }
    this.flushing = null;
  }

  private async append(text: string): Promise<void> {
    const handle = await open(this.file, 'a');
    try {
      await handle.writeFile(text);
      if (this.fsync) await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  /** The file holds exactly the claims in memory (pending lines included: they are in the map already). */
  private async rewrite(): Promise<void> {
    const text = [...this.claims]
      .map(([ticketId, claim]) => `${JSON.stringify({ ticketId, claim } satisfies ClaimLine)}\n`)
      .join('');
    const temp = join(dirname(this.file), `.${basename(this.file)}.tmp`);
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(text);
      if (this.fsync) await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.file);
    if (this.fsync) await fsyncDirectory(dirname(this.file));
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
