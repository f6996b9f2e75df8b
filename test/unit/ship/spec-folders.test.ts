/**
 * Specs are filed by what they start, and none synchronises with a sleep. What the folders accept:
 *
 * - test/e2e: starts the app. It imports one of APP_STARTERS by name (createTicketZero from src/app.ts, or the e2e
 *   helpers that start it: startTicketZero, spawnBot, startLocalRun), or names one of ENTRY_POINTS (src/main.ts,
 *   the local run, the demo) as a string, to spawn it. Every app start listens on HTTP and the specs talk to it there.
 * - test/sandboxes: starts a sandbox (imports from src/sandboxes/ or names a src/sandboxes/…/main.ts to spawn) and
 *   nothing else of TicketZero: besides src/sandboxes/ it imports from src/ only SANDBOX_CLIENTS, the pieces
 *   TicketZero talks to an outside system with (its HTTP clients, the Bot Framework side of a bot, the prompt the
 *   model sandbox reads). Type-only imports do not count.
 * - test/in-process: starts no app, and runs some part of TicketZero in the test's process (a value import from
 *   src/ outside src/sandboxes/ and src/ports/).
 * - test/unit, test/contract: start no app.
 *
 * Waiting: no .ts file under test/ but test/support/waiting.ts imports timers/promises, builds a promise around a
 * timer (`new Promise(…setTimeout…)`), or calls a function named sleep, delay, wait or pause. A test waits for a
 * condition (eventually, until, vi.waitFor, an event, a promise the code exposes), or lets time pass on purpose
 * through waiting.ts's expectNothingWithin / runFor. A timer that schedules work (a fake server answering late) is
 * not a wait and is allowed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { SPEC_FOLDERS } from '../../../vitest.config.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const TEST = join(ROOT, 'test');
const WAITING = 'test/support/waiting.ts';
/** This file names the entry points as strings to find them elsewhere; it starts nothing. */
const SELF = 'test/unit/ship/spec-folders.test.ts';

const APP_STARTERS: Record<string, string[]> = {
  'src/app.ts': ['createTicketZero'],
  'test/e2e/support/running-ticketzero.ts': ['startTicketZero'],
  'test/e2e/support/bot-process.ts': ['spawnBot'],
  'test/e2e/support/local-run-process.ts': ['startLocalRun'],
};
const ENTRY_POINTS = ['src/main.ts', 'src/cli/local-run.ts', 'src/cli/demo.ts'];
const SANDBOX_CLIENTS = [
  'src/adapters/ai/',
  'src/adapters/atera/',
  'src/adapters/graph/',
  'src/engine/prompt/',
  'src/http/bot-authentication.ts',
  'src/http/server.ts',
  'src/ports/',
];
const SLEEPY_NAMES = new Set(['sleep', 'delay', 'wait', 'pause']);
const TIMERS = new Set(['setTimeout', 'setInterval', 'setImmediate']);

interface ValueImport {
  /** Repository-relative path of the module, `.ts` for a local one; the bare specifier for a package. */
  module: string;
  /** Names imported by value (`*` for a namespace or default import). */
  names: string[];
}

export interface SpecFacts {
  imports: ValueImport[];
  /** Every string literal in the file. */
  strings: string[];
  /** What makes the file wait on a timer, one line each. */
  sleeps: string[];
}

