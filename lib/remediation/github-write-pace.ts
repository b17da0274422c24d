// GitHub asks integrations for one write a second (Octokit's throttling enforces it per process). An
// alert resolution that waited for its turn inside a worker slot would hold up the deliveries behind
// it, revocations included; so while another resolution is under way (or the last began under a second
// ago), it goes back to the queue instead, delayed until about when its turn comes. Each deferral
// reserves the next free second, so a burst of resolutions spreads out instead of coming back at once.
// One per process (the worker's wiring makes it), as Octokit's pacing is.

const SPACING_MS = 1_000;

export class GithubWritePace {
  private inFlight = 0;
  private lastStartedAt = Number.NEGATIVE_INFINITY;
  private reservedUntil = Number.NEGATIVE_INFINITY;

  constructor(private readonly now: () => number = Date.now) {}

  /** `undefined` when a write may start now; otherwise how long to put it off (whole seconds, ≥ 1). */
  delaySeconds(): number | undefined {
    const now = this.now();
    const freeAt = this.lastStartedAt + SPACING_MS;
    if (this.inFlight === 0 && freeAt <= now) return undefined;
    // The first free second: after the last write began, and after the turns already handed out.
    this.reservedUntil = Math.max(freeAt, now, this.reservedUntil + SPACING_MS);
    return Math.max(1, Math.ceil((this.reservedUntil - now) / 1_000));
  }

  /** Runs GitHub writes (one leak's resolutions), marking the lane busy meanwhile. */
  async run<T>(writes: () => Promise<T>): Promise<T> {
    this.inFlight++;
    this.lastStartedAt = this.now();
    try {
      return await writes();
    } finally {
      this.inFlight--;
    }
  }
}
