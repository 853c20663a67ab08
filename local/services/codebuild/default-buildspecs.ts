// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are shell commands, where ${VAR} is shell syntax.

/**
 * The local CodeBuild's own buildspecs for Stepline's projects, the counterparts of those CDK gives the projects on
 * AWS (infra/constructs/BuildProjects/buildspec.ts; ADR 0064). A build that a pipeline starts without a
 * `BuildspecOverride` (the repository names no buildspec) runs the one of its step, as CodeBuild runs the project's:
 *
 * - the image build: the image with buildah through `stepline-build-image` where buildah is installed (no Docker
 *   engine here), else the SHA-256 of the source at the commit as the digest; then each environment's manifests
 *   (`STEPLINE_MANIFESTS`, one path a line) copied to the same path under `file://$STEPLINE_ARTIFACTS_DIR/manifests`,
 *   which it exports as MANIFESTS_LOCATION with IMAGE_DIGEST, where the deploy function reads them;
 * - a fork's image build (untrusted project): the image only, nothing exported; it runs in the sandbox, where buildah
 *   cannot make its namespaces, so its digest is the source's (docs/adr/0088);
 * - a test suite: none (each suite names its buildspec), so the build fails saying so, as on AWS.
 *
 * Each command sets its own shell options: locally every command is a process of its own (shell.ts).
 */

const PREPARE = [
  'set -euo pipefail',
  ': "${IMAGE_REPOSITORY:?the workflow passes IMAGE_REPOSITORY (the image repository name)}"',
  'IMAGE_TAG="${IMAGE_TAG:-$CODEBUILD_RESOLVED_SOURCE_VERSION}"',
  'if [ -n "${STEPLINE_COMMIT:-}" ] && [ "$CODEBUILD_RESOLVED_SOURCE_VERSION" != "$STEPLINE_COMMIT" ]; then',
  '  echo "the source is at $CODEBUILD_RESOLVED_SOURCE_VERSION, not at the commit $STEPLINE_COMMIT this run builds" >&2',
  '  exit 1',
  'fi',
].join('\n');

const BUILD_IMAGE = [
  'set -euo pipefail',
  'IMAGE_NAME="${IMAGE_REPOSITORY_URI:-${ECR_REGISTRY:-local}/$IMAGE_REPOSITORY}:$IMAGE_TAG"',
  'if [ -n "${STEPLINE_SANDBOX:-}" ]; then',
  '  echo "note: this build runs in a sandbox (a pull request from a fork), where buildah cannot run; IMAGE_DIGEST is the SHA-256 of the source at this commit instead"',
  '  IMAGE_DIGEST="sha256:$(git archive --format=tar HEAD | sha256sum | cut -d" " -f1)"',
  'elif command -v buildah >/dev/null 2>&1 && command -v stepline-build-image >/dev/null 2>&1; then',
  '  IMAGE_DIGEST="$(stepline-build-image "$IMAGE_NAME" "${DOCKER_CONTEXT:-.}")"',
  'else',
  '  echo "note: buildah is not installed, so no image is built; IMAGE_DIGEST is the SHA-256 of the source at this commit instead (apt-get install buildah for a real image)"',
  '  IMAGE_DIGEST="sha256:$(git archive --format=tar HEAD | sha256sum | cut -d" " -f1)"',
  'fi',
  'echo "image $IMAGE_NAME: $IMAGE_DIGEST"',
].join('\n');

const COPY_MANIFESTS = [
  'set -euo pipefail',
  'MANIFESTS_LOCATION="file://$STEPLINE_ARTIFACTS_DIR/manifests"',
  'dest="$STEPLINE_ARTIFACTS_DIR/manifests"',
  'mkdir -p "$dest"',
  'while IFS= read -r path; do',
  '  [ -n "$path" ] || continue',
  '  rel="$(realpath -m --relative-to=. -- "$path")"',
  '  case "$rel" in ..|../*) echo "the manifests path $path leaves the repository" >&2; exit 1 ;; .) rel="" ;; esac',
  '  if [ -d "${rel:-.}" ]; then',
  '    mkdir -p "$dest${rel:+/$rel}" && cp -R "${rel:-.}/." "$dest${rel:+/$rel}/"',
  '  elif [ -f "$rel" ]; then',
  '    mkdir -p "$(dirname "$dest/$rel")" && cp "$rel" "$dest/$rel"',
  '  else',
  '    echo "an environment reads its manifests at $path, which is not in the repository at ${STEPLINE_COMMIT:-this commit}" >&2; exit 1',
  '  fi',
  '  echo "manifests $path: $MANIFESTS_LOCATION${rel:+/$rel}"',
  'done <<< "${STEPLINE_MANIFESTS:-}"',
].join('\n');

/** The image build's: the image (or the source's digest), the manifests, IMAGE_DIGEST and MANIFESTS_LOCATION. */
export const LOCAL_IMAGE_BUILDSPEC = JSON.stringify({
  version: '0.2',
  env: { shell: 'bash', 'exported-variables': ['IMAGE_DIGEST', 'MANIFESTS_LOCATION'] },
  phases: {
    pre_build: { commands: [PREPARE] },
    build: { commands: [BUILD_IMAGE] },
    post_build: { commands: [COPY_MANIFESTS] },
  },
});

/** A fork's image build: the image only (into the build's own images folder), nothing exported. */
export const LOCAL_UNTRUSTED_IMAGE_BUILDSPEC = JSON.stringify({
  version: '0.2',
  env: { shell: 'bash' },
  phases: {
    pre_build: { commands: [PREPARE] },
    build: { commands: [BUILD_IMAGE, 'echo "A pull request from a fork: the image is built, not pushed"'] },
  },
});

/** A test suite's: there is none, each suite names its own. */
export const LOCAL_TEST_BUILDSPEC = JSON.stringify({
  version: '0.2',
  phases: {
    build: {
      commands: [`echo "Stepline passes each test suite's buildspec as BuildspecOverride; none was given" >&2; exit 1`],
    },
  },
});

/**
 * The buildspec a build of a Stepline project runs when neither the request nor the project names one: by the
 * step the workflow passes (`STEPLINE_STEP`); undefined for a build no pipeline started (it reads buildspec.yml).
 */
export function localDefaultBuildspec(step: string | undefined, untrusted: boolean): string | undefined {
  if (step === 'build') return untrusted ? LOCAL_UNTRUSTED_IMAGE_BUILDSPEC : LOCAL_IMAGE_BUILDSPEC;
  if (step === 'test') return LOCAL_TEST_BUILDSPEC;
  return undefined;
}
