// Installation access tokens of the GitHub App, one per installation: fetched on first use, reused until
// five minutes before GitHub's expiry, and fetched once however many requests want a new one at once.

export interface InstallationToken {
  token: string;
  /** Epoch ms, from GitHub's `expires_at`. */
  expiresAt: number;
}

export type InstallationTokenFetcher = (installationId: number) => Promise<InstallationToken>;

/** A token this close to its expiry is not handed out: a request using it could outlive it. */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

export class InstallationTokenCache {
  private readonly tokens = new Map<number, InstallationToken>();
  private readonly inFlight = new Map<number, Promise<InstallationToken>>();
  private readonly now: () => number;

  constructor(
    private readonly fetchToken: InstallationTokenFetcher,
    options: { now?: (() => number) | undefined } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async get(installationId: number): Promise<string> {
    const cached = this.tokens.get(installationId);
    if (cached && cached.expiresAt - TOKEN_REFRESH_MARGIN_MS > this.now()) return cached.token;
    let pending = this.inFlight.get(installationId);
    if (!pending) {
      pending = this.fetchToken(installationId)
        .then((fresh) => {
          this.tokens.set(installationId, fresh);
          return fresh;
        })
        .finally(() => this.inFlight.delete(installationId));
      this.inFlight.set(installationId, pending);
    }
    return (await pending).token;
  }

  /** Forgets a token GitHub refused (revoked, App reinstalled), so the next call fetches a new one. */
  invalidate(installationId: number, token: string): void {
    if (this.tokens.get(installationId)?.token === token) this.tokens.delete(installationId);
  }
}
