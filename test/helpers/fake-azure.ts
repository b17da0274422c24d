import { readFileSync } from "node:fs";
import {
  AzureArmManagement,
  type AzureArmManagementOptions,
} from "../../lib/issuers/azure/azure-arm-management.js";
import { SandboxAzure } from "../../local/sandbox/sandbox-azure.js";

// The fake Azure over HTTPS with the test certificate (test/fixtures/tls), and an adapter that trusts
// that certificate through its own pipeline option, not through NODE_EXTRA_CA_CERTS.

const fixture = (name: string) => readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url), "utf8");

export const TEST_TLS = { key: fixture("localhost-key.pem"), cert: fixture("localhost-cert.pem") };

export const AZURE_APP = {
  tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  clientId: "0f5c7d3a-6b1e-4c55-9d2e-5a8e1f0b2c11",
  clientSecret: "test-client-secret~not-a-real-one-0123456789",
};

export function startFakeAzure(options: { pageSize?: number } = {}): Promise<SandboxAzure> {
  return SandboxAzure.start({ ...AZURE_APP, tls: TEST_TLS, ...options });
}

export function azureManagement(
  azure: SandboxAzure,
  overrides: Partial<AzureArmManagementOptions> = {},
): AzureArmManagement {
  return new AzureArmManagement({
    ...AZURE_APP,
    authorityUrl: azure.url,
    managementUrl: azure.url,
    trustedCaPem: TEST_TLS.cert,
    timeoutMs: 5_000,
    ...overrides,
  });
}
