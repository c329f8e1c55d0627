/**
 * The construct library's public API: the `ModelRegistry` construct, its props and the stack
 * that deploys one (bin/app.ts). Checked for other languages by jsii (scripts/check-jsii.ts).
 */
export * from './model-registry';
export * from './model-registry-stack';
export {
  type ConsoleOidcProvider,
  type ConsoleSamlProvider,
  type IConsoleRegistry,
  RegistryConsole,
  type RegistryConsoleConstructProps,
  type RegistryConsoleProps,
} from './registry-console';
export { RegistryWebhooks, type RegistryWebhooksProps } from './webhooks';
