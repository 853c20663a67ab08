import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../core/config';
import { configJsonSchemaText, SCHEMA_PATH } from '../../../scripts/generate-schema';

const ROOT = join(__dirname, '../../..');

describe('the published JSON Schema', () => {
  it('is the one generated from the zod schema (run `npm run schema` after changing it)', () => {
    // Act
    const committed = readFileSync(SCHEMA_PATH, 'utf8');

    // Assess
    expect(committed).toBe(configJsonSchemaText());
  });

  it('describes the document as written: fields with defaults are optional', () => {
    // Act
    const schema = JSON.parse(configJsonSchemaText());
    const repository = schema.properties.repositories.items;

    // Assess
    expect(schema.required).toEqual(['version', 'repositories']);
    expect(repository.required).toEqual(['provider', 'name', 'build']);
    expect(repository.properties.branches.default).toEqual([]);
  });
});

describe('the example configuration at the repository root', () => {
  it('is valid and points editors at the schema', () => {
    // Prepare
    const text = readFileSync(join(ROOT, 'stepline.config.json'), 'utf8');

    // Act
    const config = parseConfig(text, 'stepline.config.json');

    // Assess
    expect(config.$schema).toBe('./schema/stepline.config.schema.json');
    expect(config.repositories.map((r) => r.name)).toEqual(['acme/shop', 'acme/platform/billing']);
  });
});
