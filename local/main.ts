import { startLocalStack } from "./local-stack.js";

// `npm start`: the local stack on PORT (default 3000), state under TOURNIQUET_DATA_DIR (.tourniquet/).

// The machine's Node is 20 while Lambda runs 22; the SDK's reminder of that is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const port = Number(process.env.PORT ?? 3000);
const dataDir = process.env.TOURNIQUET_DATA_DIR ?? ".tourniquet";

try {
  const stack = await startLocalStack({ port, dataDir, host: process.env.HOST ?? "127.0.0.1" });
  const consoleMs = await stack.consoleBuilt;
  const lines = [
    `Tourniquet local stack on ${stack.url}`,
    `  partner reports  POST ${stack.url}/v1/github/secret-scanning`,
    `  GitHub App hooks POST ${stack.url}/v1/github/webhooks  (secret: ${stack.dataDir}/github-webhook.secret; fake GitHub API at /sandbox/github/api)`,
    `  admin API        GET  ${stack.url}/v1/admin/leaks  (Authorization: Bearer <TOURNIQUET_ADMIN_TOKEN or ${stack.dataDir}/admin-token>)`,
    `  admin console    ${stack.url}/admin/#token=${stack.adminToken}  (built in ${Math.round(consoleMs)} ms; the link signs this browser tab in)`,
    `  sandbox issuer   POST ${stack.url}/sandbox/keys`,
    `  fake Azure       ${stack.azure.url} (Entra ID, ARM, Azure Monitor; a demo key: POST ${stack.url}/sandbox/azure/keys)`,
    `  fake AWS         ${stack.aws.url} (STS, IAM; a demo key pair: POST ${stack.url}/sandbox/aws/keys)`,
    `  data             ${stack.dataDir} (outbox/, db/)`,
    "Try it: npm run simulate  (or: npm run simulate -- --type azure_openai_key | aws_access_key_id | openai_api_key)",
  ];
  process.stderr.write(`${lines.join("\n")}\n`);
  const stop = async () => {
    await stack.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (error) {
  process.stderr.write(`tourniquet: cannot start the local stack: ${(error as Error).message}\n`);
  process.exit(1);
}
