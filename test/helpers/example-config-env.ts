// The variables config/tourniquet.example.json documents (its secrets' names), with stand-in values.
export const EXAMPLE_CONFIG_ENV = {
  ACME_ISSUER_HMAC_SECRET: "acme-hmac",
  AZURE_CLIENT_SECRET: "azure-client-secret",
  SLACK_BOT_TOKEN: "xoxb-example",
  OPENAI_ADMIN_KEY: "sk-admin-example",
  GITHUB_APP_PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----",
  GITHUB_APP_WEBHOOK_SECRET: "hook",
  GITHUB_APP_PREVIOUS_WEBHOOK_SECRET: "old-hook",
  SMTP_PASSWORD: "smtp-password",
  SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T000/B000/XXXX",
  WEBHOOK_HMAC_SECRET: "webhook-hmac",
};
