import { DEFAULT_GITHUB_PUBLIC_KEYS_URL, type KeySetFetchOptions } from "../github/partner-key-set.js";
import type { Env } from "./aws-env.js";

/** Where the intake and the sweep fetch GitHub's partner key set (GITHUB_PUBLIC_KEYS_URL, GITHUB_TOKEN). */
export function awsGithubKeySetSource(env: Env): KeySetFetchOptions {
  return { url: env.GITHUB_PUBLIC_KEYS_URL ?? DEFAULT_GITHUB_PUBLIC_KEYS_URL, token: env.GITHUB_TOKEN };
}
