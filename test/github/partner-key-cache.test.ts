import { createPublicKey, randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KeySetUnavailableError, SignatureError } from "../../lib/errors.js";
import { PartnerKeyCache, type PartnerKeyCacheOptions } from "../../lib/github/partner-key-cache.js";
import { partnerKeySetLoader } from "../../lib/github/partner-key-set.js";
import { FakeGitHubKeysServer } from "../helpers/fake-github-keys-server.js";
import { createPartnerSigner, type PartnerSigner } from "../helpers/partner-keys.js";
import { rejection } from "../helpers/rejection.js";

// PartnerKeyCache + partnerKeySetLoader against a real loopback key server: caching, refetch on
// unknown ids (single flight, at most one per 5 s), TTL refresh, and outages with warm/cold caches.

let server: FakeGitHubKeysServer;
let current: PartnerSigner;
let clock: number;
let refreshErrors: unknown[];
let slept: number[];

beforeEach(async () => {
  current = createPartnerSigner();
  server = await FakeGitHubKeysServer.start([current.published]);
  clock = 1_000_000;
  refreshErrors = [];
  slept = [];
});
afterEach(() => server.close());

function cache(options: Partial<PartnerKeyCacheOptions> & { timeoutMs?: number } = {}): PartnerKeyCache {
  const { timeoutMs, ...rest } = options;
  return new PartnerKeyCache({
    load: partnerKeySetLoader({ url: server.url, timeoutMs: timeoutMs ?? 2_000 }),
    now: () => clock,
    // Waiting for the next allowed refetch moves the fake clock instead of real time.
    sleep: async (ms) => {
      slept.push(ms);
      clock += ms;
    },
    onRefreshError: (error) => refreshErrors.push(error),
    ...rest,
  });
}

const randomId = () => randomBytes(16).toString("hex");

const failure = (call: Promise<unknown>) => rejection(call, Error);

describe("caching", () => {
  it("fetches once and serves later gets from the cache", async () => {
    const keys = cache();
    const first = await keys.get(current.keyId);
    const second = await keys.get(current.keyId);
    expect(second).toBe(first);
    expect(first.asymmetricKeyType).toBe("ec");
    expect(server.requestCount).toBe(1);
  });

  it("shares one request among concurrent gets on a cold cache", async () => {
    server.delayMs = 50;
    const keys = cache();
    await Promise.all(Array.from({ length: 20 }, () => keys.get(current.keyId)));
    expect(server.requestCount).toBe(1);
  });

  it("sends a bearer token when one is configured, and none otherwise", async () => {
    await partnerKeySetLoader({ url: server.url, token: "ghp_test" })();
    await partnerKeySetLoader({ url: server.url })();
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(["Bearer ghp_test", undefined]);
    expect(server.requests[0]?.headers.accept).toBe("application/json");
  });
});

