import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseApprovalKeys } from '../../core/approval/token';

/**
 * Approval signing keys without Secrets Manager: from `STEPLINE_APPROVAL_KEYS` (comma-separated, current first),
 * or, for the local runtime, a key generated once into a file of its state folder (mode 0600) so that links
 * survive a restart.
 */
export function approvalKeysFromEnv(value: string | undefined): string[] {
  return parseApprovalKeys(value);
}

export function approvalKeyFile(path: string): string[] {
  try {
    return approvalKeysFromEnv(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dirname(path), { recursive: true });
    const key = randomBytes(32).toString('base64url');
    writeFileSync(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return [key];
  }
}
