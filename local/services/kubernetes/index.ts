export type { DenyRule, UserInfo } from './auth';
export type { ControllerOptions } from './controllers';
export type { RequestRecord, SimulatedKubernetesOptions } from './server';
export { ClusterStateError, SimulatedKubernetes } from './server';
export { templateHash } from './templates';
export type { ServerCertificates } from './tls';
export { generateCertificates } from './tls';
