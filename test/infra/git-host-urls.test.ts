import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { afterAll, describe, expect, it } from 'vitest';
import { SIGN_IN_ENV } from '../../core/contracts/environment';
import { STATUS_ENV } from '../../core/status/contracts';
import { createApp } from '../../infra/bin/create-app';
import { parseGitHostUrls } from '../../infra/bin/git-host-urls';
import { Approvals } from '../../infra/constructs/Approvals';
import { InfraError } from '../../infra/errors';
import { REPO_ROOT, SKIP_BUNDLING, scratchProject, testStack } from './helpers';

/**
 * The `gitHostUrls` context (docs/adr/0117): GitHub Enterprise Server and self-managed GitLab on AWS. The parser, and
 * the whole app synthesized with it: every function that talks to a Git host gets the API URLs, no other does.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'stepline-git-hosts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A configuration with a GitOps environment, so that the deploy functions write to a configuration repository. */
const CONFIG = path.join(dir, 'gitops.config.json');
writeFileSync(
  CONFIG,
  JSON.stringify({
    version: 1,
    repositories: [
      {
        provider: 'github',
        name: 'acme/shop',
        branches: [{ pattern: 'main', environments: ['production'] }],
        build: { imageRepository: 'acme/shop' },
        environments: {
          production: {
            cluster: { type: 'eks', name: 'acme-production' },
            namespace: 'shop',
            manifests: 'deploy/production',
            approval: { required: true },
            delivery: {
              type: 'gitops',
              repository: { provider: 'bitbucket', name: 'acme/deploy' },
              path: 'apps/shop',
              format: { type: 'kustomize' },
              controller: { kind: 'Application', name: 'shop' },
            },
          },
        },
      },
    ],
  }),
);

const GHE = 'github=https://ghe.example.com/api/v3';
const GITLAB = 'gitlab=https://code.example.com/gitlab/api/v4/';
const BITBUCKET = 'bitbucket=https://bitbucket-proxy.example.com/2.0,bitbucket.oauth=https://bitbucket.org';

type Lambda = { Type: string; Properties: { Environment?: { Variables?: Record<string, unknown> } } };

/** Each Lambda function of the synthesized stack by its service name (Powertools), else its logical id. */
function functionsOf(context: Record<string, unknown>): Map<string, Record<string, unknown>> {
  const { app, stack } = createApp({
    projectRoot: REPO_ROOT,
    nag: false,
    appProps: { context: { ...SKIP_BUNDLING, config: CONFIG, incidentAlarmPrefix: 'shop-', ...context } },
  });
  const template = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, Lambda> };
  const functions = new Map<string, Record<string, unknown>>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const variables = resource.Properties.Environment?.Variables ?? {};
    functions.set(String(variables.POWERTOOLS_SERVICE_NAME ?? id), variables);
  }
  return functions;
}

const names = (functions: Map<string, Record<string, unknown>>, has: (v: Record<string, unknown>) => boolean) =>
  [...functions].filter(([, variables]) => has(variables)).map(([name]) => name);

describe('the app with -c gitHostUrls', () => {
  const functions = functionsOf({ gitHostUrls: `${GHE},${GITLAB},${BITBUCKET}` });

  it('gives the three API URLs to exactly the functions that talk to a Git host', () => {
    // Assess: statuses, CodeBuild and execution events, the intake's commit lookups, the approval task's status, the
    // comment commands' replies, the pages' sign-in, and the GitOps writes of deploy, rollout and rollback.
    const talking = [
      'stepline-approval',
      'stepline-approval-commands',
      'stepline-approval-http',
      'stepline-build-events',
      'stepline-deploy',
      'stepline-execution-events',
      'stepline-rollback',
      'stepline-rollout',
      'stepline-status',
      'stepline-webhook',
    ];
    expect(names(functions, (v) => STATUS_ENV.githubApiUrl in v).sort()).toEqual(talking);
    for (const name of talking) {
      expect(functions.get(name), name).toMatchObject({
        [STATUS_ENV.githubApiUrl]: 'https://ghe.example.com/api/v3',
        [STATUS_ENV.gitlabApiUrl]: 'https://code.example.com/gitlab/api/v4',
        [STATUS_ENV.bitbucketApiUrl]: 'https://bitbucket-proxy.example.com/2.0',
      });
    }
    // Those that do not talk to a host are there, without the variables.
    for (const name of ['stepline-approval-keeper', 'stepline-analysis', 'stepline-replay', 'stepline-coordination']) {
      expect(functions.get(name), name).toBeDefined();
      expect(Object.keys(functions.get(name) ?? {}).filter((k) => k.endsWith('_API_URL'))).toEqual([]);
    }
  });

  it('gives them to every function that holds the Git host tokens, and to the sign-in pages', () => {
    const withTokens = names(functions, (v) => STATUS_ENV.tokensSecret in v);
    expect(withTokens.length).toBeGreaterThanOrEqual(9);
    expect(names(functions, (v) => STATUS_ENV.gitlabApiUrl in v).sort()).toEqual(
      [...withTokens, 'stepline-approval-http'].sort(),
    );
  });

  it("signs people in at each host's web URL, derived from its API URL or as given", () => {
    expect(names(functions, (v) => SIGN_IN_ENV.github.oauthUrl in v)).toEqual(['stepline-approval-http']);
    expect(functions.get('stepline-approval-http')).toMatchObject({
      [SIGN_IN_ENV.github.oauthUrl]: 'https://ghe.example.com',
      [SIGN_IN_ENV.gitlab.oauthUrl]: 'https://code.example.com/gitlab',
      [SIGN_IN_ENV.bitbucket.oauthUrl]: 'https://bitbucket.org',
    });
  });

  it('sets none of them without the context', () => {
    const plain = functionsOf({});
    expect(names(plain, (v) => Object.keys(v).some((k) => k.endsWith('_API_URL') || k.endsWith('_OAUTH_URL')))).toEqual(
      [],
    );
  });

  it('refuses a bad value by name, before anything is synthesized', () => {
    const refusal = (gitHostUrls: unknown) => {
      try {
        functionsOf({ gitHostUrls });
      } catch (error) {
        if (error instanceof InfraError) return error.message;
        throw error;
      }
      return null;
    };
    expect(refusal('gitea=https://gitea.example.com/api/v1')).toMatch(/^context gitHostUrls: unknown host "gitea"/);
    expect(refusal('github=http://ghe.example.com/api/v3')).toMatch(
      /^context gitHostUrls: github: "http:\/\/ghe\.example\.com\/api\/v3" is not https/,
    );
  });
});

