/**
 * A folder of small JSON documents, each read and written whole: the lowdb store keeps one per conversation, one
 * per archived conversation, one per claim and one per small value. `createJsonFolder` keeps them as files through
 * lowdb; `createMemoryFolder` keeps them in a Map (the in-memory store, and specs that make a write fail).
 *
 * A file is written atomically and durably: JSON to a temporary file beside it, fdatasync, rename over the
 * document, fsync the folder. A kill -9 (or power loss) at any instant leaves the old document or the new one,
 * never a torn file. lowdb's own JSONFile also writes through a temporary file and a rename, but does not fsync;
 * `DurableJsonFile` keeps lowdb's Adapter shape and adds what durability needs.
 */
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { StoreCorruptError } from './store-errors.js';

export interface DocumentFolder {
  /** Names of the documents in the folder (without `.json`). */
  names(): Promise<string[]>;
  /** The document, or null when there is none by that name. */
  read<T>(name: string): Promise<T | null>;
  /** Replaces (or creates) the document; durable once the promise resolves. */
  write(name: string, data: unknown): Promise<void>;
  /** Deletes the document (nothing when there is none); durable once the promise resolves. */
  remove(name: string): Promise<void>;
  /** Moves the document to `target` (a folder of the same kind) under `newName`, atomically. */
  moveTo(name: string, target: DocumentFolder, newName: string): Promise<void>;
}

const SUFFIX = '.json';
const TEMP = /^\..*\.tmp$/;

export async function createJsonFolder(dir: string, options: { fsync: boolean }): Promise<DocumentFolder> {
  await mkdir(dir, { recursive: true });
  // A temporary file left by a kill mid-write was never renamed over its document: nothing refers to it.
  for (const file of await readdir(dir)) if (TEMP.test(file)) await unlink(join(dir, file));
  const path = (name: string) => join(dir, `${name}${SUFFIX}`);
  const syncFolder = options.fsync ? sharedFsync(dir) : async () => undefined;
  const fileOptions = { syncFolder, fsync: options.fsync };
  const folder = {
    syncFolder,
    dir,
    async names() {
      return (await readdir(dir)).filter((f) => f.endsWith(SUFFIX)).map((f) => f.slice(0, -SUFFIX.length));
    },
    async read<T>(name: string) {
      const db = new Low<T | null>(new DurableJsonFile<T | null>(path(name), fileOptions), null);
      await db.read();
      return db.data;
    },
    async write(name: string, data: unknown) {
      await new Low<unknown>(new DurableJsonFile<unknown>(path(name), fileOptions), data).write();
    },
    async remove(name: string) {
      try {
        await unlink(path(name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      await syncFolder();
    },
    async moveTo(name: string, target: DocumentFolder, newName: string) {
      const to = target as typeof folder;
      await rename(path(name), join(to.dir, `${newName}${SUFFIX}`));
      await Promise.all([to.syncFolder(), syncFolder()]);
    },
  };
  return folder;
}

/** Documents in a Map: nothing survives the process. `fail` makes the next writes throw (for specs). */
export function createMemoryFolder(): DocumentFolder & { fail: Error | null } {
  const documents = new Map<string, string>();
  const folder = {
    fail: null as Error | null,
    async names() {
      return [...documents.keys()];
    },
    async read<T>(name: string) {
      const text = documents.get(name);
      return text === undefined ? null : (JSON.parse(text) as T);
    },
    async write(name: string, data: unknown) {
      if (folder.fail) throw folder.fail;
      documents.set(name, JSON.stringify(data));
    },
    async remove(name: string) {
      if (folder.fail) throw folder.fail;
      documents.delete(name);
    },
    async moveTo(name: string, target: DocumentFolder, newName: string) {
      if (folder.fail) throw folder.fail;
      const text = documents.get(name);
      if (text === undefined) throw new Error(`no document ${name}`);
      await target.write(newName, JSON.parse(text));
      documents.delete(name);
    },
  };
  return folder;
}

/** A lowdb adapter that writes compact JSON atomically and durably (see the top of this file). */
export class DurableJsonFile<T> implements Adapter<T> {
  constructor(
    readonly file: string,
    private readonly options: { fsync: boolean; syncFolder: () => Promise<void> },
  ) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new StoreCorruptError(`${this.file} is not valid JSON`, { cause: error });
    }
  }

  async write(data: T): Promise<void> {
    const temp = join(dirname(this.file), `.${basename(this.file)}.tmp`);
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(JSON.stringify(data));
      if (this.options.fsync) await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.file);
    await this.options.syncFolder();
  }
}

/**
 * fsync of a folder, shared by the writes that wait for it: a call made while one is running gets the next one
 * (a rename done before a folder fsync starts is durable when it ends), so concurrent writes share one.
 */
function sharedFsync(dir: string): () => Promise<void> {
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  const run = (): Promise<void> => {
    const sync = fsyncDirectory(dir).finally(() => {
      if (running === sync) running = null;
    });
    running = sync;
    return sync;
  };
  return () => {
    if (!running) return run();
    next ??= running
      .catch(() => undefined)
      .then(() => {
        next = null;
        return run();
      });
    return next;
  };
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