describe("unknown key ids", () => {
  it("refetch exactly once and find a key published since the last fetch", async () => {
    const keys = cache();
    await keys.get(current.keyId);
    const rotated = createPartnerSigner();
    server.publish(rotated.published);

    const key = await keys.get(rotated.keyId);
    expect(key.export({ type: "spki", format: "pem" })).toBe(rotated.published.key);
    expect(server.requestCount).toBe(2);
  });

  it("that stay unknown after a refetch begun after the request are a SignatureError", async () => {
    const keys = cache();
    await keys.get(current.keyId);
    const error = await failure(keys.get("never-published"));
    expect(error).toBeInstanceOf(SignatureError);
    expect(error.message).toContain("never-published");
    expect(server.requestCount).toBe(2);
  });

  it("asked for by 50 concurrent gets cost two fetches, and every get is told 401, none 503", async () => {
    const keys = cache();
    await keys.get(current.keyId);
    server.delayMs = 50;

    const results = await Promise.allSettled(Array.from({ length: 50 }, () => keys.get(randomId())));
    const reasons = results.map((r) => (r.status === "rejected" ? r.reason : r.value));
    // The others arrived after the first fetch began (GitHub may have published their key since): they
    // wait for the next allowed fetch, which all of them share, and are told from it.
    expect(reasons.filter((r) => r instanceof SignatureError)).toHaveLength(50);
    expect(server.requestCount).toBe(3);
    expect(slept.length).toBeGreaterThan(0);
    expect(Math.max(...slept)).toBeLessThanOrEqual(5_000);
  });

  // During a key rotation every concurrent report signed by the new key is accepted, not just the first.
  it("asked for by concurrent gets all resolve once the shared refetch finds the key", async () => {
    const keys = cache();
    await keys.get(current.keyId);
    const rotated = createPartnerSigner();
    server.publish(rotated.published);
    server.delayMs = 50;

    const results = await Promise.allSettled(Array.from({ length: 10 }, () => keys.get(rotated.keyId)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(10);
    expect(server.requestCount).toBe(2);
  });

  it("flooding over time cause at most one fetch per 5 s, and each flooded get a 401 within 5 s, never a 503", async () => {
    const fetchedAt: number[] = [];
    const load = partnerKeySetLoader({ url: server.url, timeoutMs: 2_000 });
    const keys = cache({
      load: () => {
        fetchedAt.push(clock);
        return load();
      },
    });
    await keys.get(current.keyId);
    const start = clock;

    // 200 random ids, one every second: 200 s of flood.
    for (let i = 0; i < 200; i++) {
      clock = Math.max(clock, start + i * 1_000);
      const arrived = clock;
      expect(await failure(keys.get(randomId()))).toBeInstanceOf(SignatureError);
      expect(clock - arrived).toBeLessThanOrEqual(5_000);
    }
    const gaps = fetchedAt.slice(2).map((at, i) => at - (fetchedAt[i + 1] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(5_000);
    // A known key keeps working throughout, without a fetch and without waiting.
    const fetches = fetchedAt.length;
    const waits = slept.length;
    await keys.get(current.keyId);
    expect(fetchedAt).toHaveLength(fetches);
    expect(slept).toHaveLength(waits);
  });

  // Issue 9, point 3: an attacker's random id used to block the refetch for 60 s, and GitHub dropped
  // the 401'd reports signed with the key it had just published.
  it("after a random id, a key published moments later waits for the next allowed fetch and is found", async () => {
    const keys = cache();
    await keys.get(current.keyId);
    expect(await failure(keys.get(randomId()))).toBeInstanceOf(SignatureError);
    expect(server.requestCount).toBe(2);

    const rotated = createPartnerSigner();
    server.publish(rotated.published);
    clock += 1_000;
    await expect(keys.get(rotated.keyId)).resolves.toBeDefined();
    expect(slept).toEqual([4_000]);
    expect(server.requestCount).toBe(3);
  });

  it("wait in real time when no clock is given: the answer comes after the interval, not before", async () => {
    const keys = new PartnerKeyCache({
      load: partnerKeySetLoader({ url: server.url, timeoutMs: 2_000 }),
      unknownKeyRefetchMs: 200,
    });
    await keys.get(current.keyId);
    expect(await failure(keys.get(randomId()))).toBeInstanceOf(SignatureError);
    const started = performance.now();
    expect(await failure(keys.get(randomId()))).toBeInstanceOf(SignatureError);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(150);
    expect(waited).toBeLessThan(2_000);
    expect(server.requestCount).toBe(3);
  });

  it("that arrive while the endpoint is down get a 503, not a 401", async () => {
    const keys = cache();
    await keys.get(current.keyId);
    server.failWith(503);
    const first = await failure(keys.get(randomId()));
    expect(first).toBeInstanceOf(KeySetUnavailableError);
    expect(first.message).toMatch(/HTTP 503/);
    clock += 1_000;
    // The next allowed fetch fails too: still a 503, at most one fetch per 5 s.
    expect(await failure(keys.get(randomId()))).toBeInstanceOf(KeySetUnavailableError);
    expect(server.requestCount).toBe(3);
    expect(slept).toEqual([4_000]);
    // Known keys are served from the cache meanwhile.
    await expect(keys.get(current.keyId)).resolves.toBeDefined();
  });
});

describe("TTL", () => {
  it("refreshes the set on the first get after it expires, not before", async () => {
    const keys = cache({ ttlMs: 10_000 });
    await keys.get(current.keyId);

    clock += 10_000;
    await keys.get(current.keyId);
    expect(server.requestCount).toBe(1);

    clock += 1;
    await keys.get(current.keyId);
    expect(server.requestCount).toBe(2);
  });

  it("drops a key GitHub no longer publishes after the refresh", async () => {
    const keys = cache({ ttlMs: 10_000 });
    await keys.get(current.keyId);
    const next = createPartnerSigner();
    server.keys = [next.published];

    clock += 10_001;
    expect(await failure(keys.get(current.keyId))).toBeInstanceOf(SignatureError);
    await expect(keys.get(next.keyId)).resolves.toBeDefined();
  });
});

describe("key endpoint outage with a warm cache", () => {
  async function warmThenExpire(options: Partial<PartnerKeyCacheOptions> & { timeoutMs?: number } = {}) {
    const keys = cache({ ttlMs: 10_000, ...options });
    await keys.get(current.keyId);
    clock += 10_001;
    return keys;
  }

  it.each([500, 503])("keeps serving known keys when the endpoint answers %i", async (status) => {
    const keys = await warmThenExpire();
    server.failWith(status);

    await expect(keys.get(current.keyId)).resolves.toBeDefined();
    expect(server.requestCount).toBe(2);
    expect(refreshErrors).toHaveLength(1);
    expect(refreshErrors[0]).toBeInstanceOf(KeySetUnavailableError);
    expect((refreshErrors[0] as Error).message).toContain(`HTTP ${status}`);
  });

  it("does not refetch on every request while the endpoint stays down, but tries again after a minute", async () => {
    const keys = await warmThenExpire();
    server.failWith(503);
    for (let i = 0; i < 10; i++) await keys.get(current.keyId);
    expect(server.requestCount).toBe(2);
    clock += 60_001;
    await keys.get(current.keyId);
    expect(server.requestCount).toBe(3);
  });

  it("keeps serving known keys when the endpoint refuses connections", async () => {
    const keys = await warmThenExpire();
    await server.close();

    await expect(keys.get(current.keyId)).resolves.toBeDefined();
    expect(refreshErrors).toHaveLength(1);
    expect(refreshErrors[0]).toBeInstanceOf(KeySetUnavailableError);
  });

  it("keeps serving known keys when the endpoint hangs past the fetch timeout", async () => {
    const keys = await warmThenExpire({ timeoutMs: 150 });
    server.hang();

    const started = Date.now();
    await expect(keys.get(current.keyId)).resolves.toBeDefined();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(refreshErrors).toHaveLength(1);
  });

  it("picks up the new set once the endpoint is back", async () => {
    const keys = await warmThenExpire();
    server.failWith(500);
    await keys.get(current.keyId);

    server.recover();
    const next = createPartnerSigner();
    server.keys = [next.published];
    await expect(keys.get(next.keyId)).resolves.toBeDefined();
  });

  it("tolerates a slow endpoint that answers within the timeout", async () => {
    server.delayMs = 100;
    const keys = cache({ timeoutMs: 2_000 });
    await expect(keys.get(current.keyId)).resolves.toBeDefined();
    expect(refreshErrors).toHaveLength(0);
  });
});

describe("key endpoint outage with a cold cache", () => {
  async function unavailable(keys: PartnerKeyCache): Promise<KeySetUnavailableError> {
    const error = await failure(keys.get(current.keyId));
    expect(error).toBeInstanceOf(KeySetUnavailableError);
    expect((error as KeySetUnavailableError).status).toBe(503);
    expect((error as KeySetUnavailableError).transient).toBe(true);
    return error as KeySetUnavailableError;
  }

  it("is a 503 KeySetUnavailableError when the endpoint answers 500", async () => {
    server.failWith(500);
    await unavailable(cache());
  });

  it("is a 503 KeySetUnavailableError when the endpoint refuses connections", async () => {
    await server.close();
    const error = await unavailable(cache());
    expect(error.message).toContain(server.url);
  });

  it("is a 503 KeySetUnavailableError when the endpoint hangs", async () => {
    server.hang();
    await unavailable(cache({ timeoutMs: 150 }));
  });

  it("is not remembered: a get 5 s later fetches again and succeeds", async () => {
    server.failWith(503);
    const keys = cache();
    await unavailable(keys);
    server.recover();
    clock += 5_000;
    await expect(keys.get(current.keyId)).resolves.toBeDefined();
  });

  it("is tried at most once per 5 s, whatever the requests' key ids, answering 503 in between", async () => {
    server.failWith(503);
    const keys = cache();
    const start = clock;
    for (let i = 0; i < 20; i++) {
      clock = start + i * 500;
      const error = await failure(keys.get(i % 2 ? current.keyId : randomId()));
      expect(error).toBeInstanceOf(KeySetUnavailableError);
    }
    expect(server.requestCount).toBe(2); // t = 0 and t = 5 s
  });
});

describe("malformed key sets", () => {
  it.each([
    ["not JSON", "<html>rate limited</html>"],
    ["JSON of the wrong shape", JSON.stringify({ keys: [] })],
    ["an entry without a key", JSON.stringify({ public_keys: [{ key_identifier: "x", is_current: true }] })],
    ["a key that is not PEM", JSON.stringify({ public_keys: [{ key_identifier: "x", key: "not a pem" }] })],
  ])("%s is a KeySetUnavailableError", async (_name, body) => {
    server.serveBody(body);
    const error = await failure(cache().get(current.keyId));
    expect(error).toBeInstanceOf(KeySetUnavailableError);
    expect(error.message).toMatch(/malformed/);
  });
});

describe("oversized key sets", () => {
  // Issue 9, point 13: the answer is read with a cap, whatever the (configurable) key URL serves.
  it("an answer over 256 KB is a KeySetUnavailableError, not read to its end", async () => {
    server.serveBody(
      JSON.stringify({ public_keys: [current.published], padding: "x".repeat(2 * 1024 * 1024) }),
    );
    const error = await failure(cache().get(current.keyId));
    expect(error).toBeInstanceOf(KeySetUnavailableError);
    expect(error.message).toBe(`partner signing keys from ${server.url}: answer larger than 262144 bytes`);
  });

  it("an answer just under the cap is read", async () => {
    server.serveBody(JSON.stringify({ public_keys: [current.published], padding: "x".repeat(200 * 1024) }));
    await expect(cache().get(current.keyId)).resolves.toBeDefined();
  });
});

describe("cold start with GitHub's key endpoint down, and a saved key set (coldFallback)", () => {
  const saved =
    (...signers: PartnerSigner[]) =>
    async () =>
      new Map(signers.map((s) => [s.keyId, createPublicKey(s.published.key)] as const));

  it("serves a key from the saved set, reports the outage, and tries GitHub again after a pause", async () => {
    server.failWith(503);
    const keys = cache({ coldFallback: saved(current) });
    const key = await keys.get(current.keyId);
    expect(key.asymmetricKeyType).toBe("ec");
    expect(refreshErrors).toHaveLength(1);
    expect(server.requestCount).toBe(1);

    await keys.get(current.keyId);
    expect(server.requestCount).toBe(1); // not on every request

    server.recover();
    clock += 61_000;
    await keys.get(current.keyId);
    expect(server.requestCount).toBe(2);
  });

  it("answers 503, not 401, for a key id the saved set does not know: it may be newer than the copy", async () => {
    server.failWith(503);
    const keys = cache({ coldFallback: saved(current) });
    const error = await failure(keys.get(randomId()));
    expect(error).toBeInstanceOf(KeySetUnavailableError);
    expect(error.message).toMatch(/not in the saved key set/);
  });

  it("once GitHub answers again, unknown ids are refused as bad signatures as usual", async () => {
    server.failWith(503);
    const keys = cache({ coldFallback: saved(current) });
    await keys.get(current.keyId);
    server.recover();
    clock += 61_000;
    expect(await failure(keys.get(randomId()))).toBeInstanceOf(SignatureError);
  });

  it("answers 503 when there is no saved set, or reading it fails", async () => {
    server.failWith(503);
    for (const coldFallback of [async () => undefined, async () => Promise.reject(new Error("table down"))]) {
      const error = await failure(cache({ coldFallback }).get(current.keyId));
      expect(error).toBeInstanceOf(KeySetUnavailableError);
      expect(error.message).toMatch(/HTTP 503/);
    }
  });

  it("does not consult the saved set when GitHub answers", async () => {
    let consulted = 0;
    const keys = cache({
      coldFallback: async () => {
        consulted++;
        return undefined;
      },
    });
    await keys.get(current.keyId);
    expect(await failure(keys.get(randomId()))).toBeInstanceOf(SignatureError);
    expect(consulted).toBe(0);
  });
});
