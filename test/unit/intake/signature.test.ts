import { describe, expect, it } from 'vitest';
import { hmacSha256, verifyHmacSha256, verifyToken } from '../../../core/intake/signature';

describe('signatures', () => {
  it("passes GitHub's documented test vector", () => {
    // Prepare
    const secret = "It's a Secret to Everybody";
    const body = Buffer.from('Hello, World!');
    const header = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

    // Act
    const computed = `sha256=${hmacSha256(secret, body).toString('hex')}`;
    const verified = verifyHmacSha256(header, body, [secret]);

    // Assess
    expect(computed).toBe(header);
    expect(verified).toBe(true);
  });

  it('accepts the hex digest in upper case', () => {
    // Act
    const verified = verifyHmacSha256(
      'sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17',
      Buffer.from('Hello, World!'),
      ["It's a Secret to Everybody"],
    );

    // Assess
    expect(verified).toBe(true);
  });

  it.each([
    ['a digest of the wrong length', 'sha256=757107ea'],
    ['a digest that is not hex', `sha256=${'z'.repeat(64)}`],
    ['an empty header', ''],
    ['the digest without its prefix', '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'],
  ])('refuses %s', (_name, header) => {
    // Act
    const verified = verifyHmacSha256(header, Buffer.from('Hello, World!'), ["It's a Secret to Everybody"]);

    // Assess
    expect(verified).toBe(false);
  });

  it('refuses everything when there is no secret to check against', () => {
    // Act
    const verified = verifyHmacSha256(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
      Buffer.from('Hello, World!'),
      [],
    );

    // Assess
    expect(verified).toBe(false);
  });

  it('compares tokens of different lengths without throwing', () => {
    // Act
    const results = [verifyToken('short', ['a much longer secret']), verifyToken('a much longer secret', ['s'])];

    // Assess
    expect(results).toEqual([false, false]);
  });

  it('accepts a token equal to the current or the previous secret', () => {
    // Act
    const results = [verifyToken('new', ['new', 'old']), verifyToken('old', ['new', 'old'])];

    // Assess
    expect(results).toEqual([true, true]);
  });
});
