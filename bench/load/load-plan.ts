import { randomBytes, randomInt } from "node:crypto";
import { type DevSigningKey, type ReportedMatch, signedPartnerReport } from "../../local/dev-signing-key.js";

// What the load test sends: signed partner reports of four kinds, picked at random per request, and a
// ledger of which tokens went out in which kind of report and how each report was answered, so the
// checks afterwards know what the stack must have done. Tokens stay in this process's memory only.

export const SANDBOX_TYPE = "tourniquet_sandbox_token";
/** A type no issuer handles: recorded as a leak, left unroutable, nobody to revoke or tell. */
export const UNKNOWN_TYPE = "load_test_unknown_type";

export type ReportKind = "new_live" | "repeat" | "unknown_type" | "bad_signature" | "unknown_key_id";

export const REPORT_KINDS: readonly ReportKind[] = [
  "new_live",
  "repeat",
  "unknown_type",
  "bad_signature",
  "unknown_key_id",
];

/** Relative weights of the kinds (a pick falls back to new_live while nothing can be repeated yet). */
export const DEFAULT_MIX: Readonly<Record<ReportKind, number>> = {
  new_live: 40,
  repeat: 30,
  unknown_type: 15,
  bad_signature: 10,
  unknown_key_id: 5,
};

export interface IssuedKey {
  token: string;
  keyId: string;
}

export interface SentReport {
  kind: ReportKind;
  tokens: string[];
  /** The HTTP status, once answered; undefined if the run ended with the report in flight. */
  status?: number;
}

export interface LoadPlanOptions {
  signingKey: DevSigningKey;
  /** Live sandbox keys, each reported new once; when they run out, new_live picks become repeats. */
  livePool: readonly IssuedKey[];
  /** Live sandbox keys only ever sent with a bad signature: they must stay unrevoked and unrecorded. */
  canaries: readonly IssuedKey[];
  mix?: Readonly<Record<ReportKind, number>>;
  maxMatchesPerReport?: number;
}

export class LoadPlan {
  readonly sent: SentReport[] = [];
  /** Live tokens reported with a valid signature at least once (new or repeated). */
  readonly liveSent = new Set<string>();
  readonly unknownSent = new Set<string>();
  private nextLive = 0;
  private readonly liveOrder: string[] = [];
  private readonly unknownOrder: string[] = [];
  private readonly mix: [ReportKind, number][];
  private readonly totalWeight: number;

  constructor(private readonly options: LoadPlanOptions) {
    this.mix = Object.entries(options.mix ?? DEFAULT_MIX) as [ReportKind, number][];
    this.totalWeight = this.mix.reduce((sum, [, weight]) => sum + weight, 0);
  }

  get poolExhausted(): boolean {
    return this.nextLive >= this.options.livePool.length;
  }

  /** The next report to send: its body and headers, recorded in the ledger as sent. */
  next(): { report: SentReport; body: string; headers: Record<string, string> } {
    const kind = this.pickKind();
    const count = 1 + randomInt(this.options.maxMatchesPerReport ?? 3);
    const tokens = this.tokensFor(kind, count);
    const n = this.sent.length;
    const matches: ReportedMatch[] = tokens.map((token, i) => ({
      token,
      type: kind === "unknown_type" ? UNKNOWN_TYPE : SANDBOX_TYPE,
      url: `https://load.example/${kind}/${n}/${i}`,
      source: i % 2 === 0 ? "content" : "commit",
    }));
    const signed = signedPartnerReport(this.options.signingKey, matches);
    const headers =
      kind === "bad_signature"
        ? this.signOtherBytes(signed.headers)
        : kind === "unknown_key_id"
          ? { ...signed.headers, "Github-Public-Key-Identifier": randomBytes(32).toString("hex") }
          : signed.headers;
    const report: SentReport = { kind, tokens };
    this.sent.push(report);
    return { report, body: signed.body, headers };
  }

  private pickKind(): ReportKind {
    let roll = randomInt(this.totalWeight);
    let kind: ReportKind = "new_live";
    for (const [candidate, weight] of this.mix) {
      if (roll < weight) {
        kind = candidate;
        break;
      }
      roll -= weight;
    }
    if (kind === "new_live" && this.poolExhausted) kind = "repeat";
    if (kind === "repeat" && this.liveOrder.length === 0)
      kind = this.poolExhausted ? "unknown_type" : "new_live";
    return kind;
  }

  private tokensFor(kind: ReportKind, count: number): string[] {
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      if (kind === "new_live") {
        const key = this.options.livePool[this.nextLive++];
        if (!key) break;
        tokens.push(key.token);
        this.liveOrder.push(key.token);
        this.liveSent.add(key.token);
      } else if (kind === "repeat") {
        tokens.push(this.liveOrder[randomInt(this.liveOrder.length)] as string);
      } else if (kind === "unknown_type") {
        // A third of them repeat an earlier unknown token: deduplication holds for unroutable leaks too.
        const again = this.unknownOrder.length > 0 && randomInt(3) === 0;
        const token = again
          ? (this.unknownOrder[randomInt(this.unknownOrder.length)] as string)
          : `unk_${randomBytes(16).toString("hex")}`;
        if (!again) this.unknownOrder.push(token);
        this.unknownSent.add(token);
        tokens.push(token);
      } else {
        // bad_signature, unknown_key_id: live keys that must come out untouched.
        const canary = this.options.canaries[randomInt(this.options.canaries.length)];
        if (canary) tokens.push(canary.token);
      }
    }
    return tokens;
  }

  /** A signature by the published key, over other bytes. */
  private signOtherBytes(headers: Record<string, string>): Record<string, string> {
    const other = signedPartnerReport(this.options.signingKey, [
      { token: "tampered", type: SANDBOX_TYPE, url: "", source: "content" },
    ]);
    return { ...headers, "Github-Public-Key-Signature": other.headers["Github-Public-Key-Signature"] ?? "" };
  }
}
