export * from './model';
export * from './rca';
export * from './redact';
export * from './load';
export * from './impact';
export * from './outcome';
