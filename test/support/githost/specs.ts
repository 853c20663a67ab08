import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import type { FakeProvider, RecordedRequest } from './fake-git-host';

/**
 * Checks requests as the fake Git host recorded them against the hosts' own descriptions (./specs): GitHub's
 * OpenAPI request bodies, and fixtures written from GitLab's and Bitbucket's REST documentation. A request whose
 * method and path match no described operation is itself a finding: Stepline calls only what is described.
 */

interface SpecFile {
  readonly operations: Record<string, object>;
  readonly definitions?: Record<string, object>;
  readonly paths?: Record<string, string>;
}

interface Operation {
  readonly method: string;
  readonly path: RegExp;
  readonly params: readonly string[];
  readonly validate: ValidateFunction;
}

const ajv = new Ajv({ allErrors: true, strict: false });
// `format` is documentation here: ISO 8601 timestamps as GitHub writes them.
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);

function load(provider: FakeProvider): { operations: Operation[]; paths: Record<string, string> } {
  const spec = JSON.parse(readFileSync(join(__dirname, 'specs', `${provider}.json`), 'utf8')) as SpecFile;
  const operations = Object.entries(spec.operations).map(([key, schema]) => {
    const [method, template] = key.split(' ') as [string, string];
    const params: string[] = [];
    const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{(\w+)\\?\}|\{(\w+)\}/g, (_, a, b) => {
      params.push(a ?? b);
      return '([^/]+)';
    });
    const validate = ajv.compile({ ...schema, definitions: spec.definitions ?? {} });
    return { method, path: new RegExp(`^${source}$`), params, validate };
  });
  return { operations, paths: spec.paths ?? {} };
}

const SPECS: Record<FakeProvider, ReturnType<typeof load>> = {
  github: load('github'),
  gitlab: load('gitlab'),
  bitbucket: load('bitbucket'),
};

/** What is wrong with one recorded request, by the host's description; empty when it conforms. */
export function specFindings(request: RecordedRequest): string[] {
  if (request.method === 'GET') return [];
  const spec = SPECS[request.provider];
  const where = `${request.provider} ${request.method} ${request.path}`;
  const operation = spec.operations.find((op) => op.method === request.method && op.path.test(request.path));
  if (!operation) return [`${where}: no such operation in the ${request.provider} description`];
  const findings: string[] = [];
  const values = operation.path.exec(request.path)!.slice(1);
  operation.params.forEach((name, i) => {
    const pattern = spec.paths[name];
    if (pattern && !new RegExp(pattern).test(values[i]!))
      findings.push(`${where}: {${name}} "${values[i]}" !~ ${pattern}`);
  });
  if (!operation.validate(request.body)) {
    for (const error of operation.validate.errors ?? []) {
      findings.push(`${where}: body${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`);
    }
  }
  return findings;
}

/** The findings of every request, for one `expect(...).toEqual([])`. */
export function allSpecFindings(requests: readonly RecordedRequest[]): string[] {
  return requests.flatMap(specFindings);
}
