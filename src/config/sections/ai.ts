import { z } from 'zod';
import { int, secret, setting, url } from '../setting.js';

const providerKinds = ['local', 'azure', 'openai'] as const;

export const aiSection = {
  /** Comma-separated order in which providers are tried. */
  providerOrder: setting(
    'AI_PROVIDER_ORDER',
    z
      .string()
      .default('local,azure,openai')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim().toLowerCase())
          .filter(Boolean),
      )
      .pipe(
        z
          .array(
            z.enum(providerKinds, {
              errorMap: () => ({ message: 'each entry must be local, azure or openai' }),
            }),
          )
          .min(1),
      ),
  ),
  localBaseUrl: setting('LOCAL_AI_BASE_URL', url().optional()),
  localModel: setting('LOCAL_AI_MODEL', z.string().default('local-model')),
  localApiKey: secret('LOCAL_AI_API_KEY', z.string().default('lm-studio')),
  azureEndpoint: setting('AZURE_OPENAI_ENDPOINT', url().optional()),
  azureDeployment: setting('AZURE_OPENAI_DEPLOYMENT', z.string().optional()),
  azureApiVersion: setting('AZURE_OPENAI_API_VERSION', z.string().default('2024-10-21')),
  azureApiKey: secret('AZURE_OPENAI_API_KEY', z.string().optional()),
  openaiApiKey: secret('OPENAI_API_KEY', z.string().optional()),
  openaiModel: setting('OPENAI_MODEL', z.string().default('gpt-4o-mini')),
  openaiBaseUrl: setting('OPENAI_BASE_URL', url().optional()),
  /**
   * Time allowed to connect and receive the first token. A local model on a CPU reads a 3,000-token prompt for
   * 30–45 s before it writes; no inbound request waits for it (the user sees the typing indicator meanwhile).
   */
  firstTokenTimeoutMs: setting('AI_FIRST_TOKEN_TIMEOUT_MS', int(60_000, 50)),
  /** Time allowed for the whole answer. */
  totalTimeoutMs: setting('AI_TOTAL_TIMEOUT_MS', int(180_000, 100)),
  /** Consecutive failures that open a provider's circuit. */
  breakerFailures: setting('AI_BREAKER_FAILURES', int(3, 1)),
  breakerCooldownMs: setting('AI_BREAKER_COOLDOWN_MS', int(60_000, 100)),
  /** Prompt budget in estimated tokens (system + context + history), so small models' windows are respected; the system prompt alone needs about 1000. */
  promptTokenBudget: setting('AI_PROMPT_TOKEN_BUDGET', int(3000, 1200)),
  maxAnswerTokens: setting('AI_MAX_ANSWER_TOKENS', int(600, 32)),
  temperature: setting('AI_TEMPERATURE', z.coerce.number().min(0).max(2).default(0.2)),
};
