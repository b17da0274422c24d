import { loadLocalTls } from "./local-tls.js";
import { SandboxAzure } from "./sandbox/sandbox-azure.js";
import { DEMO_AZURE_APP, SandboxAzureDemo } from "./sandbox/sandbox-azure-demo.js";

// The local stack's fake Azure (Entra ID, ARM, Azure Monitor) on its own loopback HTTPS port: the Azure
// SDKs want an https authority with a host of its own, which a path under the stack's plain-http port
// cannot be. config/local.json reaches it through TOURNIQUET_SANDBOX_AZURE_URL.

export interface LocalAzure {
  azure: SandboxAzure;
  demo: SandboxAzureDemo;
  /** The fake's self-signed certificate, for the Azure adapter's `trustedCaPem` only. */
  caPem: string;
}

export async function startLocalAzure(dataDir: string, clientSecret: string): Promise<LocalAzure> {
  const tls = await loadLocalTls(dataDir);
  const azure = await SandboxAzure.start({ ...DEMO_AZURE_APP, clientSecret, tls });
  const demo = new SandboxAzureDemo(azure);
  demo.seed();
  return { azure, demo, caPem: tls.cert };
}
