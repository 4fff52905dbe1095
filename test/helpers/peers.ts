import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * Real peers (Debian's Prometheus, node_exporter, Alertmanager) for the end-to-end tests:
 * found on PATH, started as children whose last output lines explain a failure, stopped for sure.
 */

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function findBinary(names: string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d.length > 0), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  for (const name of names) {
    const found = dirs.map((dir) => join(dir, name)).find(isExecutable);
    if (found !== undefined) return found;
  }
  return undefined;
}


export interface Child {
  name: string;
  process: ChildProcess;
  /** Last lines of stdout and stderr, for failure messages. */
  output: string[];
  exit: Promise<void>;
  exited: boolean;
}

export function startChild(name: string, bin: string, args: string[], cwd: string): Child {
  const child = spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const record = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter((l) => l.length > 0));
    output.splice(0, Math.max(0, output.length - 60));
  };
  child.stdout?.on('data', record);
  child.stderr?.on('data', record);
  const managed: Child = { name, process: child, output, exited: false, exit: Promise.resolve() };
  managed.exit = new Promise((resolve) => {
    child.on('error', (error) => {
      output.push(`spawn error: ${error.message}`);
      managed.exited = true;
      resolve();
    });
    child.on('exit', (code, signal) => {
      output.push(`exited with ${code ?? signal}`);
      managed.exited = true;
      resolve();
    });
  });
  return managed;
}

export async function stopChild(child: Child | undefined): Promise<void> {
  if (child === undefined || child.exited) return;
  child.process.kill('SIGTERM');
  // Prometheus waits up to its flush deadline (1 min) for an unreachable remote; do not.
  const timedOut = await Promise.race([child.exit.then(() => false), sleep(5_000).then(() => true)]);
  if (timedOut && !child.exited) {
    child.process.kill('SIGKILL');
    await Promise.race([child.exit, sleep(5_000)]);
  }
}

export function describeChild(child: Child): string {
  return `${child.name} output:\n  ${child.output.slice(-25).join('\n  ')}`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** An answer no amount of waiting will change (a 4xx from Vigil's listing): fail at once. */
export class PermanentError extends Error {}

/** Polls `check` until it returns true; throws naming `what`, the last reports and the peers' output when `timeoutMs` passes. */
export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, context: () => string, peers: Child[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  const details = () => `${lastError === '' ? '' : `last error: ${lastError}\n`}${context()}\n${peers.map(describeChild).join('\n')}`;
  for (;;) {
    const dead = peers.find((p) => p.exited);
    if (dead !== undefined) throw new Error(`${dead.name} exited while waiting for ${what}\n${details()}`);
    try {
      if (await check()) return;
    } catch (error) {
      if (error instanceof PermanentError) throw new Error(`while waiting for ${what}: ${error.message}\n${details()}`);
      lastError = String(error);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${details()}`);
    await sleep(250);
  }
}
