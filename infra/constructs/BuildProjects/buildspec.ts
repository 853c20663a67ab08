// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are shell commands, where ${VAR} is shell syntax.

/** The variables the image build exports (buildspec `env.exported-variables`), read by the workflow from the build result. */
export const EXPORTED_VARIABLES = ['IMAGE_DIGEST', 'MANIFESTS_LOCATION'] as const;

/**
 * What both image buildspecs do first: stop at the first error, check the repository, choose the tag, and check
 * that the source is the commit the pipeline runs for (`SourceVersion` names it with its ref, ADR 0065).
 */
const PREPARE = [
  'set -euo pipefail',
  ': "${IMAGE_REPOSITORY:?the workflow passes IMAGE_REPOSITORY (the ECR repository name)}"',
  'IMAGE_TAG="${IMAGE_TAG:-$CODEBUILD_RESOLVED_SOURCE_VERSION}"',
  'if [ -n "${STEPLINE_COMMIT:-}" ] && [ "$CODEBUILD_RESOLVED_SOURCE_VERSION" != "$STEPLINE_COMMIT" ]; then echo "the source is at $CODEBUILD_RESOLVED_SOURCE_VERSION, not at the commit $STEPLINE_COMMIT this run builds" >&2; exit 1; fi',
];

/**
 * Uploads, for each path of `STEPLINE_MANIFESTS` (one a line: the `manifests` of the run's environments, relative
 * to the repository root), the manifest files there to the same path under `MANIFESTS_LOCATION`: the deploy
 * function reads `<MANIFESTS_LOCATION>/<environment's manifests>`, a file or every .yaml/.yml/.json below a folder
 * (core/deploy/location.ts, adapters/aws/artifacts.ts). A path that is not in the repository fails the build.
 */
export const UPLOAD_MANIFESTS = [
  'set -euo pipefail',
  'while IFS= read -r path; do',
  '  [ -n "$path" ] || continue',
  '  rel="$(realpath -m --relative-to=. -- "$path")"',
  '  case "$rel" in ..|../*) echo "the manifests path $path leaves the repository" >&2; exit 1 ;; .) rel="" ;; esac',
  '  target="$MANIFESTS_LOCATION${rel:+/$rel}"',
  '  if [ -d "${rel:-.}" ]; then',
  "    aws s3 cp --recursive --only-show-errors --exclude '*' --include '*.yaml' --include '*.yml' --include '*.json' \"${rel:-.}\" \"$target\"",
  '  elif [ -f "$rel" ]; then',
  '    aws s3 cp --only-show-errors "$rel" "$target"',
  '  else',
  '    echo "an environment reads its manifests at $path, which is not in the repository at ${STEPLINE_COMMIT:-this commit}" >&2; exit 1',
  '  fi',
  '  echo "manifests $path: $target"',
  'done <<< "${STEPLINE_MANIFESTS:-}"',
].join('\n');

/**
 * The image build's default buildspec, for a repository that names no buildspec of its own: Docker build, push by
 * commit SHA, upload the manifests the run's environments read, export the digest and the manifests location.
 */
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
          'MANIFESTS_LOCATION="s3://$ARTIFACTS_BUCKET/manifests/$IMAGE_REPOSITORY/$IMAGE_TAG"',
          UPLOAD_MANIFESTS,
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
