/**
 * A lowdb adapter that writes the document atomically and durably: compact JSON to a temporary file beside it,
 * fdatasync, rename over the document, fsync the directory. A kill -9 (or power loss) at any instant leaves
 * either the old document or the new one, never a torn file.
 *
 * lowdb's own JSONFile (steno) also writes through a temporary file and a rename, but does not fsync and
 * pretty-prints; this adapter keeps lowdb's Adapter shape and adds what durability needs. `serialize` lets the
 * owner of the data produce the JSON text faster than JSON.stringify (the lowdb store reuses cached parts).
 */
import { open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';
import { StoreCorruptError, StoreError } from './store-errors.js';

export class DurableJsonFile<T> implements Adapter<T> {
  private readonly tempFile: string;

  constructor(
    readonly file: string,
    private readonly options: { fsync: boolean; serialize?: (data: T) => string } = { fsync: true },
  ) {
    this.tempFile = join(dirname(file), `.${basename(file)}.tmp`);
  }

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StoreError(`cannot read ${this.file}`, { cause: error });
    }
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new StoreCorruptError(`${this.file} is not valid JSON`, { cause: error });
    }
  }

  /** Serialises synchronously (the caller may change the data right after calling), then writes. */
  async write(data: T): Promise<void> {
    await this.writeText(this.options.serialize ? this.options.serialize(data) : JSON.stringify(data));
  }

  /** Bytes of the last document written (for the write-cost benchmark). */
  lastWriteBytes = 0;

  async writeText(text: string): Promise<void> {
    try {
      const handle = await open(this.tempFile, 'w');
      try {
        const bytes = Buffer.from(text, 'utf8');
        await handle.writeFile(bytes);
        this.lastWriteBytes = bytes.length;
        if (this.options.fsync) await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(this.tempFile, this.file);
      if (this.options.fsync) await fsyncDirectory(dirname(this.file));
    } catch (error) {
      throw new StoreError(`cannot write ${this.file}`, { cause: error });
    }
  }
}

/** Makes a rename or a new file in `dir` durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
