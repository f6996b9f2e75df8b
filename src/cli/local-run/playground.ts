/**
 * Microsoft 365 Agents Playground as the local run's Teams client and connector. Its CLI has no option for the
 * interface it listens on and moves to a random port when its port is taken; the local run needs loopback and a known
 * address, so it loads a small preload that binds every server the Playground opens to 127.0.0.1, and it reads the
 * port the Playground reports instead of assuming the one it asked for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inheritedEnvironment } from '../../config/child-process-env.js';

/**
 * Loaded with `node --import` before the Playground: a server asked to listen without a host listens on 127.0.0.1
 * (node's default is every interface).
 */
const LOOPBACK_ONLY = `import net from 'node:net';
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const [first] = args;
  if (typeof first === 'number' || (typeof first === 'string' && /^\\d+$/.test(first))) {
    if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  } else if (first && typeof first === 'object' && !('fd' in first) && !('handle' in first) && !('path' in first)) {
    args[0] = { ...first, host: first.host ?? '127.0.0.1' };
  }
  return listen.apply(this, args);
};
`;

export interface RunningPlayground {
  /** The address the Playground really listens on, e.g. http://127.0.0.1:56150. */
  url: string;
  child: ChildProcess;
  /** Stops the Playground and what it started. */
  stop(): void;
}

/** Starts the Playground for the bot at `botEndpoint`; resolves once it reports its port. */
export async function startPlayground(options: {
  dataDir: string;
  botEndpoint: string;
  port: number;
  /** Added to the Playground's environment (its configuration file). */
  env?: Record<string, string>;
  /** Where the Playground's own output goes, line by line. */
  print: (line: string) => void;
  timeoutMs?: number;
}): Promise<RunningPlayground> {
  const require = createRequire(import.meta.url);
  const cli = require.resolve('@microsoft/m365agentsplayground/cli.js');
  const bin = join(options.dataDir, 'bin');
  mkdirSync(bin, { recursive: true });
  // A no-op browser opener keeps it from trying to open one (the banner prints the address instead).
  for (const opener of ['xdg-open', 'open', 'sensible-browser']) {
    const path = join(bin, opener);
    writeFileSync(path, '#!/bin/sh\nexit 0\n');
    chmodSync(path, 0o755);
  }
  const preload = join(bin, 'loopback-only.mjs');
  writeFileSync(preload, LOOPBACK_ONLY);
  const child = spawn(
    process.execPath,
    [
      '--import',
      pathToFileURL(preload).href,
      cli,
      '-e',
      options.botEndpoint,
      '-c',
      'msteams',
      '-p',
      String(options.port),
      '--disable-telemetry',
    ],
    {
      env: inheritedEnvironment({
        pathFirst: bin,
        set: {
          BROWSER: 'none',
          // Its log goes with the run's data, not into the folder npm start was run from.
          M365_AGENTS_PLAYGROUND_LOGFILE: join(options.dataDir, 'playground.log'),
          ...options.env,
        },
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so stopping it stops whatever it started.
      detached: true,
    },
  );
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
  };
  return new Promise<RunningPlayground>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      stop();
      reject(new Error('the Agents Playground did not report its port within 60 s'));
    }, options.timeoutMs ?? 60_000);
    const onLine = (line: string) => {
      const listening = line.match(/Listening on (\d+)/i);
      if (listening && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${listening[1]}`, child, stop });
        return;
      }
      options.print(line);
    };
    const lines = (chunk: Buffer) =>
      chunk
        .toString()
        .split('\n')
        .filter((l) => l.trim())
        .forEach(onLine);
    child.stdout?.on('data', lines);
    child.stderr?.on('data', lines);
    child.once('exit', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`the Agents Playground exited before it listened (${code ?? signal})`));
    });
  });
}
