import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { LAMBDA_BUNDLE_BASE, WEBHOOK_EXTERNALS, zodEnglishOnly } from '../webhook/bundle';

/**
 * How the replay function is bundled for Lambda: like the webhook function (docs/adr/0008), `@aws-sdk/*` from the
 * Lambda runtime, zod in English only (it comes with adapters/settings.ts, though the replay reads no pipeline
 * configuration).
 */
export const REPLAY_ENTRY = join(__dirname, 'index.ts');

export function replayBuildOptions(outfile: string): BuildOptions & { outfile: string } {
  return {
    entryPoints: [REPLAY_ENTRY],
    outfile,
    ...LAMBDA_BUNDLE_BASE,
    external: [...WEBHOOK_EXTERNALS],
    plugins: [zodEnglishOnly],
  };
}
