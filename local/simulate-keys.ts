import { redactToken } from "../lib/intake/fingerprint.js";
import type { DemoAzureKey, DemoKind } from "./sandbox/sandbox-azure-demo.js";

// The live key `tourniquet simulate` leaks, per token type: a sandbox issuer key, or a key of a new demo
// account in the local fake Azure. Only a preview of it is ever printed.

export const SANDBOX_TOKEN_TYPE = "tourniquet_sandbox_token";
const AZURE_KINDS: Record<string, DemoKind> = {
  azure_openai_key: "OpenAI",
  azure_ai_services_key: "AIServices",
  azure_cognitive_services_key: "CognitiveServices",
};
export const SIMULATE_TYPES = [SANDBOX_TOKEN_TYPE, ...Object.keys(AZURE_KINDS)];

export interface IssuedKey {
  token: string;
  /** What was issued, for the first line of output. */
  description: string;
}

export type Requester = <T>(url: string, init: RequestInit) => Promise<T>;

export async function issueKey(url: string, type: string, request: Requester): Promise<IssuedKey> {
  const post = (path: string, body: unknown) =>
    request(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  if (type === SANDBOX_TOKEN_TYPE) {
    const key = (await post("/sandbox/keys", {
      owner: { email: "owner@example.test", name: "Demo Owner" },
    })) as { token: string; key_id: string };
    return { token: key.token, description: `sandbox key ${key.key_id} (${redactToken(key.token)})` };
  }
  const kind = AZURE_KINDS[type];
  if (!kind) throw new Error(`simulate knows no token type ${type}; use one of ${SIMULATE_TYPES.join(", ")}`);
  const key = (await post("/sandbox/azure/keys", { kind })) as DemoAzureKey;
  return {
    token: key.key,
    description: `Azure ${kind} key ${key.key_name} of account ${key.name} (${redactToken(key.key)}), owner ${key.owner} by its tags`,
  };
}
