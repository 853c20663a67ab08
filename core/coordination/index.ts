export * from './contracts';
export * from './decide';
export * from './service';
