import type { AlertReceipt } from "../../lib/github/alert-record.js";

/** What a webhook or a listing tells of alert `number` of `owner/repo` before its secret is fetched. */
export function alertReceipt(
  installationId: number,
  repository: string,
  number: number,
  secretType = "github_personal_access_token",
): AlertReceipt {
  const [owner = "", repo = ""] = repository.split("/");
  return { installationId, owner, repo, number, secretType, repoHtmlUrl: `https://github.com/${repository}` };
}
