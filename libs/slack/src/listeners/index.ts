export * from './approval-button.listener';
export * from './button-value';
export * from './incident-command.listener';
export * from './team.middleware';
