/**
 * Reads every `*.json` file in the corpus folder, validates it against the ticket schema and returns the tickets in a
 * stable order (file name, then position). Any problem stops the load with every problem listed by file and path.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TicketZeroError } from '../../src/errors.js';
import { corpusFileSchema, type EvalTicket } from './eval-ticket.js';

export const DEFAULT_CORPUS_DIR = fileURLToPath(new URL('../tickets/', import.meta.url));

export class CorpusError extends TicketZeroError {
  readonly code = 'eval_corpus_invalid';

  constructor(readonly problems: readonly string[]) {
    super(`The evaluation corpus has ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
  }
}

export async function loadCorpus(dir: string = DEFAULT_CORPUS_DIR): Promise<EvalTicket[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new CorpusError([`${dir}: no *.json corpus files`]);

  const problems: string[] = [];
  const tickets: EvalTicket[] = [];
  for (const file of files) {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(join(dir, file), 'utf8'));
    } catch (error) {
      problems.push(`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
      continue;
    }
    const parsed = corpusFileSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const where = describePath(raw, issue.path);
        problems.push(`${file}: ${where}: ${issue.message}`);
      }
      continue;
    }
    tickets.push(...parsed.data);
  }

  const seen = new Set<string>();
  for (const t of tickets) {
    if (seen.has(t.id)) problems.push(`ticket id "${t.id}" is used more than once`);
    seen.add(t.id);
  }
  if (problems.length > 0) throw new CorpusError(problems);
  return tickets;
}

/** "[3] (printer-02).fixSteps.0.example": the index plus the ticket's id when it has one, so errors are findable. */
function describePath(raw: unknown, path: (string | number)[]): string {
  const [index, ...rest] = path;
  if (typeof index !== 'number') return path.join('.') || '(file)';
  const item = Array.isArray(raw) ? (raw[index] as { id?: unknown } | undefined) : undefined;
  const id = item && typeof item.id === 'string' ? ` (${item.id})` : '';
  return `[${index}]${id}${rest.length > 0 ? '.' + rest.join('.') : ''}`;
}
