/**
 * The environment a helper process TicketZero starts (the Agents Playground in local runs) inherits: this process's
 * own, with a folder put first on PATH. Kept here so the environment is read in src/config only.
 */
export function inheritedEnvironment(
  options: { pathFirst: string; set?: Record<string, string> },
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return { ...env, PATH: `${options.pathFirst}:${env.PATH ?? ''}`, ...options.set };
}
