import { AzureArmManagement } from "../../lib/issuers/azure/azure-arm-management.js";

// Run as its own process by a test: lists one subscription's accounts with no trustedCaPem, so only
// the environment's NODE_EXTRA_CA_CERTS can make the fake Azure's certificate trusted.

const env = (name: string) => process.env[name] ?? "";
const management = new AzureArmManagement({
  tenantId: env("AZURE_TENANT_ID"),
  clientId: env("AZURE_CLIENT_ID"),
  clientSecret: env("AZURE_CLIENT_SECRET"),
  authorityUrl: env("AZURE_URL"),
  managementUrl: env("AZURE_URL"),
});
const accounts = await management.listAccounts(env("AZURE_SUBSCRIPTION"));
process.stdout.write(JSON.stringify(accounts.map((a) => a.name)));
