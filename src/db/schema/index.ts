// Every table of the platform, one file per module; drizzle-kit reads this file.
export * from './core';
export * from './agents';
export * from './chat';
export * from './api-keys';
export * from './goals';
export * from './notifications';
export * from './tools';
export * from './mcp';
export * from './knowledge';
export * from './workflows';
export * from './channels';
export * from './ecosystem';
export * from './governance';
export * from './triggers';
