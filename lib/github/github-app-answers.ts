import * as z from "zod";

// The shapes of GitHub's answers to the App's calls (github/rest-api-description, 2022-11-28), checked
// for the fields used: a GHES version or a proxy may answer otherwise. List items never keep `secret`:
// zod drops keys a schema does not name, and no list schema names it.

export const alertAnswer = z.object({
  number: z.int(),
  secret: z.string().nullish(),
  secret_type: z.string().min(1),
  html_url: z.string().nullish(),
  state: z.string().nullish(),
});

export const locationsAnswer = z.array(
  z.object({ type: z.string().min(1), details: z.record(z.string(), z.unknown()).nullish() }),
);

const alertListItem = z.object({
  number: z.int().positive(),
  secret_type: z.string().min(1),
  created_at: z.string().min(1),
  updated_at: z.string().nullish(),
  html_url: z.string().nullish(),
});

/** `secret-scanning-alert`: the repository is the one asked about. */
export const repoAlertsAnswer = z.array(alertListItem);

/** `organization-secret-scanning-alert`: each item names its repository. */
export const orgAlertsAnswer = z.array(
  alertListItem.extend({
    repository: z.object({ name: z.string().min(1), owner: z.object({ login: z.string().min(1) }) }),
  }),
);

/** An alert after a PATCH, or read back to see whether it is already resolved. */
export const alertStateAnswer = z.object({
  number: z.int(),
  state: z.string(),
  resolution: z.string().nullish(),
  resolved_at: z.string().nullish(),
});

/**
 * `GET /app/installations`. `account` is a user, an organisation, or (for an enterprise installation)
 * an enterprise with a `slug` and no `login`, or null.
 */
export const installationsAnswer = z.array(
  z.object({
    id: z.int().positive(),
    account: z.object({ login: z.string().optional(), type: z.string().optional() }).nullish(),
    target_type: z.string().nullish(),
    suspended_at: z.string().nullish(),
  }),
);

/** `GET /installation/repositories`: the list sits in `repositories`. */
export const installationRepositoriesAnswer = z
  .object({
    repositories: z.array(
      z.object({ name: z.string().min(1), owner: z.object({ login: z.string().min(1) }) }),
    ),
  })
  .transform((answer) => answer.repositories);
