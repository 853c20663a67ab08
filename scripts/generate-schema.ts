import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SteplineConfig } from '../core/config/schema';

/**
 * Generates `schema/stepline.config.schema.json` from the zod schema of the configuration (`npm run schema`).
 * The schema describes the document as written (`io: 'input'`): fields with defaults are optional. A unit test
 * fails when the committed file differs from what this generates.
 */

export const SCHEMA_PATH = join(__dirname, '..', 'schema', 'stepline.config.schema.json');

export function configJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(SteplineConfig, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  const { $schema, ...rest } = generated as Record<string, unknown>;
  return {
    $schema,
    title: 'Stepline pipeline configuration',
    description:
      'stepline.config.json: per repository, which branches, tags and pull requests start a pipeline, its tests, and the environments it promotes to.',
    ...rest,
  };
}

/** The file's text: two-space JSON with a final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(SCHEMA_PATH, configJsonSchemaText());
  console.log(`wrote ${SCHEMA_PATH}`);
}
