import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One Dockerfile instruction, continuation lines joined, with the build stage it belongs to. */
export interface Instruction {
  op: string;
  args: string;
  stage: string;
  line: number;
}

/** Parses a Dockerfile into instructions (enough for structural checks: no heredocs, no parser directives). */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = '';
  let buffer = '';
  let start = 0;
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.trimEnd();
    if (buffer === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (buffer !== '' && line.trimStart().startsWith('#')) return;
    if (buffer === '') start = index + 1;
    if (line.endsWith('\\')) {
      buffer += `${line.slice(0, -1).trim()} `;
      return;
    }
    const full = (buffer + line.trim()).trim();
    buffer = '';
    const match = /^(\S+)\s*(.*)$/s.exec(full);
    if (!match) return;
    const op = (match[1] as string).toUpperCase();
    const args = (match[2] as string).trim();
    if (op === 'FROM') {
      const as = /\sAS\s+(\S+)\s*$/i.exec(args);
      stage = as ? (as[1] as string) : `stage${out.filter((i) => i.op === 'FROM').length}`;
    }
    out.push({ op, args, stage, line: start });
  });
  return out;
}

export async function readDockerfile(root: string): Promise<Instruction[]> {
  return parseDockerfile(await readFile(join(root, 'Dockerfile'), 'utf8'));
}

/** A RUN instruction's shell command, without BuildKit flags such as `--mount=…`. */
export function runCommand(instruction: Instruction): string {
  return instruction.args.replace(/^(--\S+\s+)+/, '');
}

/** The runtime stage's production install: the RUN whose command starts with `npm ci` and omits dev dependencies. */
export function productionInstall(instructions: Instruction[]): Instruction {
  const stages = instructions.filter((i) => i.op === 'FROM').map((i) => i.stage);
  const runtime = stages[stages.length - 1];
  const found = instructions.find(
    (i) => i.stage === runtime && i.op === 'RUN' && /^npm ci\b.*--omit=dev/.test(runCommand(i)),
  );
  if (!found) throw new Error('the Dockerfile runtime stage has no `RUN npm ci --omit=dev …`');
  return found;
}
