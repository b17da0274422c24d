import type { LeakItem, Owner } from "../api-types";
import { formatDuration, formatTime } from "../format";
import { leakHref } from "../router";
import { Link } from "./link";
import { StatusBadge } from "./status-badge";

export const ownerText = (owner: Owner | null) => owner?.email ?? owner?.name ?? owner?.id ?? "—";

/** Leaks as rows, each opening its detail page. */
export function LeakTable({ leaks, caption }: { leaks: LeakItem[]; caption: string }) {
  return (
    <div class="table-wrap">
      <table class="leaks">
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Token</th>
            <th scope="col">Status</th>
            <th scope="col">First seen</th>
            <th scope="col">Type</th>
            <th scope="col">Owner</th>
            <th scope="col" class="num">
              Time to revoke
            </th>
          </tr>
        </thead>
        <tbody>
          {leaks.map((leak) => (
            <tr data-leak-id={leak.id}>
              <th scope="row">
                <Link href={leakHref(leak.id)} class="mono">
                  {leak.preview}
                </Link>
              </th>
              <td>
                <StatusBadge status={leak.status} />
              </td>
              <td>{formatTime(leak.first_seen)}</td>
              <td>{leak.token_type}</td>
              <td>{ownerText(leak.owner)}</td>
              <td class="num">{formatDuration(leak.time_to_revoke_ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
