/** Delivery insight: deployment records, incidents, and the four keys of DORA computed from them (ADR 0097). */
export * from './backfill';
export * from './compute';
export * from './contracts';
export * from './incidents';
export * from './record';
export * from './service';
