import type { Issuer } from "./issuer.js";

// An issuer whose logic is loaded with its first call: a function whose config names it, but that never
// meets one of its tokens, pays nothing for its code at cold start (esbuild keeps the import lazy). The
// optional methods the real issuer has are named up front, since callers test for them before a call.

export type OptionalIssuerMethod = "rotate" | "usageSince" | "refresh";

export function lazyIssuer(
  name: string,
  load: () => Promise<Issuer>,
  has: readonly OptionalIssuerMethod[] = [],
): Issuer {
  let loaded: Promise<Issuer> | undefined;
  const issuer = () => {
    loaded ??= load();
    loaded.catch(() => {
      loaded = undefined; // a failed load is tried again by the next call
    });
    return loaded;
  };
  const lazy: { -readonly [K in keyof Issuer]: Issuer[K] } = {
    name,
    verify: async (request, options) => (await issuer()).verify(request, options),
    revoke: async (request, options) => (await issuer()).revoke(request, options),
  };
  const method = async <M extends OptionalIssuerMethod>(m: M) => {
    const real = await issuer();
    const fn = real[m]?.bind(real);
    if (!fn) throw new TypeError(`issuer ${name} has no ${m}`);
    return fn as NonNullable<Issuer[M]>;
  };
  if (has.includes("rotate"))
    lazy.rotate = async (request, options) => (await method("rotate"))(request, options);
  if (has.includes("usageSince"))
    lazy.usageSince = async (request, options) => (await method("usageSince"))(request, options);
  if (has.includes("refresh")) lazy.refresh = async (options) => (await method("refresh"))(options);
  return lazy;
}
