export * from './rca';
export * from './redact';
