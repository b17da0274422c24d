import { describe, expect, it } from "vitest";
import { BadRequestError } from "../../lib/errors.js";
import { locationUrl } from "../../lib/github/alert-locations.js";
import { parseWebhookEvent } from "../../lib/github/webhook-event.js";

// Routing a delivery by event and action, reading the alert payload, and turning GitHub's location
// details into pages a person can open.

const payload = (action: string, extra: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      action,
      alert: {
        number: 42,
        secret_type: "adafruit_io_key",
        html_url: "https://github.com/octo-org/hello-world/security/secret-scanning/42",
        validity: "unknown",
      },
      repository: {
        name: "hello-world",
        full_name: "octo-org/hello-world",
        html_url: "https://github.com/octo-org/hello-world",
        owner: { login: "octo-org" },
      },
      installation: { id: 7, node_id: "x" },
      ...extra,
    }),
  );

describe("parseWebhookEvent", () => {
  it.each(["created", "reopened", "publicly_leaked", "validated"])(
    "acts on secret_scanning_alert.%s",
    (action) => {
      const live = payload(action, {
        alert: {
          number: 42,
          secret_type: "adafruit_io_key",
          html_url: "https://github.com/octo-org/hello-world/security/secret-scanning/42",
          validity: "active",
        },
      });
      expect(parseWebhookEvent("secret_scanning_alert", live)).toEqual({
        kind: "alert",
        action,
        alert: {
          installationId: 7,
          number: 42,
          secretType: "adafruit_io_key",
          htmlUrl: "https://github.com/octo-org/hello-world/security/secret-scanning/42",
          owner: "octo-org",
          repo: "hello-world",
          fullName: "octo-org/hello-world",
          repoHtmlUrl: "https://github.com/octo-org/hello-world",
        },
      });
    },
  );

  it.each(["inactive", "unknown"])(
    "ignores secret_scanning_alert.validated when GitHub found the secret %s (as after our revocation)",
    (validity) => {
      const checked = payload("validated", {
        alert: { number: 42, secret_type: "adafruit_io_key", validity },
      });
      expect(parseWebhookEvent("secret_scanning_alert", checked)).toEqual({
        kind: "ignored",
        name: "secret_scanning_alert.validated",
      });
    },
  );

  it("answers ping and ignores other actions and events by name", () => {
    expect(parseWebhookEvent("ping", Buffer.from('{"zen":"x"}'))).toEqual({ kind: "ping" });
    expect(parseWebhookEvent("secret_scanning_alert", payload("resolved"))).toEqual({
      kind: "ignored",
      name: "secret_scanning_alert.resolved",
    });
    expect(parseWebhookEvent("secret_scanning_alert_location", payload("created"))).toEqual({
      kind: "ignored",
      name: "secret_scanning_alert_location.created",
    });
    expect(parseWebhookEvent("push", Buffer.from("{}"))).toEqual({ kind: "ignored", name: "push" });
  });

  it("derives the repository page from the alert's when the payload lacks it", () => {
    const body = JSON.parse(payload("created").toString());
    delete body.repository.html_url;
    const event = parseWebhookEvent("secret_scanning_alert", Buffer.from(JSON.stringify(body)));
    expect(event.kind === "alert" && event.alert.repoHtmlUrl).toBe("https://github.com/octo-org/hello-world");
  });

  it("rejects a body that is not a JSON object, and an alert payload missing fields, naming them", () => {
    expect(() => parseWebhookEvent("ping", Buffer.from("not json"))).toThrow(BadRequestError);
    expect(() => parseWebhookEvent("ping", Buffer.from("[]"))).toThrow(/JSON object/);
    expect(() =>
      parseWebhookEvent("secret_scanning_alert", payload("created", { installation: null })),
    ).toThrow(/installation.*GitHub App webhook/);
    expect(() =>
      parseWebhookEvent("secret_scanning_alert", payload("created", { alert: { number: "x" } })),
    ).toThrow(/alert\.number.*alert\.secret_type/);
    expect(() => parseWebhookEvent("Bad Event", Buffer.from("{}"))).toThrow(/X-GitHub-Event/);
  });
});

describe("locationUrl", () => {
  const repo = "https://github.com/o/r";
  const alert = `${repo}/security/secret-scanning/1`;
  const api = "https://api.github.com/repos/o/r";
  const url = (type: string, details: Record<string, unknown>) => locationUrl({ type, details }, repo, alert);

  it("links a commit location to the file at that commit and its lines", () => {
    const sha = "af5626b4a114abcb82d63db7c8082c3c4756e51b";
    expect(
      url("commit", { path: "/config/my secrets.txt", start_line: 3, end_line: 5, commit_sha: sha }),
    ).toBe(`${repo}/blob/${sha}/config/my%20secrets.txt#L3-L5`);
    expect(url("commit", { path: "a.env", start_line: 2, end_line: 2, commit_sha: sha })).toBe(
      `${repo}/blob/${sha}/a.env#L2`,
    );
    expect(url("commit", { path: "a.env", commit_sha: "not a sha" })).toBe(alert);
  });

  it("links issues, pull requests and reviews to their pages", () => {
    expect(url("issue_title", { issue_title_url: `${api}/issues/1347` })).toBe(`${repo}/issues/1347`);
    expect(url("issue_body", { issue_body_url: `${api}/issues/1` })).toBe(`${repo}/issues/1`);
    expect(url("pull_request_body", { pull_request_body_url: `${api}/pulls/2846` })).toBe(
      `${repo}/pull/2846`,
    );
    expect(url("pull_request_review", { pull_request_review_url: `${api}/pulls/2846/reviews/80` })).toBe(
      `${repo}/pull/2846#pullrequestreview-80`,
    );
  });

  it("keeps discussion pages of the repository as they are, and nothing on another host", () => {
    const page = `${repo}/discussions/39082#discussioncomment-4158232`;
    expect(url("discussion_comment", { discussion_comment_url: page })).toBe(page);
    expect(url("discussion_body", { discussion_body_url: "https://evil.example/o/r/discussions/1" })).toBe(
      alert,
    );
  });

  it("falls back to the alert's page where no page can be built", () => {
    expect(url("issue_comment", { issue_comment_url: `${api}/issues/comments/1081119451` })).toBe(alert);
    expect(url("pull_request_review_comment", {})).toBe(alert);
    expect(url("some_future_type", { whatever: 1 })).toBe(alert);
  });
});
