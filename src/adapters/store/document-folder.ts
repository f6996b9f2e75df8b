/**
 * A folder of small JSON documents, each read and written whole by its caller: the lowdb store keeps one per
 * conversation, one per archived conversation, one per claim and one per small value. `createJsonFolder` keeps
 * each as a file through a lowdb adapter (`DocumentFile`); `createMemoryFolder` keeps them in a Map (the in-memory
 * store, and specs).
 *
 * A document's file is JSON Lines, each line an object of top-level fields; the document is its lines merged in
 * order (a later line's field replaces the earlier one's; a line's `"-"` lists fields it removes). A write appends
 * one line holding only the fields whose JSON changed since the last write, then fdatasyncs it: a delivered
 * comment appends the removal of its field, not the conversation's transcript, and an append costs one fdatasync,
 * no rename and no folder fsync. When the file would grow
 * past 64 KiB and 8 times the document, and for a new document (or the first write after opening), the write
 * replaces the file instead: the whole document as one line to a temporary file, fdatasync, rename over the file,
 * fsync the folder. A conversation holds at most a few dozen changes, so its file stays small.
 *
 * Crash safety: a kill -9 or power loss mid-append leaves a last line without its newline; it was never
 * acknowledged, reading leaves it out and the next write replaces the file. A replacement leaves the old file or
 * the new one, never a mix. A file without one whole line, or with a whole line that is not JSON, is damage.
 *
 * A failed write leaves the file as it was, so memory (which the store changes only after a write succeeded) stays
 * as on disk: a failed append is cut back to the length before it, and the next write replaces the file; a failed
 * replacement never renamed its temporary file. One window remains: a rename that succeeded followed by a folder
 * fsync that failed reports the write as failed although the file may hold the new document (as a lost commit
 * acknowledgement does in a database).
 */
import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { StoreCorruptError } from './store-errors.js';

export interface DocumentFolder {
  /** Names of the documents in the folder (without the file suffix). */
  names(): Promise<string[]>;
  /** The document, or null when there is none by that name. */
  read<T extends object>(name: string): Promise<T | null>;
  /** Replaces (or creates) the document; durable once the promise resolves. */
  write(name: string, data: object): Promise<void>;
  /** Deletes the document (nothing when there is none); durable once the promise resolves. */
  remove(name: string): Promise<void>;
  /** Moves the document to `target` (a folder of the same kind) under `newName`, atomically. */
  moveTo(name: string, target: DocumentFolder, newName: string): Promise<void>;
}

/** The file system calls a folder makes (specs inject one that fails, as a full or broken disk does). */
export type FolderFs = Pick<typeof nodeFs, 'mkdir' | 'open' | 'readdir' | 'readFile' | 'rename' | 'unlink'>;

export interface JsonFolderOptions {
  /** fdatasync files and fsync the folder on every write (default true). Off only for throwaway tests and benchmarks. */
  fsync?: boolean;
  fs?: FolderFs;
}

const SUFFIX = '.jsonl';
/** The field of a line that lists the fields it removes (a document's own fields never have this name). */
const REMOVED = '-';
const TEMP = /^\..*\.tmp$/;
/** A file is replaced by its document alone once appending would make it longer than both of these. */
const REPLACE_AFTER_BYTES = 64 * 1024;
const REPLACE_AFTER_DOCUMENTS = 8;

