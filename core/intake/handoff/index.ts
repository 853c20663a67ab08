export { type CheckedHandoff, checkHandoff, parseImage } from './check';
export { type HandoffBody, readHandoffBody } from './payload';
export { type HandoffPorts, type HandoffSecretSource, planHandoff, receiveHandoff } from './receive';
export { parseHandoffSecrets } from './secrets';
