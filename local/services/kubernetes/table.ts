import { isObject, type Json, type JsonObject } from './fields';
import type { ResourceType } from './resources';

/**
 * Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for, with the columns kubectl users
 * know for the common kinds, and Name/Age for the others.
 */

type Column = {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  description: string;
  cell: (o: JsonObject) => Json;
};

function o(value: Json | undefined): JsonObject {
  return isObject(value) ? value : {};
}

function num(value: Json | undefined): number {
  return typeof value === 'number' ? value : 0;
}

export function age(timestamp: Json | undefined, now = Date.now()): string {
  if (typeof timestamp !== 'string') return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h${minutes % 60 ? `${minutes % 60}m` : ''}`;
  return `${Math.floor(hours / 24)}d`;
}

const name: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name of the object',
  cell: (x) => String(o(x['metadata'])['name']),
};
const ageColumn: Column = {
  name: 'Age',
  type: 'string',
  description: 'Time since creation',
  cell: (x) => age(o(x['metadata'])['creationTimestamp']),
};

function containers(x: JsonObject): JsonObject[] {
  const list = o(o(o(x['spec'])['template'])['spec'])['containers'];
  return Array.isArray(list) ? list.map(o) : [];
}

const wide: Column[] = [
  {
    name: 'Containers',
    type: 'string',
    priority: 1,
    description: 'Container names',
    cell: (x) =>
      containers(x)
        .map((c) => String(c['name']))
        .join(','),
  },
  {
    name: 'Images',
    type: 'string',
    priority: 1,
    description: 'Container images',
    cell: (x) =>
      containers(x)
        .map((c) => String(c['image']))
        .join(','),
  },
  {
    name: 'Selector',
    type: 'string',
    priority: 1,
    description: 'Label selector',
    cell: (x) =>
      Object.entries(o(o(o(x['spec'])['selector'])['matchLabels']))
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(','),
  },
];

const COLUMNS: Record<string, Column[]> = {
  'apps/Deployment': [
    name,
    {
      name: 'Ready',
      type: 'string',
      description: 'Ready replicas',
      cell: (x) => `${num(o(x['status'])['readyReplicas'])}/${num(o(x['spec'])['replicas'])}`,
    },
    {
      name: 'Up-to-date',
      type: 'integer',
      description: 'Updated replicas',
      cell: (x) => num(o(x['status'])['updatedReplicas']),
    },
    {
      name: 'Available',
      type: 'integer',
      description: 'Available replicas',
      cell: (x) => num(o(x['status'])['availableReplicas']),
    },
    ageColumn,
    ...wide,
  ],
  'apps/ReplicaSet': [
    name,
    { name: 'Desired', type: 'integer', description: 'Desired replicas', cell: (x) => num(o(x['spec'])['replicas']) },
    { name: 'Current', type: 'integer', description: 'Current replicas', cell: (x) => num(o(x['status'])['replicas']) },
    {
      name: 'Ready',
      type: 'integer',
      description: 'Ready replicas',
      cell: (x) => num(o(x['status'])['readyReplicas']),
    },
    ageColumn,
    ...wide,
  ],
  'apps/StatefulSet': [
    name,
    {
      name: 'Ready',
      type: 'string',
      description: 'Ready replicas',
      cell: (x) => `${num(o(x['status'])['readyReplicas'])}/${num(o(x['spec'])['replicas'])}`,
    },
    ageColumn,
  ],
  'apps/DaemonSet': [
    name,
    {
      name: 'Desired',
      type: 'integer',
      description: 'Desired pods',
      cell: (x) => num(o(x['status'])['desiredNumberScheduled']),
    },
    {
      name: 'Current',
      type: 'integer',
      description: 'Current pods',
      cell: (x) => num(o(x['status'])['currentNumberScheduled']),
    },
    { name: 'Ready', type: 'integer', description: 'Ready pods', cell: (x) => num(o(x['status'])['numberReady']) },
    {
      name: 'Up-to-date',
      type: 'integer',
      description: 'Updated pods',
      cell: (x) => num(o(x['status'])['updatedNumberScheduled']),
    },
    {
      name: 'Available',
      type: 'integer',
      description: 'Available pods',
      cell: (x) => num(o(x['status'])['numberAvailable']),
    },
    ageColumn,
  ],
  '/Service': [
    name,
    {
      name: 'Type',
      type: 'string',
      description: 'Service type',
      cell: (x) => String(o(x['spec'])['type'] ?? 'ClusterIP'),
    },
    {
      name: 'Cluster-IP',
      type: 'string',
      description: 'Cluster IP',
      cell: (x) => String(o(x['spec'])['clusterIP'] ?? '<none>'),
    },
    { name: 'External-IP', type: 'string', description: 'External IP', cell: () => '<none>' },
    {
      name: 'Port(s)',
      type: 'string',
      description: 'Ports',
      cell: (x) => {
        const ports = o(x['spec'])['ports'];
        return Array.isArray(ports)
          ? ports.map((p) => `${String(o(p)['port'])}/${String(o(p)['protocol'] ?? 'TCP')}`).join(',')
          : '<none>';
      },
    },
    ageColumn,
  ],
  '/Pod': [
    name,
    {
      name: 'Ready',
      type: 'string',
      description: 'Ready containers',
      cell: (x) => {
        const statuses = o(x['status'])['containerStatuses'];
        const list = Array.isArray(statuses) ? statuses.map(o) : [];
        return `${list.filter((c) => c['ready'] === true).length}/${list.length}`;
      },
    },
    {
      name: 'Status',
      type: 'string',
      description: 'The phase, or why a container waits',
      cell: (x) => {
        const statuses = o(x['status'])['containerStatuses'];
        const waiting = (Array.isArray(statuses) ? statuses.map(o) : [])
          .map((c) => o(o(c['state'])['waiting'])['reason'])
          .find((r) => typeof r === 'string');
        return String(waiting ?? o(x['status'])['phase'] ?? 'Pending');
      },
    },
    { name: 'Restarts', type: 'string', description: 'Container restarts', cell: () => '0' },
    ageColumn,
    {
      name: 'IP',
      type: 'string',
      priority: 1,
      description: 'Pod IP',
      cell: (x) => String(o(x['status'])['podIP'] ?? '<none>'),
    },
    {
      name: 'Node',
      type: 'string',
      priority: 1,
      description: 'Node',
      cell: (x) => String(o(x['spec'])['nodeName'] ?? '<none>'),
    },
  ],
  'discovery.k8s.io/EndpointSlice': [
    name,
    { name: 'AddressType', type: 'string', description: 'Address type', cell: (x) => String(x['addressType'] ?? '') },
    {
      name: 'Ports',
      type: 'string',
      description: 'Ports',
      cell: (x) => {
        const ports = Array.isArray(x['ports']) ? x['ports'].map(o) : [];
        return ports.length > 0 ? ports.map((p) => String(p['port'])).join(',') : '<unset>';
      },
    },
    {
      name: 'Endpoints',
      type: 'string',
      description: 'Addresses',
      cell: (x) => {
        const endpoints = Array.isArray(x['endpoints']) ? x['endpoints'].map(o) : [];
        const addresses = endpoints.flatMap((e) => (Array.isArray(e['addresses']) ? e['addresses'].map(String) : []));
        return addresses.length > 0 ? addresses.join(',') : '<unset>';
      },
    },
    ageColumn,
  ],
  '/Namespace': [
    name,
    { name: 'Status', type: 'string', description: 'Phase', cell: (x) => String(o(x['status'])['phase'] ?? 'Active') },
    ageColumn,
  ],
  '/ConfigMap': [
    name,
    {
      name: 'Data',
      type: 'integer',
      description: 'Entries',
      cell: (x) => Object.keys(o(x['data'])).length + Object.keys(o(x['binaryData'])).length,
    },
    ageColumn,
  ],
  '/Secret': [
    name,
    { name: 'Type', type: 'string', description: 'Secret type', cell: (x) => String(x['type'] ?? 'Opaque') },
    { name: 'Data', type: 'integer', description: 'Entries', cell: (x) => Object.keys(o(x['data'])).length },
    ageColumn,
  ],
  '/Event': [
    { name: 'Last Seen', type: 'string', description: 'Last seen', cell: (x) => age(x['lastTimestamp']) },
    { name: 'Type', type: 'string', description: 'Type', cell: (x) => String(x['type'] ?? '') },
    { name: 'Reason', type: 'string', description: 'Reason', cell: (x) => String(x['reason'] ?? '') },
    {
      name: 'Object',
      type: 'string',
      description: 'Object',
      cell: (x) => `${String(o(x['involvedObject'])['kind']).toLowerCase()}/${String(o(x['involvedObject'])['name'])}`,
    },
    { name: 'Message', type: 'string', description: 'Message', cell: (x) => String(x['message'] ?? '') },
  ],
};

export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').includes('as=Table');
}

export function toTable(type: ResourceType, objects: readonly JsonObject[], resourceVersion: string): JsonObject {
  const columns = COLUMNS[`${type.group}/${type.kind}`] ?? [name, ageColumn];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description,
      priority: c.priority ?? 0,
    })),
    rows: objects.map((x) => ({
      cells: columns.map((c) => c.cell(x)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o(x['metadata']) },
    })),
  };
}
