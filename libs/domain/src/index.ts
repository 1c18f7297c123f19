export * from './alarm-event';
export * from './catalog';
export * from './incident';
export * from './validation';
export * from './yaml-source';
export * from './action';
export * from './expression';
export * from './template';
