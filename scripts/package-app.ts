/**
 * Builds the Teams app package that Teams admin centre (Manage apps → Upload new app) and the Agents Toolkit accept:
 * a flat zip of manifest.json, color.png and outline.png, with every `${{NAME}}` placeholder in the manifest filled
 * from env/.env.<name>, env/.env.<name>.user and the process environment (the process environment wins), checked
 * against the Teams manifest JSON schema shipped in @microsoft/app-manifest (offline) before it is written.
 *
 * Usage: npm run package [-- --env dev] [-- --out appPackage/build/appPackage.dev.zip]
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { AppManifestUtils } from '@microsoft/app-manifest';
import { parse as parseDotenv } from 'dotenv';
import { PNG } from 'pngjs';
import yazl from 'yazl';
import { TicketZeroError } from '../src/errors.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The icon files the manifest names, with the sizes Teams requires. */
export const ICON_SIZES = { color: 192, outline: 32 } as const;

/** Every zip entry gets this timestamp, so the same inputs give the same bytes. */
const FIXED_MTIME = new Date('2025-01-01T00:00:00Z');

const PLACEHOLDER = /\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The app package cannot be built; `problems` lists every reason found. */
export class AppPackageError extends TicketZeroError {
  readonly code = 'app_package_invalid';

  constructor(
    message: string,
    readonly problems: readonly string[] = [],
    options?: ErrorOptions,
  ) {
    super(problems.length > 0 ? `${message}:\n  - ${problems.join('\n  - ')}` : message, options);
  }
}

export type Environment = Record<string, string | undefined>;

async function readEnvFile(path: string): Promise<Environment> {
  try {
    return parseDotenv(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

/**
 * The values the Agents Toolkit would use for environment `envName`: env/.env.<envName>, then the git-ignored
 * env/.env.<envName>.user (where the toolkit keeps SECRET_ values), then the process environment on top.
 */
export async function loadEnvironment(
  envName: string,
  opts: { root?: string; processEnv?: Environment } = {},
): Promise<Environment> {
  if (!/^[A-Za-z0-9_-]+$/.test(envName)) throw new AppPackageError(`invalid environment name "${envName}"`);
  const root = opts.root ?? ROOT;
  const base = await readEnvFile(join(root, 'env', `.env.${envName}`));
  const user = await readEnvFile(join(root, 'env', `.env.${envName}.user`));
  const fromProcess = Object.fromEntries(
    Object.entries(opts.processEnv ?? {}).filter(([, v]) => v !== undefined),
  );
  return { TEAMSFX_ENV: envName, ...base, ...user, ...fromProcess };
}

/** The names of every `${{NAME}}` placeholder in a text. */
export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

/**
 * What each placeholder of appPackage/manifest.json holds and how to find its value, so a missing one is reported
 * with where to look. A placeholder added to the manifest needs an entry here (test/unit/ship/app-package.test.ts).
 */
export const PLACEHOLDER_HELP: Readonly<Record<string, string>> = {
  TEAMS_APP_ID:
    "the Teams app's manifest id (a GUID): `atk provision` writes it; without the toolkit, make one with `uuidgen` once and keep it for every update (docs/deployment.md#deploying-with-the-azure-cli)",
  BOT_ID:
    "the bot's Entra app (client) id: `atk provision` writes it; otherwise Entra admin centre → App registrations → TicketZero → Application (client) ID (docs/real-tenant-setup.md#1-the-entra-app-registration)",
  BOT_DOMAIN:
    "the host name TicketZero is reached at, without https:// (the container app's address): `atk provision` writes it; otherwise the BOT_DOMAIN output of `az deployment group create` (docs/deployment.md#deploying-with-the-azure-cli)",
  APP_VERSION: 'the version Teams shows, e.g. 1.0.0; raise it for every upload',
  APP_PUBLISHER_NAME: "your organisation's name, shown on the app's About page in Teams",
  APP_WEBSITE_URL: "an https:// address of your website, shown on the app's About page in Teams",
  APP_PRIVACY_URL: "an https:// address of your privacy statement, shown on the app's About page in Teams",
  APP_TERMS_URL: "an https:// address of your terms of use, shown on the app's About page in Teams",
  APP_NAME_SUFFIX:
    'text added to the app name, e.g. -test; may be empty, but must be there (APP_NAME_SUFFIX=)',
};

/** Where `npm run package --env <envName>` reads placeholder values from, in the words of its messages. */
function sourcesOf(envName: string): string {
  return `env/.env.${envName}, or env/.env.${envName}.user, or the environment (which wins; .env is not read)`;
}

/**
 * Fills every placeholder in the manifest's string values. A placeholder that makes up a whole value (an id, a
 * domain) must resolve to a non-empty string; one inside a longer value (a name suffix) may be empty. Every missing
 * value is reported at once, each with where to set it and what it is.
 */
export function renderManifest(
  template: unknown,
  env: Environment,
  envName: string = env.TEAMSFX_ENV ?? 'dev',
): Record<string, unknown> {
  const problems: string[] = [];
  const fill = (value: unknown, path: string): unknown => {
    if (typeof value === 'string') {
      const whole = /^\$\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\}$/.test(value);
      return value.replace(PLACEHOLDER, (_match, name: string) => {
        const v = env[name];
        if (v === undefined || (whole && v.trim() === '')) {
          const help = PLACEHOLDER_HELP[name];
          problems.push(
            `${name} (used at ${path}) is ${v === undefined ? 'not set' : 'empty'}: set it in ${sourcesOf(envName)}` +
              (help ? `; ${help}` : ''),
          );
          return '';
        }
        return v;
      });
    }
    if (Array.isArray(value)) return value.map((v, i) => fill(v, `${path}/${i}`));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, `${path}/${k}`)]));
    }
    return value;
  };
  const rendered = fill(template, '');
  if (problems.length > 0) {
    throw new AppPackageError('the manifest has placeholders without values', [...new Set(problems)]);
  }
  return rendered as Record<string, unknown>;
}

