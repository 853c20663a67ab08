/**
 * The Git hosts Stepline takes webhooks from. Kept apart from the zod schema (schema.ts) so that the intake can
 * name the providers without loading zod: a function that ships a sealed configuration never evaluates zod
 * (docs/adr/0046).
 */
export const PROVIDERS = ['github', 'gitlab', 'bitbucket'] as const;

export type Provider = (typeof PROVIDERS)[number];
