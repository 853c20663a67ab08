// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are bash scripts, where ${VAR} is shell syntax.
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/**
 * Tools the local builds find on their PATH, in a folder the runtime writes once:
 *
 * - `stepline-build-image NAME [CONTEXT] [-f FILE]`: builds an OCI image with Debian's `buildah` (no Docker engine
 *   needed: `buildah --storage-driver vfs bud --isolation chroot`), writes it as an OCI archive under
 *   `$STEPLINE_IMAGES_DIR`, and prints its manifest digest (`sha256:…`) on standard output, so a buildspec can do
 *   `IMAGE_DIGEST="$(stepline-build-image "$ECR_REGISTRY/$IMAGE_REPOSITORY:$IMAGE_TAG" .)"`. Nothing is pulled from
 *   a registry: base images must be `FROM scratch` or already in the local storage.
 * - `docker` (only where no Docker engine runs): fails every call with a message that says so and names
 *   `stepline-build-image`, and leaves a marker so that the phase's context says it too.
 */

/** Exit status of the `docker` stand-in. */
export const NO_DOCKER_EXIT = 125;
/** File (in the build's state folder) that the `docker` stand-in writes when it is called. */
export const NO_DOCKER_MARKER = 'docker-missing';
export const NO_DOCKER_MESSAGE =
  'this command needs a Docker engine, and none runs on this machine: local builds have no Docker daemon. ' +
  'Build images with `stepline-build-image NAME [CONTEXT]` (buildah, no engine needed) instead.';

function onPath(command: string, path = process.env['PATH'] ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** Whether a Docker engine answers here: a `docker` client and a daemon socket (or DOCKER_HOST). */
export function dockerEngineAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!onPath('docker', env['PATH'])) return false;
  if (env['DOCKER_HOST']) return true;
  return existsSync('/var/run/docker.sock') || existsSync('/run/docker.sock');
}

/** Whether buildah is installed. */
export function buildahAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return onPath('buildah', env['PATH']) !== null;
}

const DOCKER_SHIM = `#!/usr/bin/env bash
# Written by the Stepline local runtime: no Docker engine runs on this machine.
cat >&2 <<'STEPLINE_MESSAGE'
docker: ${NO_DOCKER_MESSAGE}
STEPLINE_MESSAGE
if [ -n "\${STEPLINE_BUILD_STATE_DIR:-}" ]; then : > "$STEPLINE_BUILD_STATE_DIR/${NO_DOCKER_MARKER}"; fi
exit ${NO_DOCKER_EXIT}
`;

const BUILD_IMAGE = `#!/usr/bin/env bash
# stepline-build-image NAME [CONTEXT] [-f|--file CONTAINERFILE]
# Builds an OCI image with buildah (no Docker engine), stores it as an OCI archive under $STEPLINE_IMAGES_DIR and
# prints its manifest digest (sha256:...) on standard output. Progress goes to standard error.
set -euo pipefail
usage() { echo "usage: stepline-build-image NAME [CONTEXT] [-f CONTAINERFILE]" >&2; exit 2; }
name="" context="." file=""
while [ $# -gt 0 ]; do
  case "$1" in
    -f|--file) [ $# -ge 2 ] || usage; file="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) if [ -z "$name" ]; then name="$1"; else context="$1"; fi; shift ;;
  esac
done
[ -n "$name" ] || usage
if [ -n "\${STEPLINE_SANDBOX:-}" ]; then
  echo "stepline-build-image: this build runs in a sandbox (a pull request from a fork), where buildah cannot make the user namespaces it builds in; no image is built" >&2
  exit 2
fi
if ! command -v buildah >/dev/null 2>&1; then
  echo "stepline-build-image: buildah is not installed; install it with: apt-get install -y --no-install-recommends buildah" >&2
  exit 127
fi
if [ -z "$file" ]; then
  if [ -f "$context/Containerfile" ]; then file="$context/Containerfile"; else file="$context/Dockerfile"; fi
fi
[ -f "$file" ] || { echo "stepline-build-image: no $file to build" >&2; exit 2; }
images="\${STEPLINE_IMAGES_DIR:?STEPLINE_IMAGES_DIR is not set: run this inside a Stepline local build}"
root="\${STEPLINE_CONTAINERS_DIR:-$images/.storage}"
mkdir -p "$images" "$root/storage" "$root/run"
store=(--root "$root/storage" --runroot "$root/run" --storage-driver vfs)
echo "stepline-build-image: building $name from $file with buildah (vfs, chroot isolation)" >&2
idfile="$(mktemp)"
buildah "\${store[@]}" bud --quiet --isolation chroot --iidfile "$idfile" -f "$file" -t "$name" "$context" >&2
safe="$(printf '%s' "$name" | tr -c 'A-Za-z0-9._-' '_')"
digestfile="$(mktemp)"
# By its id: buildah resolves a short name (local/app:tag) differently in a user namespace of its own.
buildah "\${store[@]}" push --quiet --digestfile "$digestfile" "$(cat "$idfile")" "oci-archive:$images/$safe.tar" >&2
digest="$(cat "$digestfile")"
rm -f "$digestfile" "$idfile"
echo "stepline-build-image: $name is $digest ($images/$safe.tar)" >&2
printf '%s\\n' "$digest"
`;

/**
 * Writes the tools into `binDir` (created if needed) and returns the PATH for builds: the tools first, then the
 * runtime's own PATH. The `docker` stand-in is written only where no Docker engine runs.
 */
export async function installBuildTools(
  binDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ path: string; docker: boolean; buildah: boolean }> {
  await mkdir(binDir, { recursive: true });
  const docker = dockerEngineAvailable(env);
  const tools: [string, string][] = [['stepline-build-image', BUILD_IMAGE]];
  if (!docker) tools.push(['docker', DOCKER_SHIM], ['docker-compose', DOCKER_SHIM]);
  for (const [name, text] of tools) {
    const file = join(binDir, name);
    await writeFile(file, text, { mode: 0o755 });
    await chmod(file, 0o755);
  }
  return {
    path: `${binDir}${delimiter}${env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin'}`,
    docker,
    buildah: buildahAvailable(env),
  };
}
