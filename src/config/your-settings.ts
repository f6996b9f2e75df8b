/**
 * The settings a person gave, read the way production reads them (src/main.ts): `.env` in the working folder when it
 * exists, then the process environment, which wins. Used by the local run to tell your settings from its sandboxes'.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'dotenv';

export interface YourSettings {
  /** Every variable, `.env` overridden by the environment. */
  values: Record<string, string>;
  /** Where a variable came from. */
  sourceOf(name: string): '.env' | 'environment' | undefined;
  /** The `.env` file read, when there was one. */
  envFile: string | null;
}

export function readYourSettings(options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): YourSettings {
  const envFile = resolve(options.cwd ?? process.cwd(), '.env');
  const fromFile = existsSync(envFile) ? parse(readFileSync(envFile)) : {};
  const fromEnv = Object.fromEntries(
    Object.entries(options.env ?? process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return {
    values: { ...fromFile, ...fromEnv },
    sourceOf: (name) => (name in fromEnv ? 'environment' : name in fromFile ? '.env' : undefined),
    envFile: existsSync(envFile) ? envFile : null,
  };
}
