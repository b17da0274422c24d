import { describe, expect, it } from "vitest";
import { durationText } from "../../lib/util/duration-text.js";

describe("durationText", () => {
  it.each([
    [0, "0 ms"],
    [216, "216 ms"],
    [1_000, "1.0 s"],
    [3_240, "3.2 s"],
    [59_999, "60.0 s"],
    [60_000, "1 min 0 s"],
    [245_900, "4 min 5 s"],
    [3_600_000, "1 h 0 min"],
    [7_380_000, "2 h 3 min"],
    [3 * 86_400_000 + 4 * 3_600_000 + 59_000, "3 d 4 h"],
  ])("%d ms reads %s", (ms, text) => {
    expect(durationText(ms)).toBe(text);
  });
});
