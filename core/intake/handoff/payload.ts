import type { Provider } from '../../config/providers';
import { PROVIDERS } from '../../config/providers';
import { MalformedPayloadError } from '../errors';
import { type Json, object, optionalArray, optionalString, string } from '../payload';

/**
 * A hand-off's verified JSON body, read field by field (core/contracts/handoff.ts, `HandoffPayload`): anything
 * missing or of the wrong type throws `MalformedPayloadError`, naming the field. Only the shape is checked here;
 * what the configuration allows is `check.ts`'s.
 */

export interface HandoffBody {
  readonly repository: string;
  readonly provider: Provider | null;
  readonly commit: string;
  readonly ref: { readonly kind: 'branch' | 'tag'; readonly name: string; readonly fullName: string };
  readonly image: string;
  readonly manifests: string | null;
  readonly environments: readonly string[] | null;
  readonly tests: boolean;
  readonly cloneUrl: string | null;
  /** The other CI's build page, linked from the build context. */
  readonly buildUrl: string | null;
}

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** A Git ref's short name: no spaces, no `..`, none of `~^:?*[\`, not starting with `-` or `/` (git check-ref-format). */
const REF_NAME = /^(?![-/])(?!.*\.\.)(?!.*\/\/)[^\s~^:?*[\\]+(?<![/.])$/;

function readRef(value: string): HandoffBody['ref'] {
  let kind: 'branch' | 'tag' = 'branch';
  let name = value;
  if (value.startsWith('refs/heads/')) name = value.slice('refs/heads/'.length);
  else if (value.startsWith('refs/tags/')) {
    kind = 'tag';
    name = value.slice('refs/tags/'.length);
  } else if (value.startsWith('refs/')) {
    throw new MalformedPayloadError('ref', 'refs/heads/<branch>, refs/tags/<tag> or a branch name');
  }
  if (!REF_NAME.test(name)) throw new MalformedPayloadError('ref', 'a valid branch or tag name');
  return { kind, name, fullName: `refs/${kind === 'branch' ? 'heads' : 'tags'}/${name}` };
}

function readEnvironments(body: Json): readonly string[] | null {
  const list = optionalArray(body, 'environments', 'environments');
  if (list === null) return null;
  return list.map((value, i) => {
    if (typeof value !== 'string' || value.length === 0) {
      throw new MalformedPayloadError(`environments[${i}]`, 'an environment name');
    }
    return value;
  });
}

export function readHandoffBody(parsed: unknown): HandoffBody {
  const body = object(parsed, '(root)');
  const commit = string(body, 'commit', 'commit').toLowerCase();
  if (!FULL_SHA.test(commit)) throw new MalformedPayloadError('commit', 'the full commit SHA (40 hex digits)');
  const provider = optionalString(body, 'provider', 'provider');
  if (provider !== null && !(PROVIDERS as readonly string[]).includes(provider)) {
    throw new MalformedPayloadError('provider', `one of ${PROVIDERS.join(', ')}`);
  }
  const tests = body['tests'];
  if (tests !== undefined && tests !== null && typeof tests !== 'boolean') {
    throw new MalformedPayloadError('tests', 'true or false');
  }
  const cloneUrl = optionalString(body, 'cloneUrl', 'cloneUrl');
  if (cloneUrl !== null && !/^https:\/\/\S+$/.test(cloneUrl))
    throw new MalformedPayloadError('cloneUrl', 'an https URL');
  const buildUrl = optionalString(body, 'buildUrl', 'buildUrl');
  if (buildUrl !== null && !/^https?:\/\/\S+$/.test(buildUrl))
    throw new MalformedPayloadError('buildUrl', 'an http(s) URL');
  return {
    repository: string(body, 'repository', 'repository'),
    provider: provider as Provider | null,
    commit,
    ref: readRef(string(body, 'ref', 'ref')),
    image: string(body, 'image', 'image'),
    manifests: optionalString(body, 'manifests', 'manifests') || null,
    environments: readEnvironments(body),
    tests: tests === true,
    cloneUrl,
    buildUrl,
  };
}
