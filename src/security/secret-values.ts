/**
 * The secret values in the settings, so the logger can scrub them from every line as a last line of defence
 * (fields are redacted by path in src/logging/logger.ts; this catches a secret that reached a message or an
 * error's text some other way).
 */
import type { Config } from '../config/load-config.js';
import type { TenantMap } from '../config/tenant-map.js';

/** Shorter values are not scrubbed: they would match ordinary words. */
export const MIN_SCRUBBED_LENGTH = 8;
/** LOCAL_AI_API_KEY's default: LM Studio ignores the key, so the default is not a secret. */
const DEFAULT_LOCAL_AI_KEY = 'lm-studio';

export function logSecretsOf(config: Config): string[] {
  const values = [
    config.atera.apiKey,
    config.atera.webhookSecret,
    config.bot.appPassword,
    config.graph.clientSecret,
    config.ai.azureApiKey,
    config.ai.openaiApiKey,
    config.ai.localApiKey === DEFAULT_LOCAL_AI_KEY ? undefined : config.ai.localApiKey,
    config.ops.metricsToken,
    config.ops.dashboardToken,
    // "id1:base64key,id2:base64key": each key on its own, and the whole setting.
    config.security.transcriptKeys,
    ...(config.security.transcriptKeys ?? '')
      .split(',')
      .map((entry) => entry.slice(entry.indexOf(':') + 1).trim()),
  ];
  return [
    ...new Set(values.filter((v): v is string => typeof v === 'string' && v.length >= MIN_SCRUBBED_LENGTH)),
  ];
}

/** The secrets named in the tenants file (each tenant's Graph client secret and bot password). */
export function tenantSecretValues(
  map: Pick<TenantMap, 'tenants' | 'graphCredentials' | 'botFor'>,
): string[] {
  return map.tenants
    .flatMap((tenant) => [map.graphCredentials(tenant)?.clientSecret, map.botFor(tenant)?.appPassword])
    .filter((v): v is string => typeof v === 'string' && v.length >= MIN_SCRUBBED_LENGTH);
}
