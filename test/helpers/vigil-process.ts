import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');

/** Vigil as a process of its own (tsx, no build needed), so a test can SIGKILL it for real. `env` adds e.g. VIGIL_CONFIG. */
export function startVigilProcess(dataDir: string, port: number, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(root, 'src/dev.ts'), 'serve'], {
    cwd: root,
    env: { ...process.env, VIGIL_LISTEN: `127.0.0.1:${port}`, VIGIL_DATA_DIR: dataDir, VIGIL_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Linux hands out ports from 32768 up to outgoing connections (ip_local_port_range). */
const EPHEMERAL_START = 32_768;

/**
 * `count` consecutive loopback ports, free now, for a child that is restarted on the same
 * port: taken below the ephemeral range, since a random port above it can be taken by another
 * test's outgoing connection between two starts (seen: the child died with EADDRINUSE).
 */
export async function restartablePort(count = 1): Promise<number> {
  for (;;) {
    const first = 20_000 + Math.floor(Math.random() * (EPHEMERAL_START - 20_000 - count));
    const ports = Array.from({ length: count }, (_, i) => first + i);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return first;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('vigil did not become ready');
}

/** Resolves when the process has exited, also when it already had. */
export function waitExit(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((r) => proc.once('exit', () => r()));
}
