import type { KeyDetail } from "../issuer.js";
import type { AzureAccount, KeySlot } from "./azure-management.js";

// What the owner's message says about a leaked Azure key: where it lives, and how its account was used
// (from the usage evidence, usage-summary.ts). Plain lines: the message templates print them as data.

interface Totals {
  prompt_tokens: number;
  generated_tokens: number;
  requests: number;
}

const n = (value: number) => value.toLocaleString("en-US");
const totals = (t: Totals) =>
  `${n(t.prompt_tokens)} prompt tokens, ${n(t.generated_tokens)} generated tokens, ${n(t.requests)} requests`;

export function azureKeyDetails(
  account: AzureAccount,
  slot: KeySlot,
  usage: Record<string, unknown>,
): KeyDetail[] {
  const details: KeyDetail[] = [
    { label: "Account", value: `${account.name} (${account.kind}, ${account.location})` },
    { label: "Resource group", value: account.resourceGroup },
    { label: "Subscription", value: account.subscriptionId },
    ...(account.endpoint ? [{ label: "Endpoint", value: account.endpoint }] : []),
    {
      label: "Key slot",
      value: `${slot}: revoking regenerates only this slot, so applications on the other keep working; read ${slot}'s new value in the Azure portal (Keys and Endpoint) or with \`az cognitiveservices account keys list --name ${account.name} --resource-group ${account.resourceGroup}\``,
    },
  ];
  if (usage.available !== true) {
    details.push({
      label: "Usage",
      value: `not available from Azure Monitor (${String(usage.reason ?? "")})`,
    });
    return details;
  }
  const day = usage.last_24h as Totals;
  const week = usage.last_7d as Totals;
  const busiest = usage.busiest_hour as { hour?: string; tokens?: number; requests?: number } | undefined;
  details.push(
    { label: "Usage, last 24 hours", value: totals(day) },
    { label: "Usage, last 7 days", value: totals(week) },
  );
  if (busiest?.hour) {
    const amount =
      busiest.tokens !== undefined ? `${n(busiest.tokens)} tokens` : `${n(busiest.requests ?? 0)} requests`;
    details.push({ label: "Busiest hour", value: `${busiest.hour}: ${amount}` });
  }
  details.push({
    label: "Unusual use",
    value: usage.unusual_last_24h
      ? "yes: the last 24 hours are above 3× the account's usual hourly use; treat this as abuse"
      : "no: the last 24 hours are within the account's usual use",
  });
  details.push({ label: "Note", value: String(usage.note ?? "") });
  return details;
}