/** Reads what the rules need from a file's source; `file` is repository-relative. */
export function factsOf(file: string, source: string): SpecFacts {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const facts: SpecFacts = { imports: [], strings: [], sleeps: [] };
  const line = (node: ts.Node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const resolveModule = (specifier: string) =>
    specifier.startsWith('.')
      ? relative(ROOT, resolve(ROOT, dirname(file), specifier))
          .split(sep)
          .join('/')
          .replace(/\.js$/, '.ts')
      : specifier;

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const specifier = node.moduleSpecifier.text;
      if (/^(node:)?timers\/promises$/.test(specifier))
        facts.sleeps.push(`line ${line(node)}: imports ${specifier}`);
      const clause = node.importClause;
      if (!clause?.isTypeOnly) {
        const names: string[] = [];
        if (clause?.name) names.push('*');
        const bindings = clause?.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings)) names.push('*');
        if (bindings && ts.isNamedImports(bindings)) {
          for (const element of bindings.elements) {
            if (!element.isTypeOnly) names.push((element.propertyName ?? element.name).text);
          }
        }
        // A bare `import './x.js'` runs the module: a value import of nothing in particular.
        if (!clause || names.length > 0) facts.imports.push({ module: resolveModule(specifier), names });
      }
      return;
    }
    if (ts.isStringLiteralLike(node)) facts.strings.push(node.text);
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Promise') {
      const timer = findTimerCall(node);
      if (timer) facts.sleeps.push(`line ${line(node)}: a promise around ${timer}`);
    }
    if (
      ts.isCallExpression(node) &&
      ts.isIdentifier(node.expression) &&
      SLEEPY_NAMES.has(node.expression.text)
    ) {
      facts.sleeps.push(`line ${line(node)}: calls ${node.expression.text}()`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return facts;
}

function findTimerCall(node: ts.NewExpression): string | undefined {
  let found: string | undefined;
  const visit = (n: ts.Node): void => {
    if (found) return;
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && TIMERS.has(n.expression.text)) {
      found = n.expression.text;
      return;
    }
    // `new Promise(setImmediate)`, `new Promise((r) => setTimeout(r))` alike.
    if (ts.isIdentifier(n) && TIMERS.has(n.text)) {
      found = n.text;
      return;
    }
    ts.forEachChild(n, visit);
  };
  node.arguments?.forEach(visit);
  return found;
}

const startsApp = (facts: SpecFacts) =>
  facts.imports.some((i) => i.names.some((name) => APP_STARTERS[i.module]?.includes(name))) ||
  facts.strings.some((s) => ENTRY_POINTS.includes(s));
const fromSrc = (facts: SpecFacts) => facts.imports.filter((i) => i.module.startsWith('src/'));

/** Why `file` (repository-relative, under test/) is misfiled or waits on a timer; empty when it is fine. */
export function problemsOf(file: string, facts: SpecFacts): string[] {
  const problems: string[] = [];
  if (file !== WAITING) problems.push(...facts.sleeps.map((s) => `${s} (wait for a condition instead)`));
  if (!file.endsWith('.test.ts') || file === SELF) return problems;
  const folder = file.split('/')[1] ?? '';
  if (!(SPEC_FOLDERS as readonly string[]).includes(folder)) {
    return [
      ...problems,
      `is in test/${folder}, not one of ${SPEC_FOLDERS.map((f) => `test/${f}`).join(', ')}`,
    ];
  }
  const app = startsApp(facts);
  if (folder === 'e2e' && !app) {
    problems.push('does not start the app (an e2e spec starts it and talks to it over HTTP)');
  }
  if (folder !== 'e2e' && app) problems.push('starts the app: it belongs in test/e2e');
  if (folder === 'sandboxes') {
    const sandbox =
      fromSrc(facts).some((i) => i.module.startsWith('src/sandboxes/')) ||
      facts.strings.some((s) => /^src\/sandboxes\/.+\/main\.ts$/.test(s));
    if (!sandbox) problems.push('starts no sandbox');
    for (const i of fromSrc(facts)) {
      if (i.module.startsWith('src/sandboxes/')) continue;
      if (!SANDBOX_CLIENTS.some((client) => i.module === client || i.module.startsWith(client))) {
        problems.push(`imports ${i.module}, more of TicketZero than a client of the sandbox`);
      }
    }
  }
  if (folder === 'in-process') {
    const part = fromSrc(facts).some(
      (i) => !i.module.startsWith('src/sandboxes/') && !i.module.startsWith('src/ports/'),
    );
    if (!part)
      problems.push('runs no part of TicketZero in process (a sandbox self-test belongs in test/sandboxes)');
  }
  return problems;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : filesUnder(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the spec folders', () => {
  it('name starters and entry points that exist', () => {
    for (const path of [...Object.keys(APP_STARTERS), ...ENTRY_POINTS, WAITING]) {
      expect(existsSync(join(ROOT, path)), path).toBe(true);
    }
  });

  it('file every spec by what it starts, and no file under test/ waits on a bare timer', () => {
    const problems = filesUnder(TEST).flatMap((path) => {
      const file = relative(ROOT, path).split(sep).join('/');
      return problemsOf(file, factsOf(file, readFileSync(path, 'utf8'))).map((p) => `${file}: ${p}`);
    });
    expect(problems).toEqual([]);
  });

  it('has e2e specs, sandbox self-tests and in-process specs to check', () => {
    for (const folder of ['e2e', 'sandboxes', 'in-process']) {
      expect(
        readdirSync(join(TEST, folder)).filter((f) => f.endsWith('.test.ts')).length,
        folder,
      ).toBeGreaterThan(0);
    }
  });
});

