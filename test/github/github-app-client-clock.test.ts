import { afterAll, afterEach, beforeAll, expect, it, vi } from "vitest";
import { appPrivateKey } from "../../lib/github/app-private-key.js";
import { type AlertRef, GithubAppClient } from "../../lib/github/github-app-client.js";
import { FAKE_APP_ID, type FakeGithubApi, startFakeGithubApi } from "../helpers/fake-github-api.js";

// How long GithubAppClient keeps an installation token, with the wall clock moved forward. In a file of
// its own: Octokit's throttling queues live as long as the process and read the wall clock, so calls
// made after the clock was set back again would wait until it caught up.

let gh: FakeGithubApi;
let ref: AlertRef;

beforeAll(async () => {
  // The fake reads the (faked) clock at each call: its tokens expire an hour after it made them.
  gh = await startFakeGithubApi({ now: () => Date.now() });
  const alert = gh.api.createAlert({
    repository: "acme/app",
    secret: "s3cr3t",
    secret_type: "x",
    installation_id: 11,
  });
  ref = { installationId: 11, owner: "acme", repo: "app", number: alert.number };
});
afterAll(() => gh.close());
afterEach(() => vi.useRealTimers());

it("reuses the installation token until a minute before GitHub's one-hour expiry, then takes a new one", async () => {
  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
  const c = new GithubAppClient({
    apiUrl: gh.url,
    appId: FAKE_APP_ID,
    privateKey: appPrivateKey(gh.appPrivateKey),
  });
  const tokenCalls = () => gh.api.requests.filter((r) => r.path.endsWith("/access_tokens")).length;

  await c.getAlert(ref);
  vi.setSystemTime(Date.now() + 58 * 60_000);
  await c.getAlert(ref);
  expect(tokenCalls()).toBe(1);

  vi.setSystemTime(Date.now() + 2 * 60_000); // the first token has expired at the fake
  await expect(c.getAlert(ref)).resolves.toMatchObject({ secret: "s3cr3t" });
  expect(tokenCalls()).toBe(2);
});
