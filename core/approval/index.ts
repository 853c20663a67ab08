export * from './contracts';
export * from './decision';
export * from './errors';
export * from './service';
export * from './token';
