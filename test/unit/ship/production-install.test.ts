import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemsInBuild } from '../../../scripts/check-build.js';
import { ROOT } from '../../../scripts/package-app.js';
import { startAteraSandbox } from '../../../src/sandboxes/atera/atera-sandbox.js';
import { productionInstall, readDockerfile, runCommand } from './parse-dockerfile.js';
import { spawnGroup, stopGroup } from '../../support/process-group.js';
import { until } from '../../support/waiting.js';

const run = promisify(execFile);

interface PackageJson {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts?: Record<string, string>;
}

const readJson = async <T>(path: string) => JSON.parse(await readFile(path, 'utf8')) as T;

/**
 * Runs the Dockerfile's runtime-stage install command, exactly as written there, in a scratch directory holding only
 * package.json and package-lock.json (what that stage copies), under this machine's npm config (which says yes=false,
 * the setting that makes a plain `npm ci --omit=dev` fail on botbuilder-dialogs' postinstall). The npm cache is used
 * offline-first, so the run takes seconds, not a download. Only its final `npm cache clean --force` is left out.
 */
let dir: string;
let install: { ok: boolean; output: string };
let build: { ok: boolean; output: string };
let pkg: PackageJson;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tz-production-install-'));
  for (const file of ['package.json', 'package-lock.json']) await copyFile(join(ROOT, file), join(dir, file));
  pkg = await readJson<PackageJson>(join(ROOT, 'package.json'));
  const command = runCommand(productionInstall(await readDockerfile(ROOT)));
  // The last step only keeps npm's download cache out of the image layer; here it would empty this machine's cache.
  const cacheClean = ' && npm cache clean --force';
  expect(command.endsWith(cacheClean), command).toBe(true);
  const withoutCacheClean = command.slice(0, -cacheClean.length);
  try {
    const { stdout, stderr } = await run('sh', ['-c', withoutCacheClean], {
      cwd: dir,
      env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
      maxBuffer: 16 * 1024 * 1024,
    });
    install = { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    install = { ok: false, output: `${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
  // What the build stage does (`npm run build`: tsc -p tsconfig.build.json), into the scratch directory's dist/.
  try {
    await run(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        join(dir, 'dist'),
      ],
      {
        cwd: ROOT,
      },
    );
    build = { ok: true, output: '' };
  } catch (error) {
    const e = error as { stdout?: string; message: string };
    build = { ok: false, output: `${e.message}\n${e.stdout ?? ''}` };
  }
}, 240_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the production install (Dockerfile runtime stage)', () => {
  it('succeeds from package.json and package-lock.json alone', () => {
    expect(install.output, install.output).toBeDefined();
    expect(install.ok, install.output).toBe(true);
  });

  it('leaves the dev dependencies out', () => {
    for (const dev of ['rimraf', 'vitest', 'typescript', 'tsx']) {
      expect(pkg.devDependencies[dev], dev).toBeDefined();
      expect(existsSync(join(dir, 'node_modules', dev)), dev).toBe(false);
    }
  });

  it('loads every production dependency', async () => {
    const probe = join(dir, 'load-dependencies.mjs');
    await writeFile(
      probe,
      [
        `const names = ${JSON.stringify(Object.keys(pkg.dependencies))};`,
        'const failed = [];',
        'for (const name of names) { try { await import(name); } catch (e) { failed.push(`${name}: ${e.message}`); } }',
        'process.stdout.write(JSON.stringify(failed));',
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, ['--no-deprecation', probe], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual([]);
  });

  it('does by hand exactly what the skipped botbuilder-dialogs postinstall does', async () => {
    const dialogs = join(dir, 'node_modules', 'botbuilder-dialogs');
    const { scripts = {} } = await readJson<PackageJson>(join(dialogs, 'package.json'));
    const steps = (scripts.postinstall ?? '').split('&&').map((s) => s.trim());
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps) {
      const script = /^npm run (\S+)$/.exec(step)?.[1];
      expect(script, `unexpected postinstall step "${step}"`).toBeDefined();
      const target = /^npx rimraf (\S+)$/.exec(scripts[script!] ?? '')?.[1];
      expect(
        target,
        `botbuilder-dialogs' "${script}" is no longer a plain rimraf: review the Dockerfile`,
      ).toBeDefined();
      expect(existsSync(resolve(dialogs, target!)), relative(dir, resolve(dialogs, target!))).toBe(false);
    }
    expect(existsSync(join(dir, 'node_modules', '@microsoft', 'recognizers-text-number'))).toBe(true);
  });

  it('skips no install script other than the two it accounts for', async () => {
    const lock = await readJson<{ packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }> }>(
      join(ROOT, 'package-lock.json'),
    );
    const withScripts = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.hasInstallScript && !p.dev)
      .map(([path]) => path.replace(/^.*node_modules\//, ''));
    expect(withScripts.sort()).toEqual(['botbuilder-dialogs', 'dtrace-provider']);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

describe('the production start command (node dist/main.js) on the production install', () => {
  it('answers GET /healthz and stops cleanly on SIGTERM', async () => {
    expect(build.ok, build.output).toBe(true);
    const atera = await startAteraSandbox({
      port: 0,
      host: '127.0.0.1',
      apiKey: 'production-check-key',
      seed: false,
    });
    const port = await freePort();
    // Only what the container would be given: no dev tooling, no .env (dotenv finds none in the scratch directory);
    // spawnGroup adds only the test run's marker.
    const child = spawnGroup(process.execPath, ['dist/main.js'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: join(dir, 'data'),
        LOG_LEVEL: 'warn',
        ATERA_BASE_URL: atera.baseUrl,
        ATERA_API_KEY: 'production-check-key',
        ATERA_TECHNICIAN_EMAIL: 'ticketzero@contoso-msp.example',
        AI_PROVIDER_ORDER: 'local',
        LOCAL_AI_BASE_URL: 'http://127.0.0.1:9/v1',
        GRAPH_TENANT_ID: '00000000-0000-4000-8000-000000000001',
        GRAPH_CLIENT_ID: '00000000-0000-4000-8000-000000000002',
        GRAPH_CLIENT_SECRET: 'not-used-no-ticket-reaches-graph',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = once(child, 'exit');
    try {
      const status = await until(
        '/healthz or the exit',
        async () => {
          const answer = await fetch(`http://127.0.0.1:${port}/healthz`).then(
            (r) => r.status,
            () => 0,
          );
          return answer === 200 || child.exitCode !== null ? answer || -1 : 0;
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      ).catch(() => 0);
      expect(status, output).toBe(200);
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code, output).toBe(0);
    } finally {
      await stopGroup(child, { graceMs: 0 });
      await atera.close();
    }
  }, 60_000);
});

describe('the code shipped in dist/', () => {
  it('holds no sandbox and no local-run code, and imports every production dependency and nothing else', () => {
    expect(build.ok, build.output).toBe(true);
    expect(problemsInBuild(join(dir, 'dist'))).toEqual([]);
  });

  it('is checked by npm run build, which fails on a sandbox in dist/', async () => {
    expect(pkg.scripts?.build).toMatch(/tsx scripts\/check-build\.ts$/);
    const planted = await mkdtemp(join(tmpdir(), 'tz-planted-build-'));
    try {
      await writeFile(join(planted, 'main.js'), "import './sandboxes/atera/atera-sandbox.js';\n");
      const { mkdir } = await import('node:fs/promises');
      await mkdir(join(planted, 'sandboxes', 'atera'), { recursive: true });
      await writeFile(
        join(planted, 'sandboxes', 'atera', 'atera-sandbox.js'),
        "import jwt from 'jsonwebtoken';\n",
      );
      expect(problemsInBuild(planted)).toEqual(
        expect.arrayContaining([
          'dist/sandboxes/atera/atera-sandbox.js: src/sandboxes is not part of the production build',
          'dist/main.js imports ./sandboxes/atera/atera-sandbox.js, which is not part of the production build',
          'dist/sandboxes/atera/atera-sandbox.js imports jsonwebtoken, not a production dependency',
        ]),
      );
    } finally {
      await rm(planted, { recursive: true, force: true });
    }
  });

  it('imports only production dependencies and Node built-ins', async () => {
    const tsconfig = await readJson<{ exclude?: string[] }>(join(ROOT, 'tsconfig.build.json'));
    const excluded = (tsconfig.exclude ?? [])
      .filter((e) => e.startsWith('src/'))
      .map((e) => e.replace(/\/\*\*$/, '/'));
    const files = (await readdir(join(ROOT, 'src'), { recursive: true }))
      .map((f) => `src/${f.replaceAll('\\', '/')}`)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !excluded.some((e) => f.startsWith(e)));
    expect(files.length).toBeGreaterThan(0);

    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const allowed = new Set(Object.keys(pkg.dependencies));
    const offending: string[] = [];
    const importRe =
      /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
    for (const file of files) {
      const text = await readFile(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(importRe)) {
        if (m[2]) continue; // `import type` is erased at compile time
        const spec = (m[3] ?? m[4]) as string;
        if (spec.startsWith('.') || builtins.has(spec)) continue;
        const name = spec.startsWith('@')
          ? spec.split('/').slice(0, 2).join('/')
          : (spec.split('/')[0] as string);
        if (!allowed.has(name)) offending.push(`${file}: ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
