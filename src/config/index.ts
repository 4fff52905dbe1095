export { loadConfig, validateConfig, ConfigError } from './load-config.js';
export { defaultConfig, type Config } from './config.schema.js';
