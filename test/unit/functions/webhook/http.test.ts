import { describe, expect, it } from 'vitest';
import { base64DecodedLength, rawBody } from '../../../../functions/shared/http';

describe('reading the body of an HTTP API event', () => {
  it.each(['', 'a', 'ab', 'abc', 'abcd', 'hello, world', '€ and ü'])(
    'measures the decoded length of base64 %j without decoding it',
    (text) => {
      // Prepare
      const encoded = Buffer.from(text).toString('base64');

      // Act
      const length = base64DecodedLength(encoded);

      // Assess
      expect(length).toBe(Buffer.byteLength(text));
    },
  );

  it('keeps a text body as text, with its length in UTF-8 bytes', () => {
    // Act
    const body = rawBody({ body: '{"a":"ü"}', isBase64Encoded: false }, 100);

    // Assess
    expect(body).toEqual({ body: '{"a":"ü"}', byteLength: 10 });
  });

  it('decodes a base64 body to its bytes', () => {
    // Act
    const body = rawBody({ body: Buffer.from('{"a":1}').toString('base64'), isBase64Encoded: true }, 100);

    // Assess
    expect(Buffer.from(body.body as Uint8Array).toString()).toBe('{"a":1}');
    expect(body.byteLength).toBe(7);
  });

  it.each([
    ['a text body', { body: 'x'.repeat(101), isBase64Encoded: false }],
    ['a base64 body', { body: Buffer.alloc(101).toString('base64'), isBase64Encoded: true }],
  ])('does not decode %s over the limit, and reports its length', (_name, event) => {
    // Act
    const body = rawBody(event, 100);

    // Assess
    expect(body.byteLength).toBe(101);
    expect((body.body as Uint8Array).byteLength).toBe(0);
  });

  it('treats a missing body as empty', () => {
    // Act
    const body = rawBody({ body: undefined, isBase64Encoded: false }, 100);

    // Assess
    expect(body).toEqual({ body: '', byteLength: 0 });
  });
});
