/** Injection tokens for values that are not classes. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const CATALOG = Symbol('CATALOG');
export const REDIS = Symbol('REDIS');
export const RUNBOOKS = Symbol('RUNBOOKS');
export const ACTIONS = Symbol('ACTIONS');
