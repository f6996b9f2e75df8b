import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { drawColorIcon, drawOutlineIcon, encodePng } from '../../../scripts/make-icons.js';
import {
  AFTER_UPLOAD,
  AppPackageError,
  PLACEHOLDER_HELP,
  ROOT,
  buildAppPackage,
  loadEnvironment,
  placeholdersIn,
  validateManifest,
} from '../../../scripts/package-app.js';
import { headingAnchors } from '../docs/heading-anchors.js';

const run = promisify(execFile);

const IDS = {
  TEAMS_APP_ID: '0b7d3f7e-5a0c-4c4e-9d53-6c1f3f2b9a10',
  BOT_ID: '7f1c2d3e-4b5a-4697-8a1b-2c3d4e5f6a7b',
  BOT_DOMAIN: 'ticketzero.contoso-msp.example',
};

/** Reads every entry of a zip with yauzl (an unzipper independent of the yazl that wrote it). */
async function unzip(path: string): Promise<Map<string, Buffer>> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true });
  const files = new Map<string, Buffer>();
  try {
    await new Promise<void>((done, fail) => {
      zip.on('error', fail);
      zip.on('end', done);
      zip.on('entry', (entry: yauzl.Entry) => {
        zip
          .openReadStreamPromise(entry)
          .then(async (stream) => {
            const chunks: Buffer[] = [];
            for await (const chunk of stream) chunks.push(chunk as Buffer);
            files.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          })
          .catch(fail);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return files;
}

async function readTemplate(): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(ROOT, 'appPackage', 'manifest.json'), 'utf8')) as Record<
    string,
    unknown
  >;
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tz-app-package-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A scratch copy of the repository's appPackage/ and env/, to change one thing at a time. */
async function scratchRoot(name: string): Promise<string> {
  const root = join(work, name);
  await cp(join(ROOT, 'appPackage'), join(root, 'appPackage'), {
    recursive: true,
    filter: (src) => !src.includes(`${join('appPackage', 'build')}`),
  });
  await cp(join(ROOT, 'env', '.env.dev'), join(root, 'env', '.env.dev'));
  return root;
}

describe('npm run package', () => {
  it('builds a flat zip of manifest.json and the two icons, with a manifest that passes the Teams schema', async () => {
    const out = join(work, 'npm-run-package.zip');
    const { stdout } = await run('npm', ['run', '--silent', 'package', '--', '--env', 'dev', '--out', out], {
      cwd: ROOT,
      env: { ...process.env, ...IDS },
    });
    expect(stdout).toContain('"App ID" on its page there is TEAMS_APP_CATALOG_ID');

    const files = await unzip(out);
    expect([...files.keys()].sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);

    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as Record<string, unknown>;
    expect(await validateManifest(manifest)).toEqual([]);
    expect(JSON.stringify(manifest)).not.toContain('${{');
    expect(manifest.id).toBe(IDS.TEAMS_APP_ID);
    expect((manifest.bots as Array<{ botId: string }>)[0]?.botId).toBe(IDS.BOT_ID);
    expect(manifest.validDomains).toEqual([IDS.BOT_DOMAIN]);
    expect((manifest.webApplicationInfo as { id: string }).id).toBe(IDS.BOT_ID);

    const color = PNG.sync.read(files.get('color.png')!);
    const outline = PNG.sync.read(files.get('outline.png')!);
    expect([color.width, color.height]).toEqual([192, 192]);
    expect([outline.width, outline.height]).toEqual([32, 32]);
  });

  it('fails with every missing id named when the toolkit has not provisioned the environment yet', async () => {
    const root = await scratchRoot('unprovisioned');
    const error = await buildAppPackage({ envName: 'dev', root, processEnv: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppPackageError);
    const problems = (error as AppPackageError).problems.join('\n');
    expect(problems).toContain('TEAMS_APP_ID (used at /id) is empty');
    expect(problems).toContain('BOT_ID (used at /bots/0/botId) is empty');
    expect(problems).toContain('BOT_DOMAIN (used at /validDomains/0) is empty');
  });

  it('says, for each missing value, where to set it and how to find it', async () => {
    const root = await scratchRoot('unprovisioned-help');
    const error = await buildAppPackage({ envName: 'dev', root, processEnv: {} }).catch((e: unknown) => e);
    const problems = (error as AppPackageError).problems;
    const line = (name: string) => problems.find((p) => p.startsWith(`${name} `)) ?? '';
    for (const name of ['TEAMS_APP_ID', 'BOT_ID', 'BOT_DOMAIN']) {
      expect(line(name), name).toContain(
        'set it in env/.env.dev, or env/.env.dev.user, or the environment (which wins; .env is not read)',
      );
    }
    expect(line('TEAMS_APP_ID')).toMatch(/`atk provision` writes it.*`uuidgen`.*docs\/deployment\.md#/);
    expect(line('BOT_ID')).toMatch(
      /Entra admin centre → App registrations → TicketZero → Application \(client\) ID/,
    );
    expect(line('BOT_DOMAIN')).toMatch(
      /without https:\/\/.*BOT_DOMAIN output of `az deployment group create`/,
    );
  });

  it('names the environment asked for and a value missing from every layer', async () => {
    const root = await scratchRoot('not-set');
    const devFile = await readFile(join(root, 'env', '.env.dev'), 'utf8');
    await writeFile(join(root, 'env', '.env.staging'), devFile.replace(/^APP_VERSION=.*$/m, ''));
    const error = await buildAppPackage({ envName: 'staging', root, processEnv: IDS }).catch(
      (e: unknown) => e,
    );
    expect((error as AppPackageError).problems).toEqual([
      'APP_VERSION (used at /version) is not set: set it in env/.env.staging, or env/.env.staging.user, or the ' +
        'environment (which wins; .env is not read); the version Teams shows, e.g. 1.0.0; raise it for every upload',
    ]);
  });

  it('has help for every placeholder in the manifest, pointing only at doc sections that exist', async () => {
    const placeholders = placeholdersIn(await readFile(join(ROOT, 'appPackage', 'manifest.json'), 'utf8'));
    expect(placeholders.filter((name) => !PLACEHOLDER_HELP[name])).toEqual([]);
    const pointers = [...Object.values(PLACEHOLDER_HELP), AFTER_UPLOAD].flatMap((text) =>
      [...text.matchAll(/(docs\/[\w-]+\.md)#([\w-]+)/g)].map((m) => ({ file: m[1]!, anchor: m[2]! })),
    );
    expect(pointers.length).toBeGreaterThan(2);
    for (const { file, anchor } of pointers) {
      expect(headingAnchors(await readFile(join(ROOT, file), 'utf8')), `${file}#${anchor}`).toContain(anchor);
    }
  });

  it('fills placeholders from env/.env.<name>, then its .user file, with the process environment on top', async () => {
    const root = await scratchRoot('layers');
    await writeFile(
      join(root, 'env', '.env.dev.user'),
      `TEAMS_APP_ID=${IDS.TEAMS_APP_ID}\nBOT_ID=${IDS.BOT_ID}\nBOT_DOMAIN=from-user-file.example\n`,
    );
    const env = await loadEnvironment('dev', { root, processEnv: { BOT_DOMAIN: 'from-process.example' } });
    expect(env.TEAMS_APP_ID).toBe(IDS.TEAMS_APP_ID);
    expect(env.BOT_DOMAIN).toBe('from-process.example');
    expect(env.APP_PUBLISHER_NAME).toBe('Your MSP');

    const built = await buildAppPackage({
      envName: 'dev',
      root,
      outFile: join(work, 'layers.zip'),
      processEnv: { APP_NAME_SUFFIX: '-test' },
    });
    expect(built.manifest.validDomains).toEqual(['from-user-file.example']);
    expect((built.manifest.name as { short: string }).short).toBe('TicketZero-test');
  });

  it('refuses a manifest that breaks the schema, with the schema error', async () => {
    const root = await scratchRoot('bad-manifest');
    const manifest = await readTemplate();
    (manifest.bots as Array<Record<string, unknown>>)[0]!.scopes = ['personal', 'everywhere'];
    await writeFile(join(root, 'appPackage', 'manifest.json'), JSON.stringify(manifest));
    const error = await buildAppPackage({ envName: 'dev', root, processEnv: IDS }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppPackageError);
    expect((error as AppPackageError).problems.join('\n')).toMatch(/\/bots\/0\/scopes\/1/);
  });

  it('refuses an icon of the wrong size', async () => {
    const root = await scratchRoot('bad-icon');
    await writeFile(
      join(root, 'appPackage', 'color.png'),
      PNG.sync.write(new PNG({ width: 64, height: 64 })),
    );
    await expect(buildAppPackage({ envName: 'dev', root, processEnv: IDS })).rejects.toThrow(
      /64×64; Teams requires 192×192/,
    );
  });
});

describe('the app manifest', () => {
  it('keeps the app id and bot id as placeholders the toolkit fills from the environment', async () => {
    const manifest = await readTemplate();
    expect(manifest.id).toBe('${{TEAMS_APP_ID}}');
    expect((manifest.bots as Array<{ botId: string }>)[0]?.botId).toBe('${{BOT_ID}}');
  });

  it('declares one bot for 1:1 chats and the technicians’ team, without files', async () => {
    const [bot, ...others] = (await readTemplate()).bots as Array<Record<string, unknown>>;
    expect(others).toEqual([]);
    expect(bot?.scopes).toEqual(['personal', 'team']);
    expect(bot?.supportsFiles).toBe(false);
  });

  it('lists the technicians’ commands for the team scope and the end user’s for personal chats', async () => {
    const bot = ((await readTemplate()).bots as Array<Record<string, unknown>>)[0]!;
    const lists = bot.commandLists as Array<{ scopes: string[]; commands: Array<{ title: string }> }>;
    const titles = (scope: string) =>
      lists.find((l) => l.scopes.includes(scope))?.commands.map((c) => c.title) ?? [];
    expect(titles('team')).toEqual([
      'reassign',
      'escalate',
      'pause',
      'resume',
      'take over',
      'hand back',
      'status',
      'help',
      'use this channel',
    ]);
    expect(titles('personal')).toEqual(expect.arrayContaining(['help', 'status']));
  });
});

describe('the app icons', () => {
  async function icon(name: string): Promise<PNG> {
    return PNG.sync.read(await readFile(join(ROOT, 'appPackage', name)));
  }

  it('has a 192×192 colour icon with no transparent pixel', async () => {
    const png = await icon('color.png');
    expect([png.width, png.height]).toEqual([192, 192]);
    for (let i = 3; i < png.data.length; i += 4) expect(png.data[i]).toBe(255);
  });

  it('has a 32×32 outline icon that is only white on transparent', async () => {
    const png = await icon('outline.png');
    expect([png.width, png.height]).toEqual([32, 32]);
    let transparent = 0;
    let opaque = 0;
    const notWhite: number[] = [];
    for (let p = 0; p < png.width * png.height; p++) {
      const [r, g, b, a] = [png.data[p * 4], png.data[p * 4 + 1], png.data[p * 4 + 2], png.data[p * 4 + 3]];
      if (a === 0) transparent++;
      else if (r !== 255 || g !== 255 || b !== 255) notWhite.push(p);
      if (a === 255) opaque++;
    }
    expect(notWhite).toEqual([]);
    expect(transparent).toBeGreaterThan(100);
    expect(opaque).toBeGreaterThan(100);
  });

  it('are exactly what scripts/make-icons.ts draws (npm run icons rebuilds them)', async () => {
    expect(await readFile(join(ROOT, 'appPackage', 'color.png'))).toEqual(encodePng(drawColorIcon()));
    expect(await readFile(join(ROOT, 'appPackage', 'outline.png'))).toEqual(encodePng(drawOutlineIcon()));
  });
});