/** Path of the JSON schema for a manifest version, from the schemas @microsoft/app-manifest ships. */
export function schemaPathFor(manifestVersion: string): string {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('@microsoft/app-manifest/package.json'));
  return join(
    packageDir,
    'build',
    'json-schemas',
    'teams',
    `v${manifestVersion}`,
    'MicrosoftTeams.schema.json',
  );
}

/** Validates against the schema of the manifest's own `manifestVersion`, offline. Returns the errors (empty: valid). */
export async function validateManifest(manifest: Record<string, unknown>): Promise<string[]> {
  const version = manifest.manifestVersion;
  if (typeof version !== 'string') return ['/manifestVersion is missing'];
  let schema: Record<string, unknown>;
  try {
    schema = JSON.parse(await readFile(schemaPathFor(version), 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new AppPackageError(`no schema for manifest version ${version} in @microsoft/app-manifest`, [], {
      cause: error,
    });
  }
  // Passing the schema keeps the validator offline (without it, it downloads the manifest's $schema URL).
  return AppManifestUtils.validateAgainstSchema(manifest as never, schema as never);
}

/** Reads an icon and checks it is a PNG of the size Teams requires. */
export async function readIcon(path: string, size: number): Promise<Buffer> {
  const bytes = await readFile(path);
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (error) {
    throw new AppPackageError(`${path} is not a PNG`, [], { cause: error });
  }
  if (png.width !== size || png.height !== size) {
    throw new AppPackageError(`${path} is ${png.width}×${png.height}; Teams requires ${size}×${size}`);
  }
  return bytes;
}

export interface BuildOptions {
  envName: string;
  /** Repository root (defaults to this checkout). */
  root?: string;
  /** Output zip (defaults to appPackage/build/appPackage.<env>.zip). */
  outFile?: string;
  processEnv?: Environment;
}

export interface BuiltPackage {
  outFile: string;
  manifest: Record<string, unknown>;
  entries: string[];
}

/** Renders, validates and zips the app package; throws AppPackageError listing every problem found. */
export async function buildAppPackage(opts: BuildOptions): Promise<BuiltPackage> {
  const root = opts.root ?? ROOT;
  const appDir = join(root, 'appPackage');
  const outFile = resolve(
    root,
    opts.outFile ?? join('appPackage', 'build', `appPackage.${opts.envName}.zip`),
  );

  const env = await loadEnvironment(opts.envName, { root, processEnv: opts.processEnv });
  const template = JSON.parse(await readFile(join(appDir, 'manifest.json'), 'utf8')) as unknown;
  const manifest = renderManifest(template, env, opts.envName);

  const errors = await validateManifest(manifest);
  if (errors.length > 0) throw new AppPackageError('the manifest does not match its schema', errors);

  const icons = manifest.icons as { color?: unknown; outline?: unknown } | undefined;
  const iconFiles: Array<[string, Buffer]> = [];
  for (const kind of ['color', 'outline'] as const) {
    const name = icons?.[kind];
    if (typeof name !== 'string' || name.includes('/') || name.includes('\\')) {
      throw new AppPackageError(`icons.${kind} must name a file beside manifest.json (the zip is flat)`);
    }
    iconFiles.push([name, await readIcon(join(appDir, name), ICON_SIZES[kind])]);
  }

  await mkdir(dirname(outFile), { recursive: true });
  const zip = new yazl.ZipFile();
  const entries = ['manifest.json', ...iconFiles.map(([name]) => name)];
  zip.addBuffer(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), 'manifest.json', {
    mtime: FIXED_MTIME,
  });
  for (const [name, bytes] of iconFiles) zip.addBuffer(bytes, name, { mtime: FIXED_MTIME });
  await new Promise<void>((done, fail) => {
    const out = createWriteStream(outFile);
    out.on('close', done);
    out.on('error', fail);
    zip.outputStream.on('error', fail);
    zip.outputStream.pipe(out);
    zip.end();
  });
  return { outFile, manifest, entries };
}

/** Printed after a package is built: the catalogue id only exists once the package is in the org's catalogue. */
export const AFTER_UPLOAD =
  'next, upload it in Teams admin centre → Teams apps → Manage apps → Upload new app; the "App ID" on its page there is TEAMS_APP_CATALOG_ID (docs/real-tenant-setup.md#the-apps-catalogue-id-teams_app_catalog_id)';

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const { values } = parseArgs({
    options: { env: { type: 'string', default: 'dev' }, out: { type: 'string' } },
  });
  try {
    const built = await buildAppPackage({
      envName: values.env ?? 'dev',
      outFile: values.out,
      processEnv: process.env,
    });
    console.log(`package: ${built.outFile} (${built.entries.join(', ')})`);
    console.log(`package: ${AFTER_UPLOAD}`);
  } catch (error) {
    if (error instanceof AppPackageError) {
      console.error(`package: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}
