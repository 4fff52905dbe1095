import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { ConfigError, defaultConfig, loadConfig, validateConfig, type Config } from '../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function writeConfig(text: string): string {
  const path = join(dir, `config-${++fileCount}.yaml`);
  writeFileSync(path, text);
  return path;
}

/** The problems of the ConfigError `run` throws; fails the test if it throws anything else or nothing. */
function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const withDefaults = (patch: (c: Config) => void): Config => {
  const candidate = structuredClone(defaultConfig) as Config;
  patch(candidate);
  return candidate;
};

const fileYaml = `
server:
  listen: 0.0.0.0:9999
  role: all
log:
  level: debug
storage:
  dataDir: /var/lib/vigil
  retentionDays: 14
writer:
  maxBatchRows: 1000
  fsync: false
`;

/** Sets every key an environment variable can override, so each override is seen to win. */
const everyEnvKeyYaml = `
server:
  listen: 0.0.0.0:9999
log:
  level: debug
storage:
  dataDir: /from/file
  clickhouseUrl: http://file:8123
  user: fileuser
  password: filepass
  database: filedb
`;

describe('loadConfig: sources', () => {
  it('gives the defaults with no file and no environment', () => {
    expect(loadConfig({})).toEqual(defaultConfig);
  });

  it('does not mutate the defaults', () => {
    loadConfig({ VIGIL_LISTEN: '10.0.0.1:1', VIGIL_DATA_DIR: '/x' });
    expect(defaultConfig.server.listen).toBe('127.0.0.1:9470');
    expect(defaultConfig.storage.dataDir).toBe('./data');
  });

  it('reads the YAML file named by VIGIL_CONFIG over the defaults', () => {
    const config = loadConfig({ VIGIL_CONFIG: writeConfig(fileYaml) });
    expect(config.server).toEqual({ listen: '0.0.0.0:9999', role: 'all' });
    expect(config.log.level).toBe('debug');
    expect(config.storage).toEqual({ ...defaultConfig.storage, dataDir: '/var/lib/vigil', retentionDays: 14 });
    expect(config.writer).toEqual({ ...defaultConfig.writer, maxBatchRows: 1000, fsync: false });
    expect(config.ingest).toEqual(defaultConfig.ingest);
  });

  it.each(['', '# only a comment\n'])('an empty file %j gives the defaults', (text) => {
    expect(loadConfig({ VIGIL_CONFIG: writeConfig(text) })).toEqual(defaultConfig);
  });

  it.each([
    ['VIGIL_LISTEN', '127.0.0.1:1234', (c: Config) => c.server.listen],
    ['VIGIL_DATA_DIR', '/env/data', (c: Config) => c.storage.dataDir],
    ['CLICKHOUSE_URL', 'http://ch:8123', (c: Config) => c.storage.clickhouseUrl],
    ['VIGIL_LOG_LEVEL', 'warn', (c: Config) => c.log.level],
    ['CLICKHOUSE_USER', 'vigil', (c: Config) => c.storage.user],
    ['CLICKHOUSE_PASSWORD', 's3cret', (c: Config) => c.storage.password],
    ['CLICKHOUSE_DATABASE', 'metrics', (c: Config) => c.storage.database],
  ])('%s wins over the file', (name, value, read) => {
    const config = loadConfig({ VIGIL_CONFIG: writeConfig(everyEnvKeyYaml), [name]: value });
    expect(read(config)).toBe(value);
  });

  it('environment wins over file and file keeps what env does not touch', () => {
    const config = loadConfig({
      VIGIL_CONFIG: writeConfig(fileYaml),
      VIGIL_LISTEN: '127.0.0.1:1',
      VIGIL_DATA_DIR: '/env',
      CLICKHOUSE_URL: 'https://ch.example:8443',
      VIGIL_LOG_LEVEL: 'error',
    });
    expect(config.server).toEqual({ listen: '127.0.0.1:1', role: 'all' });
    expect(config.storage.dataDir).toBe('/env');
    expect(config.storage.clickhouseUrl).toBe('https://ch.example:8443');
    expect(config.storage.retentionDays).toBe(14);
    expect(config.log.level).toBe('error');
  });

  it('takes an empty CLICKHOUSE_PASSWORD as the empty password, over the file', () => {
    const config = loadConfig({ VIGIL_CONFIG: writeConfig('storage:\n  password: from-file\n'), CLICKHOUSE_PASSWORD: '' });
    expect(config.storage.password).toBe('');
  });

  it('ignores empty environment values', () => {
    const config = loadConfig({ VIGIL_CONFIG: writeConfig(fileYaml), VIGIL_LISTEN: '', VIGIL_DATA_DIR: '' });
    expect(config.server.listen).toBe('0.0.0.0:9999');
    expect(config.storage.dataDir).toBe('/var/lib/vigil');
  });

  it('overrides apply over the file; the environment still wins', () => {
    const config = loadConfig(
      { VIGIL_CONFIG: writeConfig(fileYaml), VIGIL_LISTEN: '127.0.0.1:2' },
      { writer: { maxBatchRows: 7 }, server: { listen: '127.0.0.1:3' } },
    );
    expect(config.writer.maxBatchRows).toBe(7);
    expect(config.writer.fsync).toBe(false);
    expect(config.server.listen).toBe('127.0.0.1:2');
  });
});

