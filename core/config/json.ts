import { ConfigError } from '../errors';

/**
 * Parses the JSON text of a configuration document, without judging its content. Throws a `ConfigError` that
 * names the source and JSON's own reason when the text is not JSON.
 */
export function readConfigJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(`invalid Stepline configuration in ${source}: not JSON (${reason})`, [], { cause });
  }
}
