/**
 * No Bicep compiler installs from the npm registry on this machine (bicep-node downloads the CLI binary at run time,
 * which cannot work offline), so infra/ is checked structurally: parameters, secrets, outputs and the resources the
 * guide relies on. `az bicep build -f infra/main.bicep` is the full check wherever the Azure CLI is installed.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../scripts/package-app.js';

interface Param {
  name: string;
  type: string;
  hasDefault: boolean;
  decorators: string[];
  line: number;
}

/** The template without comments, so checks look at code only (string contents are kept). */
function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === "'") inString = false;
    } else if (c === "'") {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2) + 1;
    } else out += c;
  }
  return out;
}

function parseParams(code: string): Param[] {
  const lines = code.split('\n');
  const params: Param[] = [];
  let decorators: string[] = [];
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line.startsWith('@')) decorators.push(line);
    else if (line.startsWith('param ')) {
      const m = /^param\s+(\w+)\s+(\w+)(\s*=.*)?$/.exec(line);
      if (!m) throw new Error(`cannot read parameter on line ${index + 1}: ${line}`);
      params.push({ name: m[1]!, type: m[2]!, hasDefault: Boolean(m[3]), decorators, line: index });
      decorators = [];
    } else if (line !== '') decorators = [];
  });
  return params;
}

let code: string;
let params: Param[];
const SECRET_NAME = /password|secret|apikey|token|keys$/i;

beforeAll(async () => {
  code = stripComments(await readFile(join(ROOT, 'infra', 'main.bicep'), 'utf8'));
  params = parseParams(code);
});

describe('infra/main.bicep', () => {
  it('balances its braces, brackets and parentheses', () => {
    const code1 = code.replace(/'(?:[^'\\]|\\.)*'/g, "''");
    const stack: string[] = [];
    const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
    for (const c of code1) {
      if ('([{'.includes(c)) stack.push(c);
      else if (c in pairs) expect(stack.pop(), `unbalanced ${c}`).toBe(pairs[c]);
    }
    expect(stack).toEqual([]);
  });

  it('uses every parameter it declares', () => {
    const lines = code.split('\n');
    const unused = params.filter((p) => {
      const rest = lines.filter((_, i) => i !== p.line).join('\n');
      return !new RegExp(`\\b${p.name}\\b`).test(rest);
    });
    expect(unused.map((p) => p.name)).toEqual([]);
  });

  it('marks every secret parameter @secure() and gives none a literal value', () => {
    const secretLike = params.filter((p) => SECRET_NAME.test(p.name));
    expect(secretLike.map((p) => p.name)).toEqual(
      expect.arrayContaining(['botPassword', 'ateraApiKey', 'postgresAdminPassword', 'ateraWebhookSecret']),
    );
    for (const p of secretLike) {
      expect(p.decorators, p.name).toContain('@secure()');
      expect(p.type, p.name).toBe('string');
    }
    const defaults = [...code.matchAll(/^param\s+(\w+)\s+string\s*=\s*'([^']*)'/gm)];
    for (const [, name, value] of defaults) {
      if (SECRET_NAME.test(name!)) expect(value, name).toBe('');
    }
  });

  it('leaks no secure parameter through an output', () => {
    const secure = params.filter((p) => p.decorators.includes('@secure()')).map((p) => p.name);
    const outputs = code.split('\n').filter((l) => l.startsWith('output '));
    expect(outputs.length).toBeGreaterThan(3);
    for (const out of outputs)
      for (const name of secure) expect(out).not.toMatch(new RegExp(`\\b${name}\\b`));
  });

  it('registers a single-tenant Azure Bot with the Teams channel and the /api/messages endpoint', () => {
    expect(code).toMatch(/resource \w+ 'Microsoft\.BotService\/botServices@\d{4}-\d{2}-\d{2}'/);
    expect(code).toMatch(/kind: 'azurebot'/);
    expect(code).toMatch(/msaAppType: 'SingleTenant'/);
    expect(code).toMatch(/msaAppTenantId: botTenantId/);
    expect(code).toMatch(/endpoint: 'https:\/\/\$\{appDomain\}\/api\/messages'/);
    expect(code).toMatch(
      /'Microsoft\.BotService\/botServices\/channels@[\d-]+'[\s\S]*?name: 'MsTeamsChannel'/,
    );
  });

  it('hosts TicketZero on Container Apps with /healthz probes, an always-on replica and Key Vault secrets', () => {
    expect(code).toMatch(/'Microsoft\.App\/containerApps@[\d-]+'/);
    expect(code).toMatch(/path: '\/healthz'/);
    expect(code).toMatch(/minReplicas: 1/);
    expect(code).toMatch(/keyVaultUrl: /);
    expect(code).toMatch(/enableRbacAuthorization: true/);
  });

  it('provides PostgreSQL flexible server for multi-instance mode, and Log Analytics with Application Insights', () => {
    expect(code).toMatch(/'Microsoft\.DBforPostgreSQL\/flexibleServers@[\d-]+' = if \(usePostgres\)/);
    expect(code).toMatch(/{ name: 'STORE', value: usePostgres \? 'postgres' : 'lowdb' }/);
    expect(code).toMatch(/'Microsoft\.OperationalInsights\/workspaces@[\d-]+'/);
    expect(code).toMatch(/'Microsoft\.Insights\/components@[\d-]+'/);
  });

  it('passes the container only settings TicketZero reads (src/config/sections), secrets by Key Vault reference', async () => {
    const dir = join(ROOT, 'src', 'config', 'sections');
    const known = new Set<string>(['NODE_ENV']);
    for (const file of await readdir(dir)) {
      const mod = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
      for (const section of Object.values(mod)) {
        for (const s of Object.values(section as Record<string, { env?: unknown }>)) {
          if (typeof s.env === 'string') known.add(s.env);
        }
      }
    }
    const plain = [...code.matchAll(/{ name: '([A-Z_]+)', value: /g)].map((m) => m[1]!);
    const secret = [...code.matchAll(/env: '([A-Z_]+)', value: /g)].map((m) => m[1]!);
    expect(plain.length).toBeGreaterThan(10);
    expect(secret).toEqual(
      expect.arrayContaining(['ATERA_API_KEY', 'MICROSOFT_APP_PASSWORD', 'GRAPH_CLIENT_SECRET']),
    );
    expect([...plain, ...secret].filter((n) => !known.has(n))).toEqual([]);
  });
});