describe('the rules, on sources that break them', () => {
  const check = (file: string, source: string) => problemsOf(file, factsOf(file, source));

  it('refuses an e2e spec that only starts a sandbox, and accepts one that starts the app or spawns it', () => {
    expect(
      check(
        'test/e2e/x.test.ts',
        "import { startModelSandbox } from '../../src/sandboxes/model/model-sandbox.js';",
      ),
    ).toEqual(['does not start the app (an e2e spec starts it and talks to it over HTTP)']);
    expect(
      check('test/e2e/x.test.ts', "import { startTicketZero } from './support/running-ticketzero.js';"),
    ).toEqual([]);
    expect(check('test/e2e/x.test.ts', "run('npx', ['tsx', 'src/cli/demo.ts']);")).toEqual([]);
    // Importing something else from a starter's module is not starting the app.
    expect(check('test/e2e/x.test.ts', "import { freePort } from './support/bot-process.js';")).toHaveLength(
      1,
    );
    expect(
      check(
        'test/e2e/x.test.ts',
        "import type { TicketZero } from '../../src/app.js';\nimport { createTicketZero as c } from '../../src/app.js';",
      ),
    ).toEqual([]);
  });

  it('refuses the app outside test/e2e, and the engine in a sandbox self-test', () => {
    expect(
      check('test/in-process/x.test.ts', "import { createTicketZero } from '../../src/app.js';"),
    ).toContain('starts the app: it belongs in test/e2e');
    expect(
      check(
        'test/sandboxes/x.test.ts',
        "import { startAteraSandbox } from '../../src/sandboxes/atera/atera-sandbox.js';\nimport { createConversationEngine } from '../../src/engine/conversation-engine.js';",
      ),
    ).toEqual(['imports src/engine/conversation-engine.ts, more of TicketZero than a client of the sandbox']);
    expect(
      check(
        'test/in-process/x.test.ts',
        "import { startGraphSandbox } from '../../src/sandboxes/graph/graph-sandbox.js';",
      ),
    ).toHaveLength(1);
    expect(check('test/elsewhere/x.test.ts', '')).toHaveLength(1);
  });

  it('refuses every shape of sleep, and accepts polling, fake timers and a timer that schedules work', () => {
    const sleeps = [
      'await new Promise((r) => setTimeout(r, 100));',
      "import { setTimeout as sleep } from 'node:timers/promises';",
      'await sleep(100);',
      'await delay(5);',
      'await new Promise(setImmediate);',
    ];
    for (const source of sleeps) expect(check('test/unit/x.ts', source), source).toHaveLength(1);
    const fine = [
      'await eventually(() => expect(x).toBe(1));',
      'await vi.waitFor(() => expect(x).toBe(1));',
      'vi.useFakeTimers(); vi.advanceTimersByTime(1000);',
      'const timer = setTimeout(answer, 300);',
      'await expectNothingWithin(300, () => expect(sent).toHaveLength(1));',
    ];
    for (const source of fine) expect(check('test/unit/x.ts', source), source).toEqual([]);
    expect(check(WAITING, 'await new Promise((r) => setTimeout(r, 1));')).toEqual([]);
  });
});
