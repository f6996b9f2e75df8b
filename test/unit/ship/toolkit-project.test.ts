import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SECRET_SETTINGS } from '../../../src/config/load-config.js';
import { ROOT, placeholdersIn } from '../../../scripts/package-app.js';

interface Action {
  uses: string;
  name?: string;
  with?: Record<string, unknown>;
  writeToEnvironmentFile?: Record<string, string>;
}
interface Project {
  version: string;
  environmentFolderPath?: string;
  provision?: Action[];
  deploy?: Action[];
  publish?: Action[];
}

/**
 * Actions of the Microsoft 365 Agents Toolkit (teamsapp.yml v1.x) that these project files may use, as named in the
 * toolkit's documentation and templates.
 */
const TOOLKIT_ACTIONS = new Set([
  'teamsApp/create',
  'teamsApp/update',
  'teamsApp/validateManifest',
  'teamsApp/validateAppPackage',
  'teamsApp/zipAppPackage',
  'teamsApp/publishAppPackage',
  'teamsApp/extendToM365',
  'aadApp/create',
  'aadApp/update',
  'botAadApp/create',
  'botFramework/create',
  'arm/deploy',
  'azureAppService/zipDeploy',
  'azureStorage/deploy',
  'cli/runNpmCommand',
  'cli/runNpxCommand',
  'file/createOrUpdateEnvironmentFile',
  'file/createOrUpdateJsonFile',
  'devTool/install',
  'script',
]);

/** Variables the toolkit itself provides. */
const BUILT_IN = new Set(['TEAMSFX_ENV', 'AZURE_SUBSCRIPTION_ID', 'AZURE_RESOURCE_GROUP_NAME']);

async function readProject(file: string): Promise<Project> {
  return parseYaml(await readFile(join(ROOT, file), 'utf8')) as Project;
}
async function readEnv(name: string): Promise<Record<string, string>> {
  return parseDotenv(await readFile(join(ROOT, 'env', `.env.${name}`), 'utf8'));
}
const stages = (p: Project) => [...(p.provision ?? []), ...(p.deploy ?? []), ...(p.publish ?? [])];

/** Bicep outputs are written into the environment file by arm/deploy. */
async function bicepOutputs(): Promise<string[]> {
  const bicep = await readFile(join(ROOT, 'infra', 'main.bicep'), 'utf8');
  return [...bicep.matchAll(/^output\s+(\w+)\s/gm)].map((m) => m[1] as string);
}

const PROFILES = [
  { file: 'teamsapp.yml', env: 'dev' },
  { file: 'teamsapp.local.yml', env: 'local' },
] as const;

describe.each(PROFILES)('$file', ({ file, env }) => {
  it('parses as YAML on a current project-file schema version', async () => {
    const project = await readProject(file);
    expect(project.version).toMatch(/^v1\.(9|1\d)$/);
    const text = await readFile(join(ROOT, file), 'utf8');
    expect(text).toContain(`yaml.schema.json`);
    expect(text).toContain(`/${project.version}/`);
    expect(project.environmentFolderPath).toBe('./env');
  });

  it('uses only real toolkit actions', async () => {
    const unknown = stages(await readProject(file))
      .map((a) => a.uses)
      .filter((u) => !TOOLKIT_ACTIONS.has(u));
    expect(unknown).toEqual([]);
  });

  it('references only files that exist in the repository', async () => {
    const project = await readProject(file);
    const referenced: string[] = [];
    for (const action of stages(project)) {
      const w = action.with ?? {};
      for (const key of ['manifestPath']) if (typeof w[key] === 'string') referenced.push(w[key] as string);
      for (const t of (w.templates as Array<{ path: string; parameters?: string }> | undefined) ?? []) {
        referenced.push(t.path);
        if (t.parameters) referenced.push(t.parameters);
      }
      if (action.uses === 'script') {
        for (const m of String(w.run).matchAll(/\.\/[\w./-]+/g)) referenced.push(m[0]);
      }
    }
    expect(referenced.length).toBeGreaterThan(2);
    const missing = referenced.filter((p) => !existsSync(join(ROOT, p)));
    expect(missing).toEqual([]);
  });

  it('registers a single-tenant Entra app and stores its secret only in the git-ignored .user file', async () => {
    const create = stages(await readProject(file)).find((a) => a.uses === 'aadApp/create');
    expect(create?.with?.signInAudience).toBe('AzureADMyOrg');
    expect(create?.writeToEnvironmentFile?.clientId).toBe('BOT_ID');
    expect(create?.writeToEnvironmentFile?.clientSecret).toMatch(/^SECRET_/);
  });

  it('gives every ${{…}} it and the files it uses mention a source: the env file, the toolkit, or an earlier step', async () => {
    const project = await readProject(file);
    const envFile = await readEnv(env);
    const defined = new Set([...Object.keys(envFile), ...BUILT_IN, ...(await bicepOutputs())]);
    for (const action of stages(project)) {
      for (const name of Object.values(action.writeToEnvironmentFile ?? {})) defined.add(name);
    }
    defined.add('CONTAINER_IMAGE'); // set by infra/build-image.sh through ::set-teamsfx-env

    const texts = [await readFile(join(ROOT, file), 'utf8')];
    for (const action of stages(project)) {
      const w = action.with ?? {};
      if (typeof w.manifestPath === 'string') texts.push(await readFile(join(ROOT, w.manifestPath), 'utf8'));
      for (const t of (w.templates as Array<{ parameters?: string }> | undefined) ?? []) {
        if (t.parameters) texts.push(await readFile(join(ROOT, t.parameters), 'utf8'));
      }
    }
    const used = new Set(texts.flatMap(placeholdersIn));
    // Secrets come from env/.env.<name>.user, which is never committed.
    const unsourced = [...used].filter((n) => !defined.has(n) && !n.startsWith('SECRET_'));
    expect(unsourced).toEqual([]);
  });
});

