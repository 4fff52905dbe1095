import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingNodeFlags, VIGIL_NODE_FLAGS } from '../../src/shared/node-flags.js';

const root = resolve(import.meta.dirname, '../..');

describe('node flags of vigil serve', () => {
  it('are written out in bin/vigil.mjs, the start script and the systemd unit', () => {
    const shebang = readFileSync(resolve(root, 'bin/vigil.mjs'), 'utf8').split('\n')[0]!;
    const start = (JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start']!;
    expect(shebang).toBe(`#!/usr/bin/env -S node ${VIGIL_NODE_FLAGS.join(' ')}`);
    expect(start).toBe(`node ${VIGIL_NODE_FLAGS.join(' ')} bin/vigil.mjs serve`);
    const execStart = /^ExecStart=(.*)$/m.exec(readFileSync(resolve(root, 'deploy/vigil.service'), 'utf8'))?.[1];
    expect(execStart).toBe(`/usr/bin/node ${VIGIL_NODE_FLAGS.join(' ')} /opt/vigil/bin/vigil.mjs serve`);
  });

  it('names the flags a process lacks', () => {
    expect(missingNodeFlags([])).toEqual([...VIGIL_NODE_FLAGS]);
    expect(missingNodeFlags(['--inspect', ...VIGIL_NODE_FLAGS])).toEqual([]);
  });
});
