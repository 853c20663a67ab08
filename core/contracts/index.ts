export * from './environment';
export * from './metrics';
export * from './parking';
export * from './status';
export * from './webhook';
