import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { approvalKeyFile, approvalKeysFromEnv } from '../../adapters/local/approvals-keys';
import type { RuntimeSettings } from '../store';
import type { Env } from './config';

/**
 * The runtime's secrets, each given or else made once and kept in the state folder (0600): the webhook secret
 * (`webhook-secret`), the approval link keys (`STEPLINE_APPROVAL_KEYS`, else `approval-keys`) and the engine's task
 * token secret (in the state file's settings).
 */
export interface RuntimeSecrets {
  readonly webhookSecret: string;
  readonly approvalKeys: readonly string[];
  readonly tokenSecret: string;
}

export function runtimeSecrets(options: {
  readonly stateDir: string;
  readonly env: Env;
  readonly settings: RuntimeSettings;
  readonly givenSecret: string | undefined;
}): RuntimeSecrets {
  const { stateDir, env } = options;
  const webhookSecret =
    options.givenSecret ?? secretFile(join(stateDir, 'webhook-secret'), () => randomBytes(24).toString('base64url'));
  const approvalKeys = env['STEPLINE_APPROVAL_KEYS']
    ? approvalKeysFromEnv(env['STEPLINE_APPROVAL_KEYS'])
    : approvalKeyFile(join(stateDir, 'approval-keys'));
  const tokenSecret = options.settings.getOrCreate('task-token-secret', () => randomBytes(32).toString('base64url'));
  return { webhookSecret, approvalKeys, tokenSecret };
}

/** The secret kept in `path`, made by `make` and written 0600 the first time. */
function secretFile(path: string, make: () => string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return value;
}
