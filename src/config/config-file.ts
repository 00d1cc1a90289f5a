import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseDocument, YAMLParseError } from 'yaml';
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

/**
 * Parse errors say where, never what: parsers quote the text around the error, and a secret
 * written in the file may stand right there.
 */
function parseText(text: string, format: 'JSON' | 'YAML'): unknown {
  if (format === 'JSON') {
    try {
      return JSON.parse(text);
    } catch {
      // JSON.parse tells no line; the YAML parser, which reads JSON too, usually can.
      throw new ConfigError([`--config is not valid JSON${whereYamlFails(text)}`]);
    }
  }
  const document = parseDocument(text, { prettyErrors: false });
  const [error] = document.errors;
  if (error) throw new ConfigError([`--config is not valid YAML${describeYamlError(error, text)}`]);
  // Empty YAML is "no settings", not an error.
  return document.toJS() ?? {};
}

function whereYamlFails(text: string): string {
  const [error] = parseDocument(text, { prettyErrors: false }).errors;
  return error ? describeYamlError(error, text) : '';
}

function describeYamlError(error: YAMLParseError, text: string): string {
  const before = text.slice(0, error.pos[0]).split('\n');
  return ` (${error.code} at line ${before.length}, column ${before.at(-1)!.length + 1})`;
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
