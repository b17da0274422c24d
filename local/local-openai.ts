import type { IncomingMessage, ServerResponse } from "node:http";
import { SandboxOpenai } from "./sandbox/sandbox-openai.js";

// The local stack's fake OpenAI, mounted on the stack's own server under /sandbox/openai: the API at
// /sandbox/openai/v1 (config/local.json's `openai` issuer points there) and `POST /sandbox/openai/keys`
// to mint a live key for `simulate`. The organisation's admin key is the stack's local secret
// TOURNIQUET_SANDBOX_OPENAI_ADMIN_KEY (kept in the data dir, like the other local secrets), so the
// config names it as it would name the real one. The fake keeps its keys in memory only.

export const OPENAI_MOUNT = "/sandbox/openai";

export interface LocalOpenai {
  openai: SandboxOpenai;
  /** Serves a request whose path starts with /sandbox/openai/. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
}

/** The admin key in OpenAI's shape: `sk-admin-` and the data dir's secret. */
export const localOpenaiAdminKey = (secret: string) =>
  secret.startsWith("sk-") ? secret : `sk-admin-${secret}`;

export function startLocalOpenai(adminKey: string): LocalOpenai {
  const openai = new SandboxOpenai({ adminKey, organization: "org-tourniquetlocal" });
  openai.addProject("Default project");
  return {
    openai,
    handle: (req, res, path) => openai.handle(req, res, path.slice(OPENAI_MOUNT.length)),
  };
}
