import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfig, type SteplineConfig, validateConfig } from '../../core/config';
import { checkListenAddress } from './exposure';
import type { RuntimeOptions } from './options';
import { checkWebhookSecret } from './webhook-secret';

/**
 * What the runtime reads before it opens anything: its options with the environment's defaults filled in, checked
 * (a port number, a loopback address unless `listenPublic`, no empty webhook secret), and the pipeline
 * configuration.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export interface StartupSettings {
  readonly env: Env;
  readonly log: (line: string) => void;
  readonly host: string;
  readonly port: number;
  readonly stateDir: string;
  /** The webhook secret given by option or `WEBHOOK_SECRET`; undefined to use (or make) the state folder's. */
  readonly givenSecret: string | undefined;
}

/** The options and environment, checked; throws before anything is opened when one is wrong. */
export function startupSettings(options: RuntimeOptions): StartupSettings {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const host = options.host ?? env['HOST'] ?? '127.0.0.1';
  const port = options.port ?? (env['PORT'] ? Number(env['PORT']) : 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${String(port)}`);
  // Beyond loopback only when asked (ADR 0087); an empty secret never (ADR 0089).
  checkListenAddress(host, options.listenPublic === true);
  const givenSecret =
    checkWebhookSecret(options.webhookSecret, 'the webhookSecret option') ??
    checkWebhookSecret(env['WEBHOOK_SECRET'], 'WEBHOOK_SECRET');
  const stateDir = resolve(options.stateDir ?? env['STEPLINE_STATE_DIR'] ?? '.stepline');
  return { env, log, host, port, stateDir, givenSecret };
}

/** The pipeline configuration: the option, else `STEPLINE_CONFIG`, else `stepline.config.json`, else none. */
export function loadConfig(option: RuntimeOptions['config'], env: Env): SteplineConfig {
  const value =
    option ?? env['STEPLINE_CONFIG'] ?? (existsSync('stepline.config.json') ? 'stepline.config.json' : undefined);
  if (value === undefined) return { version: 1, repositories: [] } as unknown as SteplineConfig;
  if (typeof value !== 'string') return validateConfig(value, 'the runtime options');
  if (value.trimStart().startsWith('{')) return parseConfig(value, 'STEPLINE_CONFIG (inline JSON)');
  const path = resolve(value);
  if (!existsSync(path)) throw new Error(`the configuration ${path} does not exist`);
  return parseConfig(readFileSync(path, 'utf8'), path);
}

/** A positive number from an environment variable, else undefined. */
export function positive(value: string | undefined): number | undefined {
  const n = Number(value);
  return value && Number.isFinite(n) && n > 0 ? n : undefined;
}
