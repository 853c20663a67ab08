export * from './contracts';
export * from './decide';
export * from './errors';
export * from './parse';
export * from './service';
