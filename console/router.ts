import { useEffect, useState } from "preact/hooks";

// The console's pages are paths under /admin/ (the server answers index.html for each), so a view,
// filters included, can be bookmarked and shared.

export const BASE = "/admin/";
/**
 * The overview's address. Without the slash: deployed, API Gateway routes `/admin` to the console
 * surely, while whether `/admin/{proxy+}` takes an empty `/admin/` is not documented.
 */
export const HOME = "/admin";

export type Route =
  | { page: "overview"; query: URLSearchParams }
  | { page: "leaks"; query: URLSearchParams }
  | { page: "leak"; id: string }
  | { page: "callback" }
  | { page: "not_found"; path: string };

export function parseRoute(location: Location): Route {
  if (location.pathname === HOME) return { page: "overview", query: new URLSearchParams(location.search) };
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  const query = new URLSearchParams(location.search);
  const parts = path.split("/").filter(Boolean);
  if (parts.length === 0) return { page: "overview", query };
  if (parts[0] === "callback" && parts.length === 1) return { page: "callback" };
  if (parts[0] === "leaks" && parts.length === 1) return { page: "leaks", query };
  if (parts[0] === "leaks" && parts.length === 2)
    return { page: "leak", id: decodeURIComponent(parts[1] as string) };
  return { page: "not_found", path: location.pathname };
}

const ROUTE_CHANGED = "tq:route";

export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  window.dispatchEvent(new Event(ROUTE_CHANGED));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location));
    window.addEventListener("popstate", update);
    window.addEventListener(ROUTE_CHANGED, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(ROUTE_CHANGED, update);
    };
  }, []);
  return route;
}

/** A click on an in-console link: navigate without reloading, unless the user asked for a new tab. */
export function followLink(event: MouseEvent): void {
  const anchor = (event.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!anchor || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
    return;
  event.preventDefault();
  navigate(anchor.getAttribute("href") ?? BASE);
}

export const leakHref = (id: string) => `${BASE}leaks/${encodeURIComponent(id)}`;
export const leaksHref = (query: URLSearchParams) => `${BASE}leaks${[...query].length ? `?${query}` : ""}`;