describe('loadConfig: refusals', () => {
  it('lists every problem with its key path', () => {
    const path = writeConfig(`
server:
  listen: localhost
writer:
  maxBatchRows: "1000"
storage:
  foo: 1
  cluster: prod
`);
    const problems = problemsOf(() => loadConfig({ VIGIL_CONFIG: path }));
    expect(problems.some((p) => p.startsWith('writer.maxBatchRows: '))).toBe(true);
    expect(problems.some((p) => p.startsWith('server.listen: '))).toBe(true);
    expect(problems).toContain('storage.foo: unknown key');
    expect(problems.some((p) => p.startsWith('storage.cluster: ') && p.includes('clickhouseUrl'))).toBe(true);
    // Each bad key is named; nothing else is.
    const keys = new Set(problems.map((p) => p.slice(0, p.indexOf(':'))));
    expect([...keys].sort()).toEqual(['server.listen', 'storage.cluster', 'storage.foo', 'writer.maxBatchRows']);
  });

  it('the error message lists every problem', () => {
    try {
      loadConfig({ VIGIL_LISTEN: 'nohost', VIGIL_LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const e = error as ConfigError;
      expect(e.name).toBe('ConfigError');
      expect(e.message).toContain('server.listen');
      expect(e.message).toContain('log.level');
      for (const p of e.problems) expect(e.message).toContain(p);
    }
  });

  it.each([
    ['server.listen without port', (c: Config) => (c.server.listen = 'localhost'), 'server.listen: '],
    ['server.listen port too long', (c: Config) => (c.server.listen = 'localhost:123456'), 'server.listen: '],
    ['server.role unknown', (c: Config) => ((c.server as { role: string }).role = 'everything'), 'server.role: '],
    // Split roles are not built: refused rather than silently run as `all`.
    ['server.role ingest (not built yet)', (c: Config) => ((c.server as { role: string }).role = 'ingest'), 'server.role: '],
    ['writer.maxBatchRows a string', (c: Config) => ((c.writer as { maxBatchRows: unknown }).maxBatchRows = '1000'), 'writer.maxBatchRows: '],
    ['writer.maxBatchRows zero', (c: Config) => (c.writer.maxBatchRows = 0), 'writer.maxBatchRows: '],
    ['writer.flushIntervalMs fractional', (c: Config) => (c.writer.flushIntervalMs = 1.5), 'writer.flushIntervalMs: '],
    ['writer.fsync a string', (c: Config) => ((c.writer as { fsync: unknown }).fsync = 'yes'), 'writer.fsync: '],
    ['storage.dataDir empty', (c: Config) => (c.storage.dataDir = ''), 'storage.dataDir: '],
    ['storage.clickhouseUrl not http', (c: Config) => (c.storage.clickhouseUrl = 'tcp://ch:9000'), 'storage.clickhouseUrl: '],
    ['storage.database with a dash', (c: Config) => (c.storage.database = 'my-db'), 'storage.database: '],
    ['storage.retentionDays zero', (c: Config) => (c.storage.retentionDays = 0), 'storage.retentionDays: '],
    ['storage.foo unknown', (c: Config) => ((c.storage as Record<string, unknown>).foo = 1), 'storage.foo: unknown key'],
    ['unknown section', (c: Config) => ((c as unknown as Record<string, unknown>).extra = {}), 'extra: unknown key'],
    ['storage.cluster without clickhouseUrl', (c: Config) => (c.storage.cluster = 'prod'), 'storage.cluster: '],
  ])('validateConfig refuses %s', (_what, patch, prefix) => {
    const problems = problemsOf(() => validateConfig(withDefaults(patch)));
    expect(problems.some((p) => p.startsWith(prefix)), problems.join('\n')).toBe(true);
  });

  it('accepts storage.cluster with a clickhouseUrl', () => {
    const config = validateConfig(withDefaults((c) => Object.assign(c.storage, { cluster: 'prod', clickhouseUrl: 'http://ch:8123' })));
    expect(config.storage.cluster).toBe('prod');
  });

  it('refuses values that pass a type check but fail at run time: a port above 65535, timers past 2^31 ms, 4 GiB of decompression', () => {
    expect(problemsOf(() => validateConfig(withDefaults((c) => (c.server.listen = '127.0.0.1:99999')))).join('\n')).toMatch(/server\.listen/);
    expect(validateConfig(withDefaults((c) => (c.server.listen = '127.0.0.1:65535'))).server.listen).toBe('127.0.0.1:65535');
    expect(problemsOf(() => validateConfig(withDefaults((c) => (c.notifications.timeoutMs = 2 ** 31)))).join('\n')).toMatch(/notifications\.timeoutMs/);
    expect(problemsOf(() => validateConfig(withDefaults((c) => (c.ingest.maxDecompressedBytes = 2 ** 32)))).join('\n')).toMatch(/ingest\.maxDecompressedBytes/);
  });

  it('takes notifications.incidentUrl only as an http(s) URL with one {id} in it', () => {
    const url = 'https://grafana.example.net/d/incidents?var-incident={id}';
    expect(validateConfig(withDefaults((c) => (c.notifications.incidentUrl = url))).notifications.incidentUrl).toBe(url);
    for (const bad of ['https://vigil.example.net/incidents', 'vigil.example.net/{id}', 'https://x/{id}/{title}', 'https://x/{id} y', 'https://x/a|b/{id}']) {
      expect(problemsOf(() => validateConfig(withDefaults((c) => (c.notifications.incidentUrl = bad)))).join('\n')).toMatch(/notifications\.incidentUrl/);
    }
  });

  it('ignores __proto__ keys in the file instead of writing them into Object.prototype', () => {
    const path = writeConfig('server:\n  __proto__:\n    polluted: yes\n');
    loadConfig({ VIGIL_CONFIG: path });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a non-object candidate', () => {
    expect(problemsOf(() => validateConfig(null)).length).toBeGreaterThan(0);
    expect(problemsOf(() => validateConfig('config')).length).toBeGreaterThan(0);
  });

  it('a missing config file names the file', () => {
    const path = join(dir, 'does-not-exist.yaml');
    const problems = problemsOf(() => loadConfig({ VIGIL_CONFIG: path }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(path);
    expect(problems[0]).toContain('VIGIL_CONFIG');
  });

  it('invalid YAML names the file', () => {
    const path = writeConfig('server:\n  listen: [unclosed\n');
    const problems = problemsOf(() => loadConfig({ VIGIL_CONFIG: path }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(path);
    expect(problems[0]).toContain('not valid YAML');
  });

  it.each(['- a\n- b\n', '42\n', 'just text\n'])('a YAML file that is not a mapping (%j) names the file', (text) => {
    const path = writeConfig(text);
    const problems = problemsOf(() => loadConfig({ VIGIL_CONFIG: path }));
    expect(problems).toEqual([`${path}: must be a YAML mapping of sections`]);
  });
});

describe('loadConfig: result', () => {
  it('is deeply frozen', () => {
    const config = loadConfig({ VIGIL_CONFIG: writeConfig(fileYaml) });
    expect(Object.isFrozen(config)).toBe(true);
    for (const section of Object.values(config)) expect(Object.isFrozen(section)).toBe(true);
    expect(() => {
      (config.server as { listen: string }).listen = '0.0.0.0:1';
    }).toThrow(TypeError);
    expect(() => {
      (config as { log: unknown }).log = {};
    }).toThrow(TypeError);
    expect(config.server.listen).toBe('0.0.0.0:9999');
  });

  it('returns fresh objects: two loads do not share state, defaults stay unfrozen', () => {
    const a = loadConfig({});
    const b = loadConfig({});
    expect(a).not.toBe(b);
    expect(a.storage).not.toBe(defaultConfig.storage);
    expect(Object.isFrozen(defaultConfig)).toBe(false);
  });
});

describe('validateConfig: escalation policy and routes', () => {
  const route = (name: string) => ({ name, url: 'http://127.0.0.1:1/hook', format: 'json' as const, kinds: [] });

  it('defaults to one level reached on an SLA breach', () => {
    expect(defaultConfig.incidents.escalation.levels).toEqual([{ onBreach: true, routes: [] }]);
  });

  it('accepts levels naming configured routes', () => {
    const config = validateConfig(
      withDefaults((c) => {
        c.notifications.routes = [route('lead'), route('manager')];
        c.incidents.escalation.levels = [{ afterMs: 600_000, routes: ['lead'] }, { afterMs: 1_800_000, onBreach: true, routes: ['manager'] }];
      }),
    );
    expect(config.incidents.escalation.levels).toHaveLength(2);
  });

  it('names the key of every problem', () => {
    const problems = problemsOf(() =>
      validateConfig(
        withDefaults((c) => {
          c.notifications.routes = [route('lead'), route('lead')];
          c.incidents.escalation.levels = [{ afterMs: 600_000, routes: ['pager'] }, { routes: ['lead'] }];
        }),
      ),
    );
    expect(problems).toEqual([
      'notifications.routes.1.name: duplicate route name "lead"',
      'incidents.escalation.levels.0.routes: unknown route "pager"; configured routes (notifications.routes): lead, lead',
      'incidents.escalation.levels.1: needs afterMs or onBreach: true (what reaches level 2)',
    ]);
  });

  it('refuses unknown and ill-typed level keys through the schema', () => {
    const problems = problemsOf(() =>
      validateConfig(withDefaults((c) => (c.incidents.escalation.levels = [{ afterMs: -1, routes: [], after: 5 } as never]))),
    );
    expect(problems).toContain('incidents.escalation.levels.0.after: unknown key');
    expect(problems.some((p) => p.startsWith('incidents.escalation.levels.0.afterMs: '))).toBe(true);
  });

  it('takes a repeat of the highest afterMs level, and refuses one with no such level or a page storm', () => {
    const config = validateConfig(
      withDefaults((c) => {
        c.incidents.escalation.levels = [{ afterMs: 600_000, routes: [] }];
        c.incidents.escalation.repeat = { intervalMs: 900_000, times: 3 };
      }),
    );
    expect(config.incidents.escalation.repeat).toEqual({ intervalMs: 900_000, times: 3 });
    expect(problemsOf(() => validateConfig(withDefaults((c) => (c.incidents.escalation.repeat = { intervalMs: 900_000, times: 3 }))))).toEqual([
      'incidents.escalation.repeat: repeats the highest level with afterMs, and no level has one',
    ]);
    const storm = problemsOf(() =>
      validateConfig(
        withDefaults((c) => {
          c.incidents.escalation.levels = [{ afterMs: 600_000, routes: [] }];
          c.incidents.escalation.repeat = { intervalMs: 1_000, times: 0 };
        }),
      ),
    );
    expect(storm.some((p) => p.startsWith('incidents.escalation.repeat.intervalMs: '))).toBe(true);
    expect(storm.some((p) => p.startsWith('incidents.escalation.repeat.times: '))).toBe(true);
  });
});

describe('validateConfig: server.auth', () => {
  const hex = 'ab'.repeat(32);
  it('takes tokens given as the secret or its SHA-256, each with scopes', () => {
    const config = validateConfig(
      withDefaults((c) => {
        c.server.auth = { tokens: [{ name: 'prometheus', token: 'x'.repeat(16), scopes: ['write'] }, { name: 'grafana', tokenSha256: hex, scopes: ['read'] }] };
      }),
    );
    expect(config.server.auth?.tokens.map((t) => t.name)).toEqual(['prometheus', 'grafana']);
  });

  it('names each problem: both or neither secret, a duplicate name, a short token, no scopes', () => {
    const problems = problemsOf(() =>
      validateConfig(
        withDefaults((c) => {
          c.server.auth = {
            tokens: [
              { name: 'a', token: 'x'.repeat(16), tokenSha256: hex, scopes: ['write'] },
              { name: 'a', scopes: ['read'] },
            ],
          };
        }),
      ),
    );
    expect(problems).toEqual([
      'server.auth.tokens.0: give token or tokenSha256, one of the two',
      'server.auth.tokens.1: give token or tokenSha256, one of the two',
      'server.auth.tokens.1.name: duplicate token name "a"',
    ]);
    const schema = problemsOf(() => validateConfig(withDefaults((c) => (c.server.auth = { tokens: [{ name: 'b', token: 'short-secret', scopes: [] }] }))));
    expect(schema.some((p) => p.startsWith('server.auth.tokens.0.token: '))).toBe(true);
    expect(schema.some((p) => p.startsWith('server.auth.tokens.0.scopes: '))).toBe(true);
    // Problems reach logs: the secret is not repeated there.
    expect(schema.join('\n')).not.toContain('short-secret');
  });

  it('refuses a token no header can carry, one secret under two names, and the reserved route name', () => {
    const spaced = problemsOf(() => validateConfig(withDefaults((c) => (c.server.auth = { tokens: [{ name: 'a', token: 'has a space inside it', scopes: ['read'] }] }))));
    expect(spaced.some((p) => p.startsWith('server.auth.tokens.0.token: '))).toBe(true);
    const secret = 'the-one-shared-secret';
    const twice = problemsOf(() =>
      validateConfig(
        withDefaults((c) => {
          c.server.auth = { tokens: [{ name: 'a', token: secret, scopes: ['read'] }, { name: 'b', tokenSha256: createHash('sha256').update(secret).digest('hex'), scopes: ['operate'] }] };
        }),
      ),
    );
    expect(twice).toEqual(['server.auth.tokens.1: the same secret as token "a"']);
    const reserved = problemsOf(() => validateConfig(withDefaults((c) => (c.notifications.routes = [{ name: '(removed)', url: 'http://127.0.0.1:1/hook', format: 'json', kinds: [] }]))));
    expect(reserved).toContain('notifications.routes: the name (removed) is reserved (metrics of routes no longer configured)');
  });
});
