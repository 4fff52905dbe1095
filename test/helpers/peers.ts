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


/** A peer a suite needs: its binary's possible names, and the Debian package that has it. */
export interface Peer {
  names: string[];
  debianPackage: string;
}

export interface FoundPeers<K extends string> {
  /** Set when a peer is missing outside CI: the suite is skipped (the reason is printed). */
  skipReason: string | undefined;
  /** Every peer's binary; throws naming the missing ones (in CI, .ci/run installs them, so none may be). */
  require(): Record<K, string>;
}

/** Finds a suite's peers on PATH. Locally a missing peer skips the suite; in CI it must fail. */
export function findPeers<K extends string>(suite: string, peers: Record<K, Peer>): FoundPeers<K> {
  const bins: Partial<Record<K, string>> = {};
  const missing: Peer[] = [];
  for (const key of Object.keys(peers) as K[]) {
    const bin = findBinary(peers[key].names);
    if (bin === undefined) missing.push(peers[key]);
    else bins[key] = bin;
  }
  const names = missing.map((p) => p.names.join(' or ')).join(', ');
  const skipReason = missing.length > 0 && !process.env.CI ? `not found on PATH: ${names} (apt-get install ${missing.map((p) => p.debianPackage).join(' ')})` : undefined;
  if (skipReason !== undefined) console.warn(`${suite} e2e skipped: ${skipReason}`);
  return {
    skipReason,
    require() {
      if (missing.length > 0) throw new Error(`CI is set but ${names} is not installed; .ci/run installs it with apt-get`);
      return bins as Record<K, string>;
    },
  };
}

/**
 * Sums the samples of one metric in Prometheus' text exposition whose labels contain
 * `labelMatch` (e.g. `integration="webhook"`; empty: all); undefined when none is exposed.
 */
export function sumMetric(text: string, name: string, labelMatch = ''): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (match?.[1] !== name || !(match[2] ?? '').includes(labelMatch)) continue;
    total = (total ?? 0) + Number(match[3]);
  }
  return total;
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
