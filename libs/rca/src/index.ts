export * from './model';
export * from './rca';
export * from './redact';
export * from './load';
