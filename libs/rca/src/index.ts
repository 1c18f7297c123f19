export * from './model';
export * from './rca';
export * from './input';
