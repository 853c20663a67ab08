import { execFileSync } from 'node:child_process';
import { localOAuthClient } from '../../adapters/local/approvals-oauth';
import { PROVIDERS } from '../../core/config/providers';
import type { Provider } from '../../core/config/schema';
import { type HostSignInConfig, signInUrlsFromEnv } from '../../functions/approval/sign-in';

/**
 * The local runtime's one identity (docs/adr/0059): who the console, the CLI and the local approval pages decide
 * as, where no Git host sign-in is set up. `--as` (the runtime option), else the login part of
 * `git config user.email`, else `$USER` (or `$LOGNAME`), else `local`. The console shows it in its header and may
 * change it; the CLI's `--as` names someone else for one command.
 */
const LOGIN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function cleanLogin(value: string | null | undefined): string | null {
  const login = value?.trim() ?? '';
  return LOGIN.test(login) ? login : null;
}

function gitEmailLogin(cwd: string): string | null {
  try {
    const email = execFileSync('git', ['config', 'user.email'], {
      cwd,
      encoding: 'utf8',
      timeout: 2000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return cleanLogin(email.split('@')[0]);
  } catch {
    return null;
  }
}

export function defaultLocalIdentity(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): string {
  return gitEmailLogin(cwd) ?? cleanLogin(env['USER']) ?? cleanLogin(env['LOGNAME']) ?? 'local';
}

/** Each host's sign-in for the local runtime: URLs from `SIGN_IN_ENV`, the client from the environment or the state folder. */
export function localSignInConfig(
  stateDir: string,
  env: Readonly<Record<string, string | undefined>>,
): Record<Provider, HostSignInConfig> {
  const config = {} as Record<Provider, HostSignInConfig>;
  for (const provider of PROVIDERS) {
    config[provider] = { ...signInUrlsFromEnv(env, provider), client: localOAuthClient(stateDir, provider, env) };
  }
  return config;
}
