export * from "./types";
export { BUILTIN_PROVIDER_IDS, createProviders } from "./registry";
export { createShellProvider, type ShellCategory } from "./shell";
export { createGitProvider } from "./git";
export { createWebhookProvider, type WebhookOptions } from "./webhook";
export { createHandlerProvider, type HandlerJobFile } from "./handler";
export { INTERNAL_DIR, baseEnvironment, prepareJobEnvironment, readOutputVariables } from "./environment";
export { parseJUnit, type TestCounts } from "./junit";
