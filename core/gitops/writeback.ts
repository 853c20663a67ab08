import { isMap, isScalar, isSeq, type Node, parseDocument, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { WriteBackError } from './errors';

/**
 * The write-back: a configuration file before → the same file after, with the image digest written where the
 * GitOps tool reads it (docs/adr/0102). Pure, and byte-preserving: the `yaml` library only locates the nodes;
 * the change is a splice of the original text, so comments, key order, indentation, quoting style and line
 * endings outside the changed scalars stay byte for byte. A value that is already right is left alone (the
 * result then has no changes, and nothing is committed).
 */

/** The image to write: repository without tag, and its digest (`sha256:` and 64 hex digits). */
export interface ImageUpdate {
  readonly repository: string;
  readonly digest: string;
}

/** One changed value, for the commit message: what changed from what to what. */
export interface ValueChange {
  /** Where, as a reader finds it: `images[shop/api].digest`, `image.digest`, `line 12 ($imagepolicy flux-system:api)`. */
  readonly field: string;
  readonly from: string | null;
  readonly to: string;
}

export interface WriteResult {
  readonly after: string;
  readonly changes: readonly ValueChange[];
}

export { WriteBackError };

interface Splice {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

function applySplices(source: string, splices: readonly Splice[]): string {
  // From the end, so that offsets stay valid; of two at one offset, the later one first, so that the text keeps
  // the order in which they were made.
  const ordered = splices.map((s, i) => ({ s, i })).sort((a, b) => b.s.start - a.s.start || b.i - a.i);
  let out = source;
  for (const { s } of ordered) out = out.slice(0, s.start) + s.text + out.slice(s.end);
  return out;
}

function lineStart(source: string, offset: number): number {
  return source.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset just after the newline that ends the line holding `offset` (the end of the text when there is none). */
function lineEnd(source: string, offset: number): number {
  const nl = source.indexOf('\n', offset);
  return nl === -1 ? source.length : nl + 1;
}

/** The line ending the file uses (CRLF files stay CRLF). */
function eol(source: string): string {
  return source.includes('\r\n') ? '\r\n' : '\n';
}

const PLAIN_SAFE = /^[A-Za-z0-9][A-Za-z0-9._/@+=-]*(:[A-Za-z0-9._/@+=-]+)*$/;

/** A scalar as YAML text, in the quoting style of the value it replaces (plain when safe, else double quotes). */
function scalarText(value: string, like?: Scalar): string {
  if (like?.type === 'QUOTE_DOUBLE') return JSON.stringify(value);
  if (like?.type === 'QUOTE_SINGLE') return `'${value.replace(/'/g, "''")}'`;
  return PLAIN_SAFE.test(value) ? value : JSON.stringify(value);
}

function parse(source: string, what: string): Node | null {
  const doc = parseDocument(source, { keepSourceTokens: true });
  if (doc.errors.length > 0) throw new WriteBackError(`${what} is not valid YAML: ${doc.errors[0]?.message}`);
  return (doc.contents as Node | null) ?? null;
}

function pairOf(map: YAMLMap, key: string) {
  return map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
}

function blockOnly(node: Node, what: string): void {
  if ((isMap(node) || isSeq(node)) && node.flow) {
    throw new WriteBackError(`${what} is in flow style ({...} or [...]); Stepline edits block style only`);
  }
}

/** The column of a map's keys (the first key's). */
function keyColumn(source: string, map: YAMLMap): number {
  const first = map.items[0]?.key as Node | undefined;
  const start = first?.range?.[0] ?? map.range?.[0] ?? 0;
  return start - lineStart(source, start);
}

/** Where a new last entry of a block collection goes: after the line of its last value. */
function endOfLastEntry(source: string, node: YAMLMap | YAMLSeq): number {
  const last = node.items[node.items.length - 1] as { value?: Node | null; range?: unknown } | Node | undefined;
  const valueNode = (last && 'value' in last ? last.value : last) as Node | null | undefined;
  const keyNode = last && 'key' in last ? (last.key as Node) : undefined;
  const end = valueNode?.range?.[1] ?? keyNode?.range?.[1] ?? node.range?.[1] ?? source.length;
  return lineEnd(source, Math.max(end - 1, 0));
}

/** A line inserted at `at`, with a line break before it when the text there does not end one. */
function insertLine(source: string, at: number, line: string): Splice {
  const br = eol(source);
  const needsBreak = at > 0 && source[at - 1] !== '\n';
  return { start: at, end: at, text: `${needsBreak ? br : ''}${line}${br}` };
}

/**
 * Sets `key` of a block map to a scalar: replaces the value's text, or adds a line at the map's key column.
 * Returns the change, or null when the value was already right.
 */
function setKey(
  source: string,
  map: YAMLMap,
  key: string,
  value: string,
  field: string,
  splices: Splice[],
): ValueChange | null {
  blockOnly(map, field);
  const pair = pairOf(map, key);
  if (pair && pair.value !== null && pair.value !== undefined) {
    if (!isScalar(pair.value))
      throw new WriteBackError(`${field} holds a ${isMap(pair.value) ? 'map' : 'list'}, not a value`);
    const scalar = pair.value;
    const from = scalar.value === null ? null : String(scalar.value);
    if (from === value) return null;
    const [start, end] = scalar.range ?? [0, 0];
    splices.push({ start, end, text: scalarText(value, scalar) });
    return { field, from, to: value };
  }
  if (pair) {
    // `key:` with no value: write it after the colon.
    const keyEnd = (pair.key as Node).range?.[1] ?? 0;
    const colon = source.indexOf(':', keyEnd);
    splices.push({ start: colon + 1, end: colon + 1, text: ` ${scalarText(value)}` });
    return { field, from: null, to: value };
  }
  const indent = ' '.repeat(keyColumn(source, map));
  splices.push(insertLine(source, endOfLastEntry(source, map), `${indent}${key}: ${scalarText(value)}`));
  return { field, from: null, to: value };
}

/** Removes a `key: scalar` line of a block map when it stands on its own line; returns the removed value. */
function removeKey(source: string, map: YAMLMap, key: string, splices: Splice[]): string | null {
  const pair = pairOf(map, key);
  if (!pair || !isScalar(pair.value)) return null;
  const keyStart = (pair.key as Node).range?.[0] ?? 0;
  const start = lineStart(source, keyStart);
  if (source.slice(start, keyStart).trim() !== '') return null;
  splices.push({ start, end: lineEnd(source, pair.value.range?.[1] ?? keyStart), text: '' });
  return String(pair.value.value);
}

/** Appends a block map as a new item of a block sequence, at the column of its dashes. */
function appendItem(source: string, seq: YAMLSeq, lines: readonly string[], splices: Splice[]): void {
  blockOnly(seq, 'the list');
  const firstItem = seq.items[0] as Node | undefined;
  const itemStart = firstItem?.range?.[0] ?? seq.range?.[0] ?? 0;
  const dash = source.lastIndexOf('-', itemStart);
  const dashColumn = dash - lineStart(source, dash);
  const gap = itemStart - dash;
  const dashPad = ' '.repeat(dashColumn);
  const rest = ' '.repeat(dashColumn + gap);
  const text = lines.map((l, i) => (i === 0 ? `${dashPad}-${' '.repeat(gap - 1)}${l}` : `${rest}${l}`));
  splices.push(insertLine(source, endOfLastEntry(source, seq), text.join(eol(source))));
}

function root(source: string, what: string): YAMLMap | null {
  const node = parse(source, what);
  if (node === null) return null;
  if (!isMap(node)) throw new WriteBackError(`${what} is not a YAML map`);
  return node;
}

/** The image reference a kustomize `images:` entry makes of `name`: newName, then `@digest` or `:newTag`. */
function kustomizeRef(entry: YAMLMap | null, name: string): string | null {
  if (!entry) return null;
  const get = (k: string) => {
    const v = pairOf(entry, k)?.value;
    return isScalar(v) && v.value !== null ? String(v.value) : null;
  };
  const base = get('newName') ?? name;
  const digest = get('digest');
  const tag = get('newTag');
  return digest ? `${base}@${digest}` : tag ? `${base}:${tag}` : base;
}

/**
 * kustomize's images transformer (`images:` in kustomization.yaml): the entry whose `name` is `name` gets
 * `newName` and `digest`; a `newTag` is removed, since kustomize uses the digest in its place. No entry: one is
 * appended; no `images:`: the field is added at the end of the file.
 */
export function writeKustomization(before: string, name: string, update: ImageUpdate): WriteResult {
  const map = root(before, 'kustomization.yaml');
  if (!map) throw new WriteBackError('kustomization.yaml is empty');
  const splices: Splice[] = [];
  const images = pairOf(map, 'images')?.value;
  const field = `images[${name}]`;
  const to = `${update.repository}@${update.digest}`;
  if (!images || (isScalar(images) && images.value === null)) {
    const br = eol(before);
    const lines = ['images:', `- name: ${scalarText(name)}`, `  newName: ${scalarText(update.repository)}`];
    lines.push(`  digest: ${update.digest}`);
    splices.push(insertLine(before, endOfLastEntry(before, map), lines.join(br)));
    return { after: applySplices(before, splices), changes: [{ field, from: null, to }] };
  }
  if (!isSeq(images)) throw new WriteBackError('images: in kustomization.yaml is not a list');
  const entry = images.items.find(
    (item): item is YAMLMap =>
      isMap(item) && isScalar(pairOf(item, 'name')?.value) && String(pairOf(item, 'name')?.value) === name,
  );
  if (!entry) {
    appendItem(
      before,
      images,
      [`name: ${scalarText(name)}`, `newName: ${scalarText(update.repository)}`, `digest: ${update.digest}`],
      splices,
    );
    return { after: applySplices(before, splices), changes: [{ field, from: null, to }] };
  }
  const from = kustomizeRef(entry, name);
  const changed = [
    setKey(before, entry, 'newName', update.repository, `${field}.newName`, splices),
    setKey(before, entry, 'digest', update.digest, `${field}.digest`, splices),
  ];
  const tag = removeKey(before, entry, 'newTag', splices);
  if (changed.every((c) => c === null) && tag === null) return { after: before, changes: [] };
  return { after: applySplices(before, splices), changes: [{ field, from, to }] };
}

/** The map at a dotted path of a values file, or null with the first missing key. */
function mapAt(map: YAMLMap, keys: readonly string[], what: string): YAMLMap {
  let node: YAMLMap = map;
  for (const [i, key] of keys.entries()) {
    const next = pairOf(node, key)?.value;
    if (!isMap(next)) {
      throw new WriteBackError(`${what} has no map at ${keys.slice(0, i + 1).join('.')}`);
    }
    node = next;
  }
  return node;
}

/**
 * A Helm values file: the digest (and, when given, the repository) at dotted keys, as a chart reads them
 * (`image.digest`, `image.repository`). The parent maps must exist; a missing last key is added.
 */
export function writeHelmValues(
  before: string,
  keys: { readonly digestKey: string; readonly repositoryKey?: string },
  update: ImageUpdate,
  what = 'the values file',
): WriteResult {
  const map = root(before, what);
  if (!map) throw new WriteBackError(`${what} is empty`);
  const splices: Splice[] = [];
  const changes: ValueChange[] = [];
  const targets: [string, string][] = [[keys.digestKey, update.digest]];
  if (keys.repositoryKey) targets.unshift([keys.repositoryKey, update.repository]);
  for (const [dotted, value] of targets) {
    const path = dotted.split('.');
    const parent = mapAt(map, path.slice(0, -1), what);
    const change = setKey(before, parent, path[path.length - 1] as string, value, dotted, splices);
    if (change) changes.push(change);
  }
  return { after: changes.length > 0 ? applySplices(before, splices) : before, changes };
}

/**
 * Flux image-automation markers, a comment `# {"$imagepolicy": "<ns>:<policy>"}` after the value it sets, with
 * an optional `:name`, `:tag` or `:digest` suffix. The full marker gets `repository@digest`, `:name` the
 * repository, `:digest` the digest. `:tag` lines are left alone and listed: a delivery by digest has no tag, and
 * the digest beside it wins in kustomize and in an image reference. No marker for the policy is an error.
 */
export function writeFluxMarkers(before: string, policy: string, update: ImageUpdate, what = 'the file'): WriteResult {
  const marker =
    /^(.*?)("[^"]*"|'[^']*'|[^\s#"']+)([ \t]+#[ \t]*\{[ \t]*"\$imagepolicy"[ \t]*:[ \t]*"([^"]+)"[ \t]*\}.*)$/;
  const lines = before.split('\n');
  const changes: ValueChange[] = [];
  const skipped: string[] = [];
  let found = 0;
  const after = lines.map((line, i) => {
    const cr = line.endsWith('\r') ? '\r' : '';
    const body = cr ? line.slice(0, -1) : line;
    const m = marker.exec(body);
    if (!m) return line;
    const [, head = '', valueText = '', comment = '', ref = ''] = m;
    const parts = ref.split(':');
    if (`${parts[0]}:${parts[1]}` !== policy) return line;
    found += 1;
    const attribute = parts[2] ?? null;
    const value =
      attribute === null
        ? `${update.repository}@${update.digest}`
        : attribute === 'name'
          ? update.repository
          : attribute === 'digest'
            ? update.digest
            : null;
    if (value === null) {
      skipped.push(`line ${i + 1} (:${attribute})`);
      return line;
    }
    const quote = valueText.startsWith('"') ? '"' : valueText.startsWith("'") ? "'" : '';
    const from = quote ? valueText.slice(1, -1) : valueText;
    if (from === value) return line;
    changes.push({ field: `line ${i + 1} ($imagepolicy ${ref})`, from, to: value });
    return `${head}${quote}${value}${quote}${comment}${cr}`;
  });
  if (found === 0) throw new WriteBackError(`${what} has no {"$imagepolicy": "${policy}"} marker`);
  if (changes.length === 0 && skipped.length === found && found > 0 && skipped.length > 0) {
    throw new WriteBackError(
      `${what} marks ${policy} only with :tag (${skipped.join(', ')}); a delivery by digest needs the full marker, :name or :digest`,
    );
  }
  return { after: changes.length > 0 ? after.join('\n') : before, changes };
}

/**
 * Argo CD's parameter override file `.argocd-source-<application>.yaml`, as Argo CD Image Updater's git
 * write-back keeps it: `kustomize.images`, a list of `<name>=<newName>@<digest>` strings (Argo CD's
 * `kustomize edit set image` syntax). The item for `name` is replaced or appended; other overrides in the file
 * stay. No file (null): it is created with that one item.
 */
export function writeArgoCdSource(before: string | null, name: string, update: ImageUpdate): WriteResult {
  const item = `${name}=${update.repository}@${update.digest}`;
  const field = `kustomize.images[${name}]`;
  if (before === null || before.trim() === '') {
    return { after: `kustomize:\n  images:\n  - ${item}\n`, changes: [{ field, from: null, to: item }] };
  }
  const map = root(before, 'the .argocd-source file');
  if (!map) throw new WriteBackError('the .argocd-source file is empty');
  const splices: Splice[] = [];
  const kustomize = pairOf(map, 'kustomize')?.value;
  const br = eol(before);
  if (!isMap(kustomize)) {
    if (kustomize) throw new WriteBackError('kustomize: in the .argocd-source file is not a map');
    splices.push(insertLine(before, endOfLastEntry(before, map), ['kustomize:', '  images:', `  - ${item}`].join(br)));
    return { after: applySplices(before, splices), changes: [{ field, from: null, to: item }] };
  }
  blockOnly(kustomize, 'kustomize:');
  const images = pairOf(kustomize, 'images')?.value;
  if (!isSeq(images)) {
    const indent = ' '.repeat(keyColumn(before, kustomize));
    splices.push(
      insertLine(before, endOfLastEntry(before, kustomize), [`${indent}images:`, `${indent}- ${item}`].join(br)),
    );
    return { after: applySplices(before, splices), changes: [{ field, from: null, to: item }] };
  }
  const matches = (v: string) =>
    v.startsWith(`${name}=`) || v === name || v.startsWith(`${name}:`) || v.startsWith(`${name}@`);
  const existing = images.items.find((i): i is Scalar => isScalar(i) && matches(String(i.value)));
  if (existing) {
    const from = String(existing.value);
    if (from === item) return { after: before, changes: [] };
    const [start, end] = existing.range ?? [0, 0];
    splices.push({ start, end, text: scalarText(item, existing) });
    return { after: applySplices(before, splices), changes: [{ field, from, to: item }] };
  }
  blockOnly(images, 'kustomize.images');
  const first = images.items[0] as Node | undefined;
  const itemStart = first?.range?.[0] ?? 0;
  const dash = before.lastIndexOf('-', itemStart);
  const prefix = before.slice(lineStart(before, dash), itemStart);
  splices.push(insertLine(before, endOfLastEntry(before, images), `${prefix}${scalarText(item)}`));
  return { after: applySplices(before, splices), changes: [{ field, from: null, to: item }] };
}
