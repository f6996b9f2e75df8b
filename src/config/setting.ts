import { z } from 'zod';

/**
 * One setting: the environment variable it is read from and the schema that parses it.
 * Sections are objects of settings; `parseSection` reads them all and reports every problem by variable name.
 */
export interface Setting<T extends z.ZodTypeAny> {
  env: string;
  schema: T;
  /** Secrets are never echoed back in error messages or logs. */
  secret: boolean;
}

export function setting<T extends z.ZodTypeAny>(env: string, schema: T): Setting<T> {
  return { env, schema, secret: false };
}

export function secret<T extends z.ZodTypeAny>(env: string, schema: T): Setting<T> {
  return { env, schema, secret: true };
}

export type SectionSpec = Record<string, Setting<z.ZodTypeAny>>;
export type SectionValue<S extends SectionSpec> = { [K in keyof S]: z.output<S[K]['schema']> };

export type Env = Record<string, string | undefined>;

/** Empty strings count as unset, as in most .env files. */
function read(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function parseSection<S extends SectionSpec>(spec: S, env: Env, problems: string[]): SectionValue<S> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec)) {
    const result = s.schema.safeParse(read(env, s.env));
    if (result.success) {
      out[key] = result.data;
    } else {
      const issue = result.error.issues[0];
      const detail = issue ? issue.message : 'invalid';
      problems.push(`${s.env}: ${detail}`);
    }
  }
  return out as SectionValue<S>;
}

// Reusable schemas --------------------------------------------------------------------------------------------

export const bool = (defaultValue: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
      errorMap: () => ({ message: 'expected true or false' }),
    })
    .default(defaultValue ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === 'on');

export const int = (defaultValue: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ invalid_type_error: 'expected a whole number' })
    .int('expected a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(defaultValue);

/** An absolute http(s) URL without a trailing slash. */
export const url = () =>
  z
    .string()
    .url('expected an absolute URL')
    .refine((v) => /^https?:\/\//i.test(v), 'expected an http or https URL')
    .transform((v) => v.replace(/\/+$/, ''));
