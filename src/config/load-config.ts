import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { validateEscalationLevels } from '../incidents/escalation.js';
import { ConfigSchema, defaultConfig, REMOVED_ROUTE, type Config } from './config.schema.js';
import { deepFreeze, isRecord } from '../shared/objects.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Reads the YAML file named by VIGIL_CONFIG (if any), applies the environment overrides of
 * api.md, fills defaults and validates. Throws ConfigError listing every problem.
 * This is the only place that reads process.env (passed in as `env`).
 */
export function loadConfig(env: Env, overrides: Record<string, unknown> = {}): Readonly<Config> {
  const fromFile = env.VIGIL_CONFIG ? readConfigFile(env.VIGIL_CONFIG) : {};
  const merged = deepMerge(deepMerge(structuredClone(defaultConfig) as unknown as Record<string, unknown>, fromFile), overrides);
  applyEnv(merged, env);
  return validateConfig(merged);
}

/** Validates a full config object; throws ConfigError naming each bad key and what is allowed. */
export function validateConfig(candidate: unknown): Readonly<Config> {
  const problems = [...Value.Errors(ConfigSchema, candidate)].map((e) => describeProblem(e.path, e.message, e.value));
  if (candidate && typeof candidate === 'object') {
    const storage = (candidate as { storage?: { cluster?: unknown; clickhouseUrl?: unknown } }).storage;
    if (storage?.cluster !== undefined && storage.clickhouseUrl === undefined) {
      problems.push('storage.cluster: needs storage.clickhouseUrl (CLICKHOUSE_URL); the embedded engine has no cluster');
    }
  }
  if (problems.length === 0) problems.push(...crossChecks(candidate as Config));
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(candidate as Config);
}

/** Checks across keys, on a config of the right shape: route names unique, escalation levels sound, the incident URL template. */
function crossChecks(config: Config): string[] {
  const problems: string[] = [];
  const names = config.notifications.routes.map((r) => r.name);
  names.forEach((name, index) => {
    if (names.indexOf(name) !== index) problems.push(`notifications.routes.${index}.name: duplicate route name ${JSON.stringify(name)}`);
  });
  for (const problem of validateEscalationLevels(config.incidents.escalation.levels, names)) problems.push(`incidents.escalation.${problem}`);
  const tokenNames = new Set<string>();
  const tokenDigests = new Map<string, string>();
  config.server.auth?.tokens.forEach((token, index) => {
    if ((token.token === undefined) === (token.tokenSha256 === undefined)) problems.push(`server.auth.tokens.${index}: give token or tokenSha256, one of the two`);
    if (tokenNames.has(token.name)) problems.push(`server.auth.tokens.${index}.name: duplicate token name ${JSON.stringify(token.name)}`);
    tokenNames.add(token.name);
    // One secret under two names: the first would take every request, the second's scopes never apply.
    const digest = token.tokenSha256?.toLowerCase() ?? (token.token !== undefined ? createHash('sha256').update(token.token).digest('hex') : undefined);
    if (digest !== undefined && tokenDigests.has(digest)) problems.push(`server.auth.tokens.${index}: the same secret as token ${JSON.stringify(tokenDigests.get(digest))}`);
    else if (digest !== undefined) tokenDigests.set(digest, token.name);
  });
  if (config.notifications.routes.some((route) => route.name === REMOVED_ROUTE)) problems.push(`notifications.routes: the name ${REMOVED_ROUTE} is reserved (metrics of routes no longer configured)`);
  if (config.incidents.escalation.repeat && !config.incidents.escalation.levels.some((level) => level.afterMs !== undefined)) {
    problems.push('incidents.escalation.repeat: repeats the highest level with afterMs, and no level has one');
  }
  const { incidentUrl } = config.notifications;
  // No spaces, |, < or >: Slack's link syntax <url|text> could not hold them.
  if (incidentUrl !== undefined && !/^https?:\/\/[^{}\s|<>]*\{id\}[^{}\s|<>]*$/.test(incidentUrl)) {
    problems.push(`notifications.incidentUrl: must be an http(s) URL with {id} where the incident's id goes, and no other braces, spaces, |, < or >; got ${JSON.stringify(incidentUrl)}`);
  }
  return problems;
}

/** Keys whose values are secrets (tokens, passwords). */
const SECRET_KEYS = /(?:^|\.)(?:token|tokenSha256|password)$/;

function describeProblem(path: string, message: string, value: unknown): string {
  const key = path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
  if (message.startsWith('Unexpected property')) return `${key}: unknown key`;
  // Error messages reach logs: a secret given wrong is not repeated there.
  if (SECRET_KEYS.test(key)) return `${key}: ${message}`;
  return `${key}: ${message} (got ${JSON.stringify(value)})`;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`VIGIL_CONFIG: cannot read ${path}: ${(error as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError([`${path}: not valid YAML: ${(error as Error).message}`]);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError([`${path}: must be a YAML mapping of sections`]);
  return parsed as Record<string, unknown>;
}

function applyEnv(config: Record<string, unknown>, env: Env): void {
  // An empty value means "not set" (a blank line in an env file), except where empty is a
  // real value: a ClickHouse password may be empty while the file names one.
  const set = (section: string, key: string, value: string | undefined, emptyIsValue = false) => {
    if (value === undefined || (value === '' && !emptyIsValue)) return;
    const target = (config[section] ??= {}) as Record<string, unknown>;
    target[key] = value;
  };
  set('server', 'listen', env.VIGIL_LISTEN);
  set('storage', 'dataDir', env.VIGIL_DATA_DIR);
  set('storage', 'clickhouseUrl', env.CLICKHOUSE_URL);
  set('storage', 'user', env.CLICKHOUSE_USER);
  set('storage', 'password', env.CLICKHOUSE_PASSWORD, true);
  set('storage', 'database', env.CLICKHOUSE_DATABASE);
  set('log', 'level', env.VIGIL_LOG_LEVEL);
}

/** Keys that would reach Object.prototype through an assignment (a YAML `__proto__:` key). */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(extra)) {
    if (UNSAFE_KEYS.has(key)) continue;
    const current = base[key];
    if (isRecord(current) && isRecord(value)) deepMerge(current, value);
    else base[key] = value;
  }
  return base;
}


