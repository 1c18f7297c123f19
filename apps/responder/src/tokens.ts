/** Injection tokens for values that are not classes. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const CATALOG = Symbol('CATALOG');
export const REDIS = Symbol('REDIS');
export const RUNBOOKS = Symbol('RUNBOOKS');
export const ACTIONS = Symbol('ACTIONS');
/** The goal checks of mutating steps (a GoalChecker: libs/aws's, or a test's). */
export const GOAL_CHECKER = Symbol('GOAL_CHECKER');
