import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** A JSON answer for an API Gateway HTTP API (payload v2) route. */
export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/** The decoded length of a base64 text, without decoding it. */
export function base64DecodedLength(text: string): number {
  let padding = 0;
  if (text.endsWith('==')) padding = 2;
  else if (text.endsWith('=')) padding = 1;
  return Math.floor((text.length * 3) / 4) - padding;
}

/**
 * The body of an HTTP API event as received: the text, or the bytes of a base64 body. A body longer than `maxBytes`
 * is not decoded: an empty body is returned with its length, so that the caller refuses it before hashing.
 */
export function rawBody(
  event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>,
  maxBytes: number,
): { body: Uint8Array | string; byteLength: number } {
  const text = event.body ?? '';
  if (event.isBase64Encoded) {
    const length = base64DecodedLength(text);
    if (length > maxBytes) return { body: new Uint8Array(0), byteLength: length };
    const body = Buffer.from(text, 'base64');
    return { body, byteLength: body.byteLength };
  }
  // A UTF-8 encoding is at least one byte per UTF-16 unit: a text longer than the limit is over it.
  if (text.length > maxBytes) return { body: new Uint8Array(0), byteLength: text.length };
  // A text body is kept as text: its UTF-8 encoding is the bytes received (hashed and parsed as such).
  return { body: text, byteLength: Buffer.byteLength(text, 'utf8') };
}
