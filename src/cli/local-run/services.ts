/**
 * Which outside system the local run talks to: yours when your settings name one, its sandbox when they do not.
 * A pure function of your settings, so the choice is the same every time and is printed at start.
 */

export type ServiceName = 'atera' | 'graph' | 'ai';

/** The variables that, when any is set, mean you configured that system (and its sandbox must stay out). */
export const CONFIGURING: Record<ServiceName, readonly string[]> = {
  atera: ['ATERA_API_KEY', 'ATERA_BASE_URL'],
  graph: ['GRAPH_TENANT_ID', 'GRAPH_CLIENT_ID', 'TENANTS_FILE'],
  ai: [
    'LOCAL_AI_BASE_URL',
    'AZURE_OPENAI_ENDPOINT',
    'AZURE_OPENAI_DEPLOYMENT',
    'AZURE_OPENAI_API_KEY',
    'OPENAI_API_KEY',
  ],
};

/**
 * Bot Framework settings the local run does not use: the Agents Playground is its Teams and connector, and it neither
 * signs requests nor accepts a token for an app registration it does not know.
 */
export const NOT_FOR_THE_PLAYGROUND = [
  'MICROSOFT_APP_ID',
  'MICROSOFT_APP_PASSWORD',
  'MICROSOFT_APP_TENANT_ID',
  'MICROSOFT_APP_TYPE',
  'BOT_OPENID_METADATA_URL',
  'BOT_TOKEN_ISSUER',
  'BOT_LOGIN_URL',
  'BOT_SERVICE_URL',
] as const;

export type ServiceChoice = Record<ServiceName, { yours: boolean; by: string[] }>;

/** Yours when any of the system's configuring variables is set (non-empty). */
export function chooseServices(settings: Record<string, string>): ServiceChoice {
  const choice = (name: ServiceName) => {
    const by = CONFIGURING[name].filter((v) => (settings[v] ?? '').trim() !== '');
    return { yours: by.length > 0, by };
  };
  return { atera: choice('atera'), graph: choice('graph'), ai: choice('ai') };
}

export interface LocalRunEnvInput {
  /** Your settings (.env, then the environment). */
  yours: Record<string, string>;
  /** Settings for each sandbox the local run started (only for the systems you did not configure). */
  sandboxes: Partial<Record<ServiceName, Record<string, string>>>;
  /** What the local run itself decides: port, loopback, the Playground's connector, the data folder, logging. */
  fixed: Record<string, string>;
}

/**
 * The environment TicketZero's config is loaded from: your settings, with each sandboxed system's settings on top
 * (a sandbox's own address, key and ids must not mix with a half-set of yours), then the local run's fixed ones.
 * The Bot Framework registration settings are left out (see NOT_FOR_THE_PLAYGROUND).
 */
export function localRunEnv(input: LocalRunEnvInput): Record<string, string> {
  const env: Record<string, string> = { ...input.yours };
  for (const name of NOT_FOR_THE_PLAYGROUND) delete env[name];
  for (const values of Object.values(input.sandboxes)) Object.assign(env, values);
  return Object.assign(env, input.fixed);
}
