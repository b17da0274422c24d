import type { ComponentChildren } from "preact";
import { followLink } from "../router";

/** A link to another console page, followed without reloading the page. */
export function Link({
  href,
  children,
  class: className,
}: {
  href: string;
  children: ComponentChildren;
  class?: string;
}) {
  return (
    <a href={href} class={className} onClick={followLink}>
      {children}
    </a>
  );
}
