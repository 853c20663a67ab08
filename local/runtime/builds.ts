import { join } from 'node:path';
import type { MetricsRegistry } from '../server';
import { CodeBuildService, installBuildTools } from '../services/codebuild';
import type { BuildStore, ExecutionStore } from '../store';
import type { Env } from './config';
import { countBuild } from './metrics';
import { ACCOUNT, REGION } from './options';
import { LOCAL_RESOURCES } from './pipeline';
import type { InvokeLater } from './services';
import type { Cleanups } from './shutdown';
import type { Emit } from './stores';

/**
 * The local CodeBuild with the four projects the workflow starts (the trusted build and test projects, and the
 * pair for pull requests from forks), its build tools installed into `<state>/bin`, and its events sent on: to the
 * stream, to the metrics, and to the build-events function, in order for each build.
 */

export interface LocalBuilds {
  readonly codebuild: CodeBuildService;
  /** Which image tools were found (`describe` shows them). */
  readonly tools: { readonly docker: boolean; readonly buildah: boolean };
}

const buildIdOf = (arn: string): string => arn.slice(arn.indexOf(':build/') + 7);

export async function localBuilds(options: {
  readonly stateDir: string;
  readonly env: Env;
  readonly url: string;
  readonly buildMinuteMs: number | undefined;
  readonly builds: BuildStore;
  readonly executions: ExecutionStore;
  readonly metrics: MetricsRegistry;
  readonly emit: Emit;
  readonly invokeLater: InvokeLater;
  readonly cleanups: Cleanups;
}): Promise<LocalBuilds> {
  const { stateDir, env, url, builds, executions, metrics, emit, invokeLater } = options;
  const tools = await installBuildTools(join(stateDir, 'bin'), {
    ...process.env,
    PATH: env['PATH'] ?? process.env['PATH'],
  });
  const codebuild = new CodeBuildService({
    store: builds,
    workRoot: join(stateDir, 'builds'),
    artifactsRoot: join(stateDir, 'artifacts'),
    path: tools.path,
    region: REGION,
    accountId: ACCOUNT,
    logUrl: (id) => `${url}/api/builds/${encodeURIComponent(id)}/log`,
    ...(options.buildMinuteMs !== undefined ? { minuteMs: options.buildMinuteMs } : {}),
    // Fork builds never see the state folder (keys, secrets, database), only the build tools in it (ADR 0088).
    sandbox: { hidden: [stateDir], readOnly: [join(stateDir, 'bin')] },
    onEvent: (event) => {
      const detail = event.detail;
      emit({
        type: 'build',
        detailType: event['detail-type'],
        buildId: buildIdOf(detail['build-id']),
        buildStatus: detail['build-status'],
        phase: detail['completed-phase'] ?? detail['current-phase'] ?? null,
        phaseStatus: detail['completed-phase-status'] ?? null,
      });
      countBuild(metrics, builds, event);
      invokeLater(`build:${detail['build-id']}`, LOCAL_RESOURCES.functions.buildEvents, event);
    },
    defaultSource: async (variables) => {
      const arn = variables.get('STEPLINE_EXECUTION_ARN');
      const record = arn ? executions.getExecution(arn) : undefined;
      if (!record) return undefined;
      const input = JSON.parse(record.input) as { request?: { repository?: { cloneUrl?: string } } };
      return input.request?.repository?.cloneUrl;
    },
  });
  registerProjects(codebuild);
  options.cleanups.add(() => codebuild.stopAll());
  return { codebuild, tools: { docker: tools.docker, buildah: tools.buildah } };
}

function registerProjects(codebuild: CodeBuildService): void {
  const projectVariables = [
    { name: 'ECR_REGISTRY', value: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`, type: 'PLAINTEXT' },
    { name: 'ARTIFACTS_BUCKET', value: LOCAL_RESOURCES.artifactsBucket, type: 'PLAINTEXT' },
  ];
  codebuild.registerProject({
    name: LOCAL_RESOURCES.buildProject,
    description: 'Stepline: builds the image at the commit (local)',
    environmentVariables: projectVariables,
  });
  codebuild.registerProject({
    name: LOCAL_RESOURCES.testProject,
    description: "Stepline: runs one test suite's buildspec at the commit (local)",
    environmentVariables: projectVariables.slice(0, 1),
  });
  // Pull requests from forks: no artifacts bucket, a HOME and an images folder of their own (ADR 0062).
  codebuild.registerProject({
    name: LOCAL_RESOURCES.untrustedBuildProject,
    description: 'Stepline: builds the image of a pull request from a fork, without secrets (local)',
    untrusted: true,
  });
  codebuild.registerProject({
    name: LOCAL_RESOURCES.untrustedTestProject,
    description: 'Stepline: runs one test suite of a pull request from a fork, without secrets (local)',
    untrusted: true,
  });
}
