import type { OpenaiAccess } from "./openai-access.js";
import type { OpenaiSdkAccessOptions } from "./openai-sdk-access.js";

// OpenAI's SDK is loaded with the first OpenAI call, not when the config is read: a function that never
// meets an OpenAI key pays nothing for it at cold start beyond the bundle's bytes (esbuild keeps the
// dynamic import lazy).

/** How the issuer registry gets the port. */
export type OpenaiAccessFactory = (options: OpenaiSdkAccessOptions) => OpenaiAccess;

export const lazyOpenaiAccess: OpenaiAccessFactory = (options) => {
  let loaded: Promise<OpenaiAccess> | undefined;
  const access = () => {
    loaded ??= import("./openai-sdk-access.js").then(({ OpenaiSdkAccess }) => new OpenaiSdkAccess(options));
    return loaded;
  };
  return {
    listModels: async (key, o) => (await access()).listModels(key, o),
    listProjects: async (after, o) => (await access()).listProjects(after, o),
    listProjectApiKeys: async (project, after, o) => (await access()).listProjectApiKeys(project, after, o),
    retrieveProjectApiKey: async (project, id, o) => (await access()).retrieveProjectApiKey(project, id, o),
    deleteProjectApiKey: async (project, id, o) => (await access()).deleteProjectApiKey(project, id, o),
    completionsUsage: async (query, o) => (await access()).completionsUsage(query, o),
  };
};
