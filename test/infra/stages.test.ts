import { describe, expect, it } from "vitest";
import { readStagesFile, resolveStageSettings } from "../../infra/stages.js";

describe("stage settings", () => {
  it("validates every stage in infra/stages.json", () => {
    for (const stage of Object.keys(readStagesFile()))
      expect(() => resolveStageSettings(stage)).not.toThrow();
  });

  it("gives a stage with no entry the defaults", () => {
    expect(resolveStageSettings("qa", {})).toEqual({
      throttle: { rateLimit: 50, burstLimit: 100 },
      logRetentionDays: 90,
      logLevel: "INFO",
      timeToRevokeTargetMs: 250,
      adminAccess: { claim: "cognito:groups", read: ["tourniquet-admins"], write: ["tourniquet-responders"] },
      console: { origins: [] },
    });
  });

  it("names a bad admin access setting", () => {
    const bad = { prod: { adminAccess: { claim: "", write: ["tourniquet responders"], extra: true } } };
    expect(() => resolveStageSettings("prod", bad)).toThrow(/adminAccess\.claim:/);
    expect(() => resolveStageSettings("prod", bad)).toThrow(
      /adminAccess\.write\.0: must not contain whitespace/,
    );
  });

  it("takes overrides from context, as JSON text or an object", () => {
    expect(resolveStageSettings("qa", {}, '{"alarmEmail":"ops@example.com"}').alarmEmail).toBe(
      "ops@example.com",
    );
    expect(resolveStageSettings("qa", { qa: { logLevel: "WARN" } }, { logLevel: "ERROR" }).logLevel).toBe(
      "ERROR",
    );
  });

  it("names the stage and every bad field", () => {
    const bad = {
      prod: { alarmEmail: "not-an-email", logRetentionDays: 42, jwt: { issuer: "http://x" }, typo: 1 },
    };
    let message = "";
    try {
      resolveStageSettings("prod", bad);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Invalid settings for stage "prod"/);
    for (const field of ["alarmEmail", "logRetentionDays", "jwt.issuer", "jwt.audience", "(root)"]) {
      expect(message).toContain(`  - ${field}:`);
    }
  });
});
