import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AwsKeyPair, generateKeyPair, isLoopback } from '../server';

/**
 * Who can reach the runtime (docs/adr/0087). On loopback (the default) only this machine; beyond it (`HOST=0.0.0.0`,
 * an address of the machine) only with `--listen-public`, and then the AWS APIs, which run commands (StartBuild
 * with a buildspec), take only requests signed (SigV4) with the runtime's own key pair, generated once into
 * `<state>/aws-credentials` (an AWS CLI credentials file, 0600) and printed once.
 */

export const AWS_CREDENTIALS_FILE = 'aws-credentials';
/** The profile of that file. */
export const AWS_PROFILE = 'stepline';

/** Refuses a listening address beyond loopback unless `listenPublic` says so, naming what that exposes. */
export function checkListenAddress(host: string, listenPublic: boolean): void {
  if (isLoopback(host) || listenPublic) return;
  throw new Error(
    `HOST=${host} would expose the runtime beyond this machine: its console, its JSON API and its approval pages take ` +
      'no sign-in, and its AWS APIs run commands. Listen on 127.0.0.1 (the default), or pass --listen-public to do it ' +
      'anyway (the AWS APIs then require SigV4 with a key pair written to the state folder)',
  );
}

/** The runtime's AWS key pair, generated into the state folder the first time; `log` is told it once. */
export function awsKeyPair(stateDir: string, log: (line: string) => void): AwsKeyPair {
  const file = join(stateDir, AWS_CREDENTIALS_FILE);
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    const id = /aws_access_key_id\s*=\s*(\S+)/.exec(text)?.[1];
    const secret = /aws_secret_access_key\s*=\s*(\S+)/.exec(text)?.[1];
    if (id && secret) return { accessKeyId: id, secretAccessKey: secret };
    throw new Error(`${file} holds no aws_access_key_id and aws_secret_access_key: remove it to make a new pair`);
  }
  const keys = generateKeyPair();
  writeFileSync(
    file,
    `[${AWS_PROFILE}]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n`,
    { mode: 0o600, flag: 'wx' },
  );
  log(
    `the AWS APIs require SigV4 with this key pair (shown once; kept in ${file}): ` +
      `AWS_ACCESS_KEY_ID=${keys.accessKeyId} AWS_SECRET_ACCESS_KEY=${keys.secretAccessKey} ` +
      `(or AWS_SHARED_CREDENTIALS_FILE=${file} AWS_PROFILE=${AWS_PROFILE})`,
  );
  return keys;
}

/** `STEPLINE_ALLOWED_HOSTS`: more names the server answers (comma-separated, `name` or `name:port`). */
export function extraHosts(env: Readonly<Record<string, string | undefined>>): string[] {
  return (env['STEPLINE_ALLOWED_HOSTS'] ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
}
