export { readConfigJson } from './json';
export { parseConfig, validateConfig } from './parse';
export * from './schema';
export {
  canonicalJson,
  configDigest,
  isSealedConfigDocument,
  openSealedConfig,
  type SealedConfig,
  sealConfig,
} from './sealed';