export async function createJsonFolder(
  dir: string,
  options: JsonFolderOptions = {},
): Promise<DocumentFolder> {
  const fs = options.fs ?? nodeFs;
  const fsync = options.fsync ?? true;
  await fs.mkdir(dir, { recursive: true });
  // A temporary file left by a kill mid-write was never renamed over its document: nothing refers to it.
  for (const file of await fs.readdir(dir)) if (TEMP.test(file)) await fs.unlink(join(dir, file));
  const path = (name: string) => join(dir, `${name}${SUFFIX}`);
  const syncFolder = fsync ? sharedFsync(() => fsyncDirectory(dir, fs)) : async () => undefined;
  /** The file of each document written since opening: it knows what its file holds, so it can append. */
  const written = new Map<string, DocumentFile<object>>();
  const folder = {
    dir,
    syncFolder,
    written,
    async names() {
      return (await fs.readdir(dir)).filter((f) => f.endsWith(SUFFIX)).map((f) => f.slice(0, -SUFFIX.length));
    },
    async read<T extends object>(name: string) {
      return new DocumentFile<T>(path(name), { fs, fsync, syncFolder }).read();
    },
    async write(name: string, data: object) {
      let file = written.get(name);
      if (!file) {
        file = new DocumentFile<object>(path(name), { fs, fsync, syncFolder });
        written.set(name, file);
      }
      await new Low<object>(file, data).write();
    },
    async remove(name: string) {
      written.delete(name);
      try {
        await fs.unlink(path(name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      await syncFolder();
    },
    async moveTo(name: string, target: DocumentFolder, newName: string) {
      const to = target as typeof folder;
      written.delete(name);
      await fs.rename(path(name), join(to.dir, `${newName}${SUFFIX}`));
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
    async read<T extends object>(name: string) {
      const text = documents.get(name);
      return text === undefined ? null : (JSON.parse(text) as T);
    },
    async write(name: string, data: object) {
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
      await target.write(newName, JSON.parse(text) as object);
      documents.delete(name);
    },
  };
  return folder;
}

/** Fields whose JSON is longer than this are remembered by their SHA-256 digest, not their JSON. */
const REMEMBERED_JSON_CHARS = 64;

/**
 * What a write remembers of a field's JSON to tell later whether it changed: short JSON itself, longer JSON (a
 * conversation's record, a comment) by its SHA-256 digest, so a live conversation's transcript is not held in memory
 * a second time as text. A digest starts with `#`, which no JSON text does.
 */
function fingerprintOf(json: string): string {
  if (json.length <= REMEMBERED_JSON_CHARS) return json;
  return `#${createHash('sha256').update(json).digest('base64')}`;
}

function fingerprintsOf(fields: Map<string, string>): Map<string, string> {
  return new Map([...fields].map(([key, json]) => [key, fingerprintOf(json)]));
}

/** A lowdb adapter for one document kept as lines of changed fields (see the top of this file). */
export class DocumentFile<T extends object> implements Adapter<T> {
  /**
   * Each field's fingerprint (`fingerprintOf`) as the file holds it; null until this adapter wrote the file (then
   * it replaces it).
   */
  private fields: Map<string, string> | null = null;
  /** Bytes of whole lines in the file. */
  private bytes = 0;

  constructor(
    readonly file: string,
    private readonly options: { fs: FolderFs; fsync: boolean; syncFolder: () => Promise<void> },
  ) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await this.options.fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return parseDocument<T>(text, this.file);
  }

  async write(data: T): Promise<void> {
    const next = new Map<string, string>();
    for (const [key, value] of Object.entries(data)) {
      const json = JSON.stringify(value) as string | undefined;
      if (json !== undefined) next.set(key, json);
    }
    const documentBytes = Buffer.byteLength(lineOf(next));
    const previous = this.fields;
    const fingerprints = fingerprintsOf(next);
    if (previous === null) return this.replace(next, documentBytes, fingerprints);
    const changed = new Map([...next].filter(([key]) => previous.get(key) !== fingerprints.get(key)));
    const removed = [...previous.keys()].filter((key) => !next.has(key));
    if (removed.length > 0) changed.set(REMOVED, JSON.stringify(removed));
    if (changed.size === 0) return;
    const line = lineOf(changed);
    const lineBytes = Buffer.byteLength(line);
    const limit = Math.max(REPLACE_AFTER_BYTES, REPLACE_AFTER_DOCUMENTS * documentBytes);
    if (this.bytes + lineBytes > limit) return this.replace(next, documentBytes, fingerprints);
    await this.append(line, lineBytes);
    this.fields = fingerprints;
  }

  /** Appends a line; on failure cuts the file back to its whole lines and makes the next write a replacement. */
  private async append(line: string, lineBytes: number): Promise<void> {
    const handle = await this.options.fs.open(this.file, 'a');
    try {
      await handle.write(line);
      if (this.options.fsync) await handle.datasync();
      this.bytes += lineBytes;
    } catch (error) {
      this.fields = null;
      try {
        await handle.truncate(this.bytes);
        if (this.options.fsync) await handle.datasync();
      } catch (cutError) {
        throw new AggregateError(
          [error, cutError],
          `${this.file}: append failed, and cutting it off failed`,
          { cause: cutError },
        );
      }
      throw error;
    } finally {
      await handle.close();
    }
  }

  /** Writes the whole document to a temporary file and renames it over the document's file. */
  private async replace(
    fields: Map<string, string>,
    documentBytes: number,
    fingerprints: Map<string, string>,
  ): Promise<void> {
    this.fields = null;
    const temp = join(dirname(this.file), `.${basename(this.file)}.tmp`);
    const handle = await this.options.fs.open(temp, 'w');
    try {
      await handle.writeFile(lineOf(fields));
      if (this.options.fsync) await handle.datasync();
    } catch (error) {
      await handle.close();
      try {
        await this.options.fs.unlink(temp);
      } catch (unlinkError) {
        throw new AggregateError(
          [error, unlinkError],
          `${this.file}: write failed, and removing ${temp} failed`,
          { cause: unlinkError },
        );
      }
      throw error;
    }
    await handle.close();
    await this.options.fs.rename(temp, this.file);
    await this.options.syncFolder();
    this.fields = fingerprints;
    this.bytes = documentBytes;
  }
}

/** One line of JSON holding `fields` (already JSON), with its newline. */
function lineOf(fields: Map<string, string>): string {
  return `{${[...fields].map(([key, json]) => `${JSON.stringify(key)}:${json}`).join(',')}}\n`;
}

/** The document a file's lines make (a last line without its newline was never acknowledged: left out). */
export function parseDocument<T>(text: string, file: string): T {
  const lines = text.split('\n');
  lines.pop(); // after the last newline: empty, or a line torn by a crash mid-append
  if (lines.length === 0) throw new StoreCorruptError(`${file} holds no whole line`);
  const document: Record<string, unknown> = {};
  for (const [index, line] of lines.entries()) {
    let fields: unknown;
    try {
      fields = JSON.parse(line);
    } catch (error) {
      throw new StoreCorruptError(`${file} line ${index + 1} is not JSON`, { cause: error });
    }
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw new StoreCorruptError(`${file} line ${index + 1} is not an object of fields`);
    }
    const { [REMOVED]: removed, ...set } = fields as Record<string, unknown>;
    if (Array.isArray(removed)) for (const key of removed) delete document[String(key)];
    Object.assign(document, set);
  }
  return document as T;
}

/**
 * fsync of a folder, shared by the writes that wait for it: a call made while one is running gets the next one
 * (a rename done before a folder fsync starts is durable when it ends), so concurrent writes share one.
 */
function sharedFsync(sync: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  const run = (): Promise<void> => {
    const started = sync().finally(() => {
      if (running === started) running = null;
    });
    running = started;
    return started;
  };
  return () => {
    if (!running) return run();
    next ??= running
      .catch(() => undefined) // its own callers got its error; this call waits for the next fsync
      .then(() => {
        next = null;
        return run();
      });
    return next;
  };
}

/** Makes a rename or a new file in `dir` durable. */
export async function fsyncDirectory(dir: string, fs: Pick<FolderFs, 'open'> = nodeFs): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
