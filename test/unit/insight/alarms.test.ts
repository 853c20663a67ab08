import { describe, expect, it } from 'vitest';
import { type AlarmStateChangeEvent, incidentFromAlarm } from '../../../core/insight/alarms';
import type { Incident } from '../../../core/insight/contracts';
import { linkIncidents } from '../../../core/insight/incidents';
import { createAlarmIncidentsHandler } from '../../../functions/alarm-incidents/handler';
import { alarmIncidentsSettings } from '../../../functions/alarm-incidents/settings';
import { deploy } from './fixtures';

/**
 * CloudWatch alarms as incidents (optional, by name prefix): the "CloudWatch Alarm State Change" event as CloudWatch's
 * "Alarm events and EventBridge" page shows it; ALARM opens, OK resolves, both writes with the same id and no read.
 */

function change(name: string, state: string, previous: string, at: string, before: string): AlarmStateChangeEvent {
  return {
    'detail-type': 'CloudWatch Alarm State Change',
    detail: {
      alarmName: name,
      state: { value: state, reason: 'Threshold Crossed', timestamp: at },
      previousState: { value: previous, reason: 'Threshold Crossed', timestamp: before },
      configuration: { description: 'Checkout errors.\nenvironment: production\nroot cause: 1a2b3c4' },
    },
  } as AlarmStateChangeEvent;
}

const OPENED = change(
  'stepline-checkout-5xx',
  'ALARM',
  'OK',
  '2030-01-02T10:05:00.000+0000',
  '2030-01-01T00:00:00.000+0000',
);
const RESOLVED = change(
  'stepline-checkout-5xx',
  'OK',
  'ALARM',
  '2030-01-02T10:35:00.000+0000',
  '2030-01-02T10:05:00.000+0000',
);

describe('incidents from CloudWatch alarms', () => {
  it('opens an incident when an alarm of the prefix goes to ALARM, and resolves the same one at OK', async () => {
    // Prepare
    const written: Incident[] = [];
    const handler = createAlarmIncidentsHandler({
      incidents: { putIncident: async (incident) => void written.push(incident) },
      prefix: 'stepline-',
    });

    // Act
    const first = await handler(OPENED, {} as never);
    const second = await handler(RESOLVED, {} as never);

    // Assess
    expect(first).toEqual({ recorded: 'alarm:stepline-checkout-5xx@2030-01-02T10:05:00.000Z', state: 'open' });
    expect(second).toEqual({ recorded: first && 'recorded' in first ? first.recorded : '', state: 'resolved' });
    expect(written[1]).toEqual({
      id: 'alarm:stepline-checkout-5xx@2030-01-02T10:05:00.000Z',
      source: 'alarm',
      provider: null,
      repository: null,
      environment: 'production',
      title: 'stepline-checkout-5xx',
      openedAt: '2030-01-02T10:05:00.000Z',
      resolvedAt: '2030-01-02T10:35:00.000Z',
      commits: ['1a2b3c4'],
      executions: [],
    });
  });

  it.each([
    ['another prefix', change('billing-cpu', 'ALARM', 'OK', '2030-01-02T10:05:00Z', '2030-01-01T00:00:00Z')],
    [
      'OK to INSUFFICIENT_DATA',
      change('stepline-x', 'INSUFFICIENT_DATA', 'OK', '2030-01-02T10:05:00Z', '2030-01-01T00:00:00Z'),
    ],
    [
      'ALARM to INSUFFICIENT_DATA',
      change('stepline-x', 'INSUFFICIENT_DATA', 'ALARM', '2030-01-02T10:05:00Z', '2030-01-01T00:00:00Z'),
    ],
    ['another detail type', { ...OPENED, 'detail-type': 'CloudWatch Alarm Configuration Change' }],
  ])('writes nothing for %s', async (_, event) => {
    const written: Incident[] = [];
    const handler = createAlarmIncidentsHandler({
      incidents: { putIncident: async (incident) => void written.push(incident) },
      prefix: 'stepline-',
    });
    expect(await handler(event as AlarmStateChangeEvent, {} as never)).toHaveProperty('ignored');
    expect(written).toEqual([]);
  });

  it('is attributed to the deploy of the commit its description names, in its environment', () => {
    // Prepare
    const incident = incidentFromAlarm(RESOLVED, 'stepline-')!;
    const record = deploy('production', '2030-01-02T09:00:00.000Z', '1a2b3c4');

    // Act
    const linked = linkIncidents([record], [incident]);

    // Assess
    expect(linked.get(record)).toEqual([incident]);
  });

  it('reads its table and prefix from the variables the construct sets, and refuses to start without them', () => {
    expect(alarmIncidentsSettings({ STEPLINE_DEPLOYMENTS_TABLE: 't', STEPLINE_INCIDENT_ALARM_PREFIX: 'p-' })).toEqual({
      table: 't',
      prefix: 'p-',
    });
    expect(() => alarmIncidentsSettings({ STEPLINE_DEPLOYMENTS_TABLE: 't' })).toThrow(/STEPLINE_INCIDENT_ALARM_PREFIX/);
  });
});
