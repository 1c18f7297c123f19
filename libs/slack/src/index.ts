export * from './view';
export * from './ports';
export * from './listeners';
export * from './messages';
export * from './slack-web.adapter';
