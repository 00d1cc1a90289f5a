import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './config-error.js';

/**
 * Reads the config file (JSON for `.json`, YAML otherwise; YAML reads JSON too) and replaces
 * `${NAME}` in its string values by the environment variable NAME. Substitution works on the
 * parsed values, never on the text: a secret holding a quote, a newline or a PEM stays one value
 * and cannot change the file's structure. `$${` stands for a literal `${`.
 */
export function readConfigFile(path: string, env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8');
  } catch (error) {
    throw new ConfigError([`--config cannot be read: ${(error as Error).message}`]);
  }
  const parsed = parseText(text, extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([`--config must hold an object of settings at its top level`]);
  }
  const missing: string[] = [];
  const substituted = substitute(parsed, [], env, missing);
  if (missing.length > 0) throw new ConfigError(missing);
  return substituted as Record<string, unknown>;
}

function parseText(text: string, format: 'JSON' | 'YAML'): unknown {
  try {
    // Empty YAML is "no settings", not an error.
    return format === 'JSON' ? JSON.parse(text) : (parseYaml(text, { prettyErrors: true }) ?? {});
  } catch (error) {
    throw new ConfigError([`--config is not valid ${format}: ${(error as Error).message.split('\n')[0]}`]);
  }
}

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function substitute(value: unknown, path: string[], env: Readonly<Record<string, string | undefined>>, missing: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (match, name: string | undefined) => {
      if (name === undefined) return '${';
      const found = env[name];
      if (found === undefined) {
        missing.push(`${path.join('.')} names the environment variable ${name}, which is not set`);
        return match;
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => substitute(item, [...path, String(index)], env, missing));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, substitute(inner, [...path, key], env, missing)]));
  }
  return value;
}
