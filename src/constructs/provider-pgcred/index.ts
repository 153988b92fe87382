export * from './app';
export * from './attachment';
export * from './credential';
export * from './credential-url';
export * from './provider';