describe('parseGitHostUrls', () => {
  it('reads each host, derives the sign-in URL from the API URL, and drops trailing slashes', () => {
    expect(parseGitHostUrls(` ${GHE} , ${GITLAB},`)).toEqual({
      github: { apiUrl: 'https://ghe.example.com/api/v3', oauthUrl: 'https://ghe.example.com' },
      gitlab: { apiUrl: 'https://code.example.com/gitlab/api/v4', oauthUrl: 'https://code.example.com/gitlab' },
    });
    expect(parseGitHostUrls('github=https://api.acme.ghe.com')).toEqual({
      github: { apiUrl: 'https://api.acme.ghe.com', oauthUrl: 'https://acme.ghe.com' },
    });
    expect(parseGitHostUrls('bitbucket=https://api.bitbucket.org/2.0')).toEqual({
      bitbucket: { apiUrl: 'https://api.bitbucket.org/2.0', oauthUrl: 'https://bitbucket.org' },
    });
  });

  it('takes <host>.oauth over the derived sign-in URL', () => {
    expect(parseGitHostUrls(`${GHE},github.oauth=https://login.example.com/`).github).toEqual({
      apiUrl: 'https://ghe.example.com/api/v3',
      oauthUrl: 'https://login.example.com',
    });
  });

  it('moves no host for no value', () => {
    expect(parseGitHostUrls(undefined)).toEqual({});
    expect(parseGitHostUrls('')).toEqual({});
  });

  it.each([
    ['gitea=https://gitea.example.com', /unknown host "gitea": name github, gitlab or bitbucket/],
    ['github.web=https://ghe.example.com', /unknown host "github\.web"/],
    ['https://ghe.example.com/api/v3', /"https:\/\/ghe\.example\.com\/api\/v3" is not <host>=<URL>/],
    ['github=ghe.example.com/api/v3', /github: "ghe\.example\.com\/api\/v3" is not a URL/],
    ['gitlab=http://gitlab.example.com/api/v4', /gitlab: "http:\/\/gitlab\.example\.com\/api\/v4" is not https/],
    ['github=https://ghe.example.com/api/v3?x=1', /github: https:\/\/ghe\.example\.com\/api\/v3 must have no query/],
    [`${GHE},github=https://other.example.com/api/v3`, /github is given twice/],
    ['gitlab.oauth=https://gitlab.example.com', /gitlab\.oauth is given without gitlab=<API URL>/],
    [
      'github=https://ghe.example.com/rest',
      /sign-in URL of github=https:\/\/ghe\.example\.com\/rest cannot be .* add github\.oauth=/,
    ],
    [
      'gitlab=https://gitlab.example.com',
      /sign-in URL of gitlab=https:\/\/gitlab\.example\.com cannot be .* add gitlab\.oauth=/,
    ],
  ])('refuses %j with an InfraError that says what is wrong', (value, message) => {
    expect(() => parseGitHostUrls(value)).toThrow(InfraError);
    expect(() => parseGitHostUrls(value)).toThrow(message);
  });

  it('refuses a value that is not a string, as cdk.json could give', () => {
    expect(() => parseGitHostUrls({ github: 'https://ghe.example.com/api/v3' })).toThrow(
      /^context gitHostUrls: must be a string of <host>=<URL> pairs, got object/,
    );
  });

  it('never shows a password put in a URL', () => {
    const attempt = () => parseGitHostUrls('github=https://ci:ghp_secret0123456789@ghe.example.com/api/v3');
    expect(attempt).toThrow(/github: the URL must not carry a user name or password/);
    expect(attempt).not.toThrow(/ghp_secret/);
  });
});

describe('Approvals with gitHostApiUrls', () => {
  it('refuses a host whose API is moved but whose sign-in is not, naming both props', () => {
    const make = () => {
      const stack = testStack();
      return new Approvals(stack, 'Approvals', {
        projectRoot: scratchProject(['approval']),
        httpApi: new apigw.HttpApi(stack, 'Api'),
        stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Test-pipeline',
        gitHostTokens: secretsmanager.Secret.fromSecretNameV2(stack, 'Tokens', 'stepline/tokens'),
        gitHostApiUrls: { gitlab: 'https://gitlab.example.com/api/v4' },
        signInUrls: { github: { oauthUrl: 'https://ghe.example.com' } },
      });
    };
    expect(make).toThrow(InfraError);
    expect(make).toThrow(
      /gitHostApiUrls\.gitlab is https:\/\/gitlab\.example\.com\/api\/v4 but signInUrls\.gitlab\.oauthUrl/,
    );
  });
});
