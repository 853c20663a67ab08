import { ALARM_PREFIX_ENV } from '../../core/insight/alarms';
import { INSIGHT_ENV } from '../../core/insight/contracts';
import { type Environment, required } from '../shared/settings';

/** Settings of the alarm-incidents function (ADR 0099): both set by StatusReporter.addAlarmIncidents. */
export interface AlarmIncidentsSettings {
  /** The deployments table incidents are written to. */
  readonly table: string;
  /** Alarms whose names start with it are incidents. */
  readonly prefix: string;
}

export function alarmIncidentsSettings(env: Environment = process.env): AlarmIncidentsSettings {
  return {
    table: required(env, INSIGHT_ENV.table, 'the deployments table'),
    prefix: required(env, ALARM_PREFIX_ENV, 'the alarm name prefix'),
  };
}
