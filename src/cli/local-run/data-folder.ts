/**
 * The local run's data folder holds TicketZero's store and the Atera sandbox's account together, so they always
 * agree: both start fresh on every run (default), or both are kept (`--keep`). A folder the local run did not make is
 * never emptied.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Written into every folder the local run makes; its presence is what allows emptying the folder. */
export const LOCAL_RUN_MARK = '.ticketzero-local-run';
/** Files every local run since the first one wrote; a folder holding one was made by a local run. */
const EARLIER_LOCAL_RUN_FILES = ['graph-sandbox-ca.pem', LOCAL_RUN_MARK];

export type DataFolderState = 'new' | 'fresh' | 'kept';

/** Thrown when the folder holds data the local run did not write, which it will not delete. */
export class NotALocalRunFolderError extends Error {
  constructor(readonly dir: string) {
    super(
      `${dir} holds files the local run did not write, so it will not empty it; start with another folder (--data-dir) or keep what it holds (--keep)`,
    );
  }
}

/** Makes the folder ready: `new` (made now), `fresh` (an earlier run's data removed) or `kept` (--keep). */
export function prepareDataFolder(dir: string, options: { keep: boolean }): DataFolderState {
  const entries = existsSync(dir) ? readdirSync(dir) : [];
  let state: DataFolderState;
  if (entries.length === 0) state = 'new';
  else if (options.keep) state = 'kept';
  else {
    if (!entries.some((e) => EARLIER_LOCAL_RUN_FILES.includes(e))) throw new NotALocalRunFolderError(dir);
    for (const entry of entries) rmSync(join(dir, entry), { recursive: true, force: true });
    state = 'fresh';
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, LOCAL_RUN_MARK),
    'Made by `npm start`: emptied at every start unless --keep is given.\n',
  );
  return state;
}