describe('the Bicep parameter files', () => {
  it('infra/azure.parameters.json (toolkit) sets only declared parameters, every required one, secrets from SECRET_ values', async () => {
    const file = JSON.parse(await readFile(join(ROOT, 'infra', 'azure.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: string }>;
    };
    const declared = new Set(params.map((p) => p.name));
    expect(Object.keys(file.parameters).filter((n) => !declared.has(n))).toEqual([]);
    const required = params.filter((p) => !p.hasDefault).map((p) => p.name);
    expect(required.filter((n) => !(n in file.parameters))).toEqual([]);
    for (const p of params.filter((q) => q.decorators.includes('@secure()'))) {
      if (p.name in file.parameters)
        expect(file.parameters[p.name]!.value, p.name).toMatch(/^\$\{\{SECRET_\w+\}\}$/);
    }
  });

  it('infra/main.bicepparam (Azure CLI) uses main.bicep, sets only declared parameters and reads secrets from the environment', async () => {
    const text = stripComments(await readFile(join(ROOT, 'infra', 'main.bicepparam'), 'utf8'));
    expect(text).toMatch(/^using '\.\/main\.bicep'$/m);
    const assigned = new Map([...text.matchAll(/^param\s+(\w+)\s*=\s*(.+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const declared = new Set(params.map((p) => p.name));
    expect([...assigned.keys()].filter((n) => !declared.has(n))).toEqual([]);
    expect(params.filter((p) => !p.hasDefault && !assigned.has(p.name)).map((p) => p.name)).toEqual([]);
    for (const p of params.filter((q) => q.decorators.includes('@secure()'))) {
      expect(assigned.get(p.name), p.name).toMatch(/^readEnvironmentVariable\('SECRET_\w+'(, '')?\)$/);
    }
  });
});
