import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SECRET_SETTINGS } from '../../../src/config/load-config.js';
import { ROOT } from '../../../scripts/package-app.js';
import { type Instruction, productionInstall, readDockerfile, runCommand } from './parse-dockerfile.js';

let instructions: Instruction[];
let stages: string[];
const inStage = (stage: string, op: string) => instructions.filter((i) => i.stage === stage && i.op === op);

beforeAll(async () => {
  instructions = await readDockerfile(ROOT);
  stages = instructions.filter((i) => i.op === 'FROM').map((i) => i.stage);
});

describe('the Dockerfile', () => {
  it('builds in one stage and runs from another, both on Node 20', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const args = new Map(
      instructions.filter((i) => i.op === 'ARG').map((i) => i.args.split('=') as [string, string]),
    );
    for (const from of instructions.filter((i) => i.op === 'FROM')) {
      const image = from.args.split(/\s+/)[0]!.replace(/\$\{(\w+)\}/g, (_m, n: string) => args.get(n) ?? '');
      expect(image).toMatch(/^node:20\b/);
    }
  });

  it('compiles with tsconfig.build.json in the build stage, into the dist/ the runtime stage copies', async () => {
    const build = stages[0]!;
    expect(inStage(build, 'RUN').map(runCommand)).toContain('npm run build');
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.build).toMatch(/tsc -p tsconfig\.build\.json/);
    const tsconfig = JSON.parse(await readFile(join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
      compilerOptions: { outDir: string; rootDir: string };
    };
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: 'src' });
    const runtime = stages[stages.length - 1]!;
    expect(inStage(runtime, 'COPY').map((i) => i.args)).toContain(`--from=${build} /app/dist ./dist`);
  });

  it('installs only production dependencies in the runtime stage, from package.json and the lockfile', () => {
    const runtime = stages[stages.length - 1]!;
    const install = productionInstall(instructions);
    expect(runCommand(install)).toMatch(/^npm ci --omit=dev\b/);
    const copies = inStage(runtime, 'COPY').map((i) => i.args);
    expect(copies).toContain('package.json package-lock.json ./');
    const copyLine = instructions.find(
      (i) => i.stage === runtime && i.args === 'package.json package-lock.json ./',
    );
    expect(copyLine!.line).toBeLessThan(install.line);
  });

  it('runs as a non-root user and starts node dist/main.js', () => {
    const runtime = stages[stages.length - 1]!;
    const users = inStage(runtime, 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]!.args).not.toMatch(/^(root|0)(:|$)/);
    const cmd = inStage(runtime, 'CMD');
    expect(cmd.map((i) => JSON.parse(i.args) as string[])).toEqual([['node', 'dist/main.js']]);
    expect(users[users.length - 1]!.line).toBeLessThan(cmd[0]!.line);
  });

  it('checks its health on GET /healthz at PORT, 3978 by default', () => {
    const runtime = stages[stages.length - 1]!;
    const [health, ...more] = inStage(runtime, 'HEALTHCHECK');
    expect(more).toEqual([]);
    expect(health!.args).toMatch(/\/healthz/);
    expect(health!.args).toMatch(/process\.env\.PORT \|\| 3978/);
    expect(
      inStage(runtime, 'ENV')
        .map((i) => i.args)
        .join(' '),
    ).toMatch(/PORT=3978/);
    expect(inStage(runtime, 'EXPOSE').map((i) => i.args)).toContain('3978');
  });

  it('bakes no secret into a layer: no secret setting as ARG or ENV, no .env copied, no whole-context COPY', () => {
    const declared = instructions
      .filter((i) => i.op === 'ARG' || i.op === 'ENV')
      .flatMap((i) => [...i.args.matchAll(/([A-Z_][A-Z0-9_]*)=/g)].map((m) => m[1]));
    expect(SECRET_SETTINGS.length).toBeGreaterThan(5);
    for (const name of SECRET_SETTINGS) expect(declared).not.toContain(name);
    for (const copy of instructions.filter((i) => i.op === 'COPY' || i.op === 'ADD')) {
      expect(copy.args).not.toMatch(/(^|\s)\.env|(^|\s)env\//);
      expect(copy.args).not.toMatch(/^\.\s/);
    }
  });
});

describe('the .dockerignore', () => {
  it('keeps local settings, secrets, dependencies and git history out of the build context', async () => {
    const ignored = (await readFile(join(ROOT, '.dockerignore'), 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(
      expect.arrayContaining(['.env', '.env.*', 'env', '**/node_modules', '.git', 'data']),
    );
    for (const needed of [
      'src',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
    ]) {
      expect(ignored).not.toContain(needed);
    }
  });
});
