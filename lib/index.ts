/**
 * The construct library's public API: the `ModelRegistry` construct, its props and the stack
 * that deploys one (bin/app.ts). Checked for other languages by jsii (scripts/check-jsii.ts).
 */
export * from './model-registry';
export * from './model-registry-stack';
