export * from './model';
export * from './rca';
export * from './input';
export * from './impact';
export * from './outcome';
