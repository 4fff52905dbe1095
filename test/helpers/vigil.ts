import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { validateConfig, defaultConfig, type Config } from '../../src/config/index.js';
import { startVigil, type RunningVigil } from '../../src/main.js';
import type { Clock } from '../../src/shared/clock.js';

export interface TestVigil extends RunningVigil {
  dataDir: string;
  url: string;
  config: Readonly<Config>;
  /** Closes and deletes the data directory. */
  stop(): Promise<void>;
}

/** A fresh temporary data directory. chdb allows one per process, so one per test file. */
export function makeDataDir(prefix = 'vigil-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts a real Vigil on the embedded engine, on a free loopback port. */
export async function startTestVigil(options: { dataDir?: string; clock?: Clock; overrides?: (c: Config) => void } = {}): Promise<TestVigil> {
  const dataDir = options.dataDir ?? makeDataDir();
  const candidate = structuredClone(defaultConfig) as Config;
  candidate.server.listen = '127.0.0.1:0';
  candidate.storage.dataDir = dataDir;
  candidate.log.level = 'warn';
  options.overrides?.(candidate);
  const config = validateConfig(candidate);
  const vigil = await startVigil(config, { logger: pino({ level: 'warn' }), ...(options.clock ? { clock: options.clock } : {}) });
  return {
    ...vigil,
    dataDir,
    url: vigil.address,
    config,
    async stop() {
      await vigil.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
