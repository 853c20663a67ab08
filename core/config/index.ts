export { parseConfig, validateConfig } from './parse';
export * from './schema';