describe('teamsapp.yml', () => {
  it('provisions the Teams app, the Entra app, the Azure resources from infra/ and a validated app package', async () => {
    const uses = ((await readProject('teamsapp.yml')).provision ?? []).map((a) => a.uses);
    expect(uses).toEqual([
      'teamsApp/create',
      'aadApp/create',
      'aadApp/update',
      'arm/deploy',
      'teamsApp/validateManifest',
      'teamsApp/zipAppPackage',
      'teamsApp/validateAppPackage',
      'teamsApp/update',
    ]);
  });

  it('deploys by building, pushing the image and rolling it out with the same Bicep', async () => {
    const deploy = (await readProject('teamsapp.yml')).deploy ?? [];
    expect(deploy.map((a) => a.uses)).toEqual([
      'cli/runNpmCommand',
      'cli/runNpmCommand',
      'script',
      'arm/deploy',
    ]);
    expect(deploy[1]?.with?.args).toBe('run build');
    expect(String(deploy[2]?.with?.run)).toContain('./infra/build-image.sh');
  });

  it('publishes the package to the organisation’s catalogue', async () => {
    const publish = (await readProject('teamsapp.yml')).publish ?? [];
    expect(publish.map((a) => a.uses)).toContain('teamsApp/publishAppPackage');
  });
});

describe('teamsapp.local.yml', () => {
  it('registers the bot at the dev tunnel and points TicketZero at the sandboxes through .localConfigs', async () => {
    const project = await readProject('teamsapp.local.yml');
    const bot = (project.provision ?? []).find((a) => a.uses === 'botFramework/create');
    expect(bot?.with?.messagingEndpoint).toBe('${{BOT_ENDPOINT}}/api/messages');
    const envFile = (project.deploy ?? []).find((a) => a.uses === 'file/createOrUpdateEnvironmentFile');
    expect(envFile?.with?.target).toBe('./.localConfigs');
    const envs = envFile?.with?.envs as Record<string, string>;
    expect(envs.ATERA_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:/);
    expect(envs.LOCAL_AI_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:/);
    const gitignore = await readFile(join(ROOT, '.gitignore'), 'utf8');
    expect(gitignore).toMatch(/^\.localConfigs\*?$/m);
  });
});

describe('the environment files', () => {
  it.each(['dev', 'local'])('env/.env.%s commits no secret', async (name) => {
    const env = await readEnv(name);
    const filled = Object.entries(env)
      .filter(([k, v]) => v !== '' && (k.startsWith('SECRET_') || SECRET_SETTINGS.includes(k)))
      .map(([k]) => k);
    expect(filled).toEqual([]);
  });

  it('keeps the toolkit’s .user files (where secrets go) out of git', async () => {
    const gitignore = await readFile(join(ROOT, '.gitignore'), 'utf8');
    expect(gitignore).toMatch(/^env\/\.env\.\*\.user$/m);
  });
});
