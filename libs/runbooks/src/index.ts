export * from './runbook';
export * from './loader';
export * from './plan';
export * from './builtin-actions';
export * from './diagnose-action';
