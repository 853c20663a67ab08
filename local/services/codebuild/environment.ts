import { join } from 'node:path';
import type { ActiveBuild } from './active';
import type { Buildspec } from './buildspec';

/**
 * The environment a build's commands get. CodeBuild's precedence: the buildspec's `env.variables`, then the
 * project's, then the StartBuild overrides; and the `CODEBUILD_*` variables and the local extras (`STEPLINE_*`).
 * Nothing else of the runtime's environment (where the webhook secret and the Git host tokens are): a trusted build
 * gets HOME, LANG, TZ, TMPDIR, USER and TERM from it (and `passEnvironment`); an untrusted (sandboxed) build gets
 * only the locale and the terminal, a HOME and TMPDIR of its own, and none of the variables that point at the
 * runtime (`CODEBUILD_BUILD_URL`, `CODEBUILD_PUBLIC_BUILD_URL`: the runtime's API).
 */

const PASSED_BY_DEFAULT = ['HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'LOGNAME', 'TERM'];
const PASSED_TO_SANDBOX = ['LANG', 'LC_ALL', 'TZ', 'USER', 'LOGNAME', 'TERM'];

export interface BuildFolders {
  readonly srcDir: string;
  readonly artifactsDir: string;
  readonly imagesDir: string;
}

export interface EnvironmentOptions {
  /** The builds' PATH (the tools of tools.ts first). */
  readonly path: string;
  readonly region: string;
  /** Variables of the runtime's own environment that trusted builds also get (besides HOME, LANG, ...). */
  readonly passEnvironment?: readonly string[];
}

export function buildEnvironment(
  build: ActiveBuild,
  buildspec: Buildspec,
  folders: BuildFolders,
  location: string,
  untrusted: boolean,
  options: EnvironmentOptions,
): NodeJS.ProcessEnv {
  const doc = build.doc;
  const env: NodeJS.ProcessEnv = {};
  const passed = untrusted ? PASSED_TO_SANDBOX : [...PASSED_BY_DEFAULT, ...(options.passEnvironment ?? [])];
  for (const name of passed) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  if (untrusted) {
    env['HOME'] = join(build.workDir, 'home');
    env['TMPDIR'] = '/tmp';
  }
  Object.assign(env, buildspec.variables);
  env['PATH'] = options.path;
  env['SHELL'] = '/bin/bash';
  env['AWS_REGION'] = options.region;
  env['AWS_DEFAULT_REGION'] = options.region;
  env['CODEBUILD_BUILD_ARN'] = doc.arn;
  env['CODEBUILD_BUILD_ID'] = doc.id;
  env['CODEBUILD_BUILD_IMAGE'] = doc.environment.image;
  env['CODEBUILD_BUILD_NUMBER'] = String(doc.buildNumber);
  env['CODEBUILD_BUILD_SUCCEEDING'] = '1';
  env['CODEBUILD_INITIATOR'] = doc.initiator;
  env['CODEBUILD_KMS_KEY_ID'] = doc.encryptionKey;
  env['CODEBUILD_LOG_PATH'] = doc.logs.streamName;
  env['CODEBUILD_PROJECT_NAME'] = doc.projectName;
  env['CODEBUILD_RESOLVED_SOURCE_VERSION'] = doc.resolvedSourceVersion ?? '';
  env['CODEBUILD_SOURCE_REPO_URL'] = location;
  env['CODEBUILD_SOURCE_VERSION'] = doc.sourceVersion ?? doc.resolvedSourceVersion ?? '';
  env['CODEBUILD_SRC_DIR'] = folders.srcDir;
  env['CODEBUILD_START_TIME'] = String(doc.startTime);
  if (!untrusted) {
    env['CODEBUILD_BUILD_URL'] = doc.logs.deepLink;
    env['CODEBUILD_PUBLIC_BUILD_URL'] = doc.logs.deepLink;
  } else env['STEPLINE_SANDBOX'] = 'bwrap';
  env['STEPLINE_LOCAL'] = '1';
  env['STEPLINE_ARTIFACTS_DIR'] = folders.artifactsDir;
  env['STEPLINE_IMAGES_DIR'] = folders.imagesDir;
  env['STEPLINE_BUILD_STATE_DIR'] = build.state.dir;
  for (const v of doc.environment.environmentVariables) env[v.name] = v.value;
  return env;
}
