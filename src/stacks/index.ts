export * from './basic-example-stack';
export * from './config-file-stack';
