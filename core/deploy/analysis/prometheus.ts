import { isRecord } from '../types';
import type { Measured } from './contracts';

/**
 * The answer of Prometheus's instant query API (`GET /api/v1/query`,
 * https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries) as a measurement: a vector gives the
 * list of its samples' values (`result[0]`), a scalar its value, a string its text; an error status, a body that
 * is not that JSON, or a value that is not a number is an error run. Pure: the HTTP call is the function's.
 */
export function prometheusMeasurement(status: number, body: string): Measured {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'error', message: `Prometheus answered ${status} with a body that is not JSON` };
  }
  if (!isRecord(parsed)) return { kind: 'error', message: `Prometheus answered ${status} with no result` };
  if (parsed['status'] !== 'success' || status >= 400) {
    const detail = [parsed['errorType'], parsed['error']].filter((p) => typeof p === 'string').join(': ');
    return { kind: 'error', message: `Prometheus answered ${status}${detail ? `: ${detail}` : ''}` };
  }
  const data = parsed['data'];
  if (!isRecord(data)) return { kind: 'error', message: 'Prometheus answered without data' };
  const number = (sample: unknown): number => {
    const value = Array.isArray(sample) ? Number(sample[1]) : Number.NaN;
    if (Number.isNaN(value)) throw new Error(`not a number: ${JSON.stringify(sample)}`);
    return value;
  };
  try {
    switch (data['resultType']) {
      case 'vector':
        return {
          kind: 'value',
          result: (Array.isArray(data['result']) ? data['result'] : []).map((s) =>
            number(isRecord(s) ? s['value'] : s),
          ),
        };
      case 'scalar':
        return { kind: 'value', result: number(data['result']) };
      case 'string':
        return { kind: 'value', result: Array.isArray(data['result']) ? String(data['result'][1]) : '' };
      default:
        return { kind: 'error', message: `Prometheus answered a ${String(data['resultType'])}: use an instant query` };
    }
  } catch (error) {
    return { kind: 'error', message: `Prometheus answered a sample that is ${(error as Error).message}` };
  }
}
