import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Buildspec, isInlineBuildspec, parseBuildspec } from './buildspec';
import { BuildInputError, BuildspecError } from './errors';
import { parseSourceVersion, type SourceVersion } from './source-version';

/**
 * DOWNLOAD_SOURCE: the clone at the version a build asks for, and its buildspec. The clone runs in the runtime's
 * own process tree (outside any sandbox: it needs the network and the Git host's credentials a user has set up),
 * with git's prompts off.
 */

/** The checkout script's exit status when the clone itself failed. */
const CLONE_FAILED = 10;

/**
 * DOWNLOAD_SOURCE in one process (`bash -c`, arguments: location, folder, ref, version or empty, reference to fetch
 * or empty): clone without a checkout, check out the ref detached (a version that is not in the clone is fetched by
 * name, else taken as `origin/<version>`), print the commit. With a reference to fetch (`refs/pull/7/head^{<sha>}`,
 * `pr/7`: see source-version.ts), fetch it, check that the commit is in its history, and check the commit out.
 * One process instead of three: the runtime's process forks each child, which blocks its event loop for 5 to 10 ms
 * a time.
 *
 * `--shared`: a clone of a local path borrows the objects of the repository it clones (objects/info/alternates)
 * instead of linking every loose object into a new folder, about 40 ms less on this kind of disk. A build only
 * adds objects of its own; git ignores the flag for URLs (docs/adr/0086). A sandboxed build's clone (sixth argument
 * `copy`) copies the objects instead: the sandbox does not see the repository it was cloned from, and must not write
 * to its objects through hard links.
 */
const CHECKOUT_SCRIPT = [
  'location=$1 dir=$2 ref=$3 version=$4 fetch=$5 mode=$6',
  'checkout() { git -c advice.detachedHead=false checkout --quiet --detach "$1" 2>&1 >/dev/null; }',
  'if [ "$mode" = copy ]; then objects=--no-hardlinks; else objects=--shared; fi',
  `if ! out=$(git clone --quiet "$objects" --no-checkout -- "$location" "$dir" 2>&1 >/dev/null); then printf '%s\\n' "$out" >&2; exit ${CLONE_FAILED}; fi`,
  `cd "$dir" || exit ${CLONE_FAILED}`,
  'if [ -n "$fetch" ]; then',
  `  if ! out=$(git fetch --quiet origin "$fetch" 2>&1 >/dev/null); then printf '%s\\n' "$out" >&2; exit 11; fi`,
  '  if [ "$ref" != FETCH_HEAD ] && ! git merge-base --is-ancestor "$ref" FETCH_HEAD >/dev/null 2>&1; then',
  `    printf 'commit %s is not in the history of %s\\n' "$ref" "$fetch" >&2; exit 11`,
  '  fi',
  `  if ! out=$(checkout "$ref"); then printf '%s\\n' "$out" >&2; exit 11; fi`,
  'elif ! out=$(checkout "$ref"); then',
  `  if [ -z "$version" ]; then printf '%s\\n' "$out" >&2; exit 11; fi`,
  '  if git fetch --quiet origin "$version" >/dev/null 2>&1; then target=FETCH_HEAD; else target="origin/$version"; fi',
  `  if ! out=$(checkout "$target"); then printf '%s\\n' "$out" >&2; exit 11; fi`,
  'fi',
  'git rev-parse HEAD',
].join('\n');

/** Runs a command to its end, collecting its output. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    child.on('error', (error) => resolvePromise({ code: 127, stdout, stderr: `${stderr}${error.message}` }));
    child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
  });
}

/** Clones `location` into `srcDir` at `version` (default HEAD); answers the commit checked out. */
export async function cloneSource(
  location: string,
  version: string | undefined,
  srcDir: string,
  log: (text: string) => void,
  objects: 'shared' | 'copy' = 'shared',
): Promise<string> {
  const gitEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0' };
  const parsed: SourceVersion = version ? parseSourceVersion(version) : { kind: 'name', name: 'HEAD' };
  const ref = parsed.kind === 'ref' ? parsed.commit : parsed.name;
  const [byName, fetch] = parsed.kind === 'ref' ? ['', parsed.ref] : [version ?? '', ''];
  log(`Cloning ${location}`);
  const out = await run(
    'bash',
    ['--noprofile', '--norc', '-c', CHECKOUT_SCRIPT, 'checkout', location, srcDir, ref, byName, fetch, objects],
    { env: gitEnv },
  );
  const reason = out.stderr.trim().split('\n').at(-1);
  if (out.code === CLONE_FAILED)
    throw new BuildInputError(`could not clone ${location}: ${reason || 'git clone failed'}`);
  if (out.code !== 0)
    throw new BuildInputError(`could not check out ${version ?? ref} from ${location}: ${reason ?? ''}`);
  const sha = out.stdout.trim();
  log(`Source is ${location} at ${sha}${version && version !== sha ? ` (${version})` : ''}`);
  return sha;
}

/** The buildspec: inline YAML, or a path inside the source (never outside it). */
export async function readBuildspec(value: string, srcDir: string): Promise<Buildspec> {
  if (isInlineBuildspec(value)) return parseBuildspec(value, 'buildspecOverride');
  const file = resolve(srcDir, value);
  if (!file.startsWith(resolve(srcDir)))
    throw new BuildspecError(`the buildspec path ${value} leaves the source folder`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new BuildspecError(`YAML_FILE_ERROR: the buildspec file ${value} does not exist in the source`);
  }
  return parseBuildspec(text, value);
}
