export type { DenyRule, UserInfo } from './auth';
export type { ControllerOptions } from './controllers';
export { templateHash } from './controllers';
export type { RequestRecord, SimulatedKubernetesOptions } from './server';
export { ClusterStateError, SimulatedKubernetes } from './server';
export type { ServerCertificates } from './tls';
export { generateCertificates } from './tls';
