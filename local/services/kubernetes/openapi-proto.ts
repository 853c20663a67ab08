import { isObject, type Json, type JsonObject } from './fields';

/**
 * The Swagger 2.0 document in protobuf, as kube-apiserver serves `/openapi/v2` to a client that asks for
 * `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`: the `openapi.v2.Document` message of
 * google/gnostic's openapiv2/OpenAPIv2.proto. kubectl before 1.27 (and 1.32's apply) reads only this form.
 * Only what the served document uses is encoded: info, paths with their operations, parameters (body and query)
 * and responses, definitions with ref, type, format, description, required, enum, default, items, allOf,
 * properties, additionalProperties; `x-` keys as vendor extensions (their value as YAML, here JSON).
 */

class Writer {
  private readonly chunks: Buffer[] = [];

  private varint(value: number): void {
    const bytes: number[] = [];
    let v = value;
    while (v > 0x7f) {
      bytes.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(v);
    this.chunks.push(Buffer.from(bytes));
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  public string(field: number, value: string | undefined): this {
    if (value === undefined || value === '') return this;
    const bytes = Buffer.from(value, 'utf8');
    this.tag(field, 2);
    this.varint(bytes.length);
    this.chunks.push(bytes);
    return this;
  }

  public bool(field: number, value: boolean | undefined): this {
    if (!value) return this;
    this.tag(field, 0);
    this.varint(1);
    return this;
  }

  public message(field: number, body: Writer | null): this {
    if (!body) return this;
    const bytes = body.bytes();
    this.tag(field, 2);
    this.varint(bytes.length);
    this.chunks.push(bytes);
    return this;
  }

  public bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const w = (): Writer => new Writer();

/** Any { string yaml = 2; } */
function any(value: Json): Writer {
  return w().string(2, JSON.stringify(value));
}

/** repeated NamedAny vendor_extension: NamedAny { name = 1; Any value = 2; } */
function extensions(writer: Writer, field: number, object: JsonObject): void {
  for (const [key, value] of Object.entries(object)) {
    if (key.startsWith('x-')) writer.message(field, w().string(1, key).message(2, any(value)));
  }
}

function schema(value: JsonObject): Writer {
  const out = w()
    .string(1, value['$ref'] as string | undefined)
    .string(2, value['format'] as string | undefined)
    .string(3, value['title'] as string | undefined)
    .string(4, value['description'] as string | undefined);
  if (value['default'] !== undefined) out.message(5, any(value['default']));
  if (Array.isArray(value['required'])) for (const r of value['required']) out.string(19, String(r));
  if (Array.isArray(value['enum'])) for (const e of value['enum']) out.message(20, any(e));
  const additional = value['additionalProperties'];
  if (isObject(additional)) out.message(21, w().message(1, schema(additional)));
  else if (typeof additional === 'boolean') out.message(21, w().bool(2, additional));
  const type = value['type'];
  if (typeof type === 'string') out.message(22, w().string(1, type));
  const items = value['items'];
  if (isObject(items)) out.message(23, w().message(1, schema(items)));
  if (Array.isArray(value['allOf'])) for (const s of value['allOf']) if (isObject(s)) out.message(24, schema(s));
  const properties = value['properties'];
  if (isObject(properties)) {
    const named = w();
    for (const [name, s] of Object.entries(properties)) {
      if (isObject(s)) named.message(1, w().string(1, name).message(2, schema(s)));
    }
    out.message(25, named);
  }
  extensions(out, 31, value);
  return out;
}

function parameter(value: JsonObject): Writer {
  if (value['in'] === 'body') {
    const body = w()
      .string(1, value['description'] as string | undefined)
      .string(2, value['name'] as string | undefined)
      .string(3, 'body')
      .bool(4, value['required'] === true);
    if (isObject(value['schema'])) body.message(5, schema(value['schema']));
    return w().message(1, w().message(1, body));
  }
  const query = w()
    .bool(1, value['required'] === true)
    .string(2, value['in'] as string | undefined)
    .string(3, value['description'] as string | undefined)
    .string(4, value['name'] as string | undefined)
    .string(6, value['type'] as string | undefined)
    .bool(20, value['uniqueItems'] === true);
  // ParametersItem { Parameter parameter = 1 } / Parameter { NonBodyParameter = 2 } / { QueryParameterSubSchema = 3 }
  return w().message(1, w().message(2, w().message(3, query)));
}

function operation(value: JsonObject): Writer {
  const out = w().string(5, value['operationId'] as string | undefined);
  for (const p of Array.isArray(value['parameters']) ? value['parameters'] : []) {
    if (isObject(p)) out.message(8, parameter(p));
  }
  const responses = w();
  for (const [code, response] of Object.entries(isObject(value['responses']) ? value['responses'] : {})) {
    if (!isObject(response)) continue;
    const r = w().string(1, response['description'] as string | undefined);
    if (isObject(response['schema'])) r.message(2, w().message(1, schema(response['schema'])));
    responses.message(1, w().string(1, code).message(2, w().message(1, r)));
  }
  out.message(9, responses);
  extensions(out, 13, value);
  return out;
}

const METHODS: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 };

/** The `openapi.v2.Document` of a Swagger 2.0 JSON document. */
export function swaggerToProtobuf(document: JsonObject): Buffer {
  const out = w().string(1, String(document['swagger'] ?? '2.0'));
  const info = isObject(document['info']) ? document['info'] : {};
  out.message(
    2,
    w()
      .string(1, info['title'] as string | undefined)
      .string(2, info['version'] as string | undefined),
  );
  const paths = w();
  for (const [path, item] of Object.entries(isObject(document['paths']) ? document['paths'] : {})) {
    if (!isObject(item)) continue;
    const pathItem = w();
    for (const [method, field] of Object.entries(METHODS)) {
      if (isObject(item[method])) pathItem.message(field, operation(item[method] as JsonObject));
    }
    paths.message(2, w().string(1, path).message(2, pathItem));
  }
  out.message(8, paths);
  const definitions = w();
  for (const [name, s] of Object.entries(isObject(document['definitions']) ? document['definitions'] : {})) {
    if (isObject(s)) definitions.message(1, w().string(1, name).message(2, schema(s)));
  }
  out.message(9, definitions);
  return out.bytes();
}
