// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are shell commands, where ${VAR} is shell syntax.

/** The variables the image build exports (buildspec `env.exported-variables`), read by the workflow from the build result. */
export const EXPORTED_VARIABLES = ['IMAGE_DIGEST', 'MANIFESTS_LOCATION'] as const;

/** What both image buildspecs do first: stop at the first error, check the repository, choose the tag. */
const PREPARE = [
  'set -euo pipefail',
  ': "${IMAGE_REPOSITORY:?the workflow passes IMAGE_REPOSITORY (the ECR repository name)}"',
  'IMAGE_TAG="${IMAGE_TAG:-$CODEBUILD_RESOLVED_SOURCE_VERSION}"',
];

/** The image build's default buildspec: Docker build, push by commit SHA, export the digest and manifests location. */
export function imageBuildSpec(): Record<string, unknown> {
  return {
    version: '0.2',
    env: {
      shell: 'bash',
      'exported-variables': [...EXPORTED_VARIABLES],
    },
    phases: {
      pre_build: {
        commands: [
          ...PREPARE,
          'aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "$ECR_REGISTRY"',
        ],
      },
      build: {
        commands: [
          'docker build --tag "$ECR_REGISTRY/$IMAGE_REPOSITORY:$IMAGE_TAG" "${DOCKER_CONTEXT:-.}"',
          'docker push "$ECR_REGISTRY/$IMAGE_REPOSITORY:$IMAGE_TAG"',
        ],
      },
      post_build: {
        commands: [
          'IMAGE_DIGEST="$(docker inspect --format "{{index .RepoDigests 0}}" "$ECR_REGISTRY/$IMAGE_REPOSITORY:$IMAGE_TAG" | cut -d@ -f2)"',
          'MANIFESTS_LOCATION="s3://$ARTIFACTS_BUCKET/manifests/$IMAGE_REPOSITORY/$IMAGE_TAG/"',
          'if [ -d "${MANIFESTS_PATH:-deploy}" ]; then aws s3 cp --recursive "${MANIFESTS_PATH:-deploy}" "$MANIFESTS_LOCATION"; fi',
        ],
      },
    },
    cache: { paths: ['/root/.npm/**/*', '/root/.cache/**/*'] },
  };
}

/**
 * The default buildspec of a run without secrets (a pull request from a fork): the same Docker build, tagged locally
 * and not pushed; nothing is exported (such a run never deploys). `STEPLINE_TRUSTED` is `false` in these builds, for
 * a repository's own buildspec to skip its pushes and uploads.
 */
export function untrustedImageBuildSpec(): Record<string, unknown> {
  return {
    version: '0.2',
    env: { shell: 'bash' },
    phases: {
      pre_build: { commands: [...PREPARE] },
      build: {
        commands: [
          'docker build --tag "$IMAGE_REPOSITORY:$IMAGE_TAG" "${DOCKER_CONTEXT:-.}"',
          'echo "A pull request from a fork: the image is built, not pushed"',
        ],
      },
    },
  };
}

/** The test project's default buildspec; each suite overrides it with its own (BuildspecOverride). */
export function testBuildSpec(): Record<string, unknown> {
  return {
    version: '0.2',
    phases: {
      build: {
        commands: [
          'echo "Stepline passes each test suite\'s buildspec as BuildspecOverride; none was given" >&2',
          'exit 1',
        ],
      },
    },
  };
}
