import { isObject, type Json, type JsonObject } from './fields';
import { badRequest } from './status';

/** Label selectors (`app=web,tier!=db,env in (a,b),!legacy`) and field selectors (`involvedObject.name=web`). */

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

/** Splits on commas outside parentheses. */
function terms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim()) out.push(current.trim());
  return out.filter(Boolean);
}

export function parseLabelSelector(selector: string): Requirement[] {
  return terms(selector).map((term) => {
    let m = /^([^\s!=]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (m) return { op: m[2] === '!=' ? 'neq' : 'eq', key: m[1]!, value: m[3]! };
    m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m)
      return {
        op: m[2] as 'in' | 'notin',
        key: m[1]!,
        values: m[3]!
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean),
      };
    m = /^!\s*(\S+)$/.exec(term);
    if (m) return { op: 'notexists', key: m[1]! };
    m = /^(\S+)$/.exec(term);
    if (m) return { op: 'exists', key: m[1]! };
    throw badRequest(`unable to parse requirement: ${JSON.stringify(term)}`);
  });
}

export function matchesLabels(
  labels: Record<string, string> | undefined,
  requirements: readonly Requirement[],
): boolean {
  const l = labels ?? {};
  return requirements.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'eq':
        return has && l[r.key] === r.value;
      case 'neq':
        return !has || l[r.key] !== r.value;
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
      case 'exists':
        return has;
      default:
        return !has;
    }
  });
}

/** A `LabelSelector` object (matchLabels, matchExpressions) as requirements. */
export function requirementsOf(selector: JsonObject | undefined): Requirement[] {
  if (!selector) return [];
  const out: Requirement[] = [];
  const matchLabels = selector['matchLabels'];
  if (isObject(matchLabels)) {
    for (const [key, value] of Object.entries(matchLabels)) out.push({ op: 'eq', key, value: String(value) });
  }
  const expressions = selector['matchExpressions'];
  if (Array.isArray(expressions)) {
    for (const e of expressions) {
      if (!isObject(e)) continue;
      const key = String(e['key']);
      const values = Array.isArray(e['values']) ? e['values'].map(String) : [];
      const op = String(e['operator']);
      if (op === 'In') out.push({ op: 'in', key, values });
      else if (op === 'NotIn') out.push({ op: 'notin', key, values });
      else if (op === 'Exists') out.push({ op: 'exists', key });
      else if (op === 'DoesNotExist') out.push({ op: 'notexists', key });
    }
  }
  return out;
}

export function matchesFields(object: JsonObject, selector: string): boolean {
  return terms(selector).every((term) => {
    const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid field selector: ${JSON.stringify(term)}`);
    let node: Json | undefined = object;
    for (const step of m[1]!.trim().split('.')) node = isObject(node) ? node[step] : undefined;
    const actual = node === undefined || node === null ? '' : String(node);
    return m[2] === '!=' ? actual !== m[3] : actual === m[3];
  });
}
