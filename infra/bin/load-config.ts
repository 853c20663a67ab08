import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConfig, type SteplineConfig } from '../../core/config';
import { MissingFileError } from '../errors';

/** The configuration file the app reads (`-c config=...`, relative to the project root) and its parsed content. */
export function loadConfig(projectRoot: string, configPath: string): { file: string; config: SteplineConfig } {
  const file = path.resolve(projectRoot, configPath);
  if (!existsSync(file)) throw new MissingFileError(configPath, `${file} (pass -c config=<path> to use another file)`);
  return { file, config: parseConfig(readFileSync(file, 'utf8'), configPath) };
}
