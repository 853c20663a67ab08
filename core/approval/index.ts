export * from './approvers';
export * from './contracts';
export * from './decision';
export * from './errors';
export * from './service';
export * from './session';
export * from './sign-in';
export * from './token';
