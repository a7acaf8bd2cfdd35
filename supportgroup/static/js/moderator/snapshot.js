/* The server's moderation snapshot (join and catch_up acks, docs/protocol.md §7) merged into the console's
 * queues: it recovers a `pending`, `report` or `alert` (or their resolution) lost on the way, and leaves
 * alone every row changed since the snapshot's request was sent (freshness.js).
 */
import { addAlert, alertRows, hasAlertList, removeAlert } from "./alerts.js";
import { changedSince, whileReconciling } from "./freshness.js";
import { renderHandover } from "./incidents.js";
import { applyMutes } from "./people.js";
import { addPending, addReport, pendingRows, refreshQueues, removePending, removeReport, reportRows } from "./queues.js";
import { renderWaiting } from "./waiting.js";

/* Make a queue match the server's list: rows it no longer names go, missing ones are added (`add` skips
 * ids it has). Rows that stay are kept as they are, with whatever the moderator opened or typed in them.
 * Ids changed since the snapshot's request was sent (`generation`) are left as they are: newer than it. */
function reconcile(rows, items, add, remove, quiet, kind, generation) {
  const keep = {};
  items.forEach(function (item) { keep[item.id] = true; });
  whileReconciling(function () {
    Object.keys(rows).forEach(function (id) {
      if (!keep[id] && !changedSince(kind + ":" + id, generation)) { remove(id); }
    });
    items.forEach(function (item) { if (!changedSince(kind + ":" + item.id, generation)) { add(item, quiet); } });
  });
}

/* `quiet`: nothing in it is news (the page's first join). `generation`: that of the request it answers
 * (page.snapshotGeneration when it was sent). */
export function onModeration(moderation, quiet, generation) {
  if (!moderation) { return; }
  reconcile(pendingRows, moderation.pending || [], addPending, removePending, quiet, "pending", generation);
  reconcile(reportRows, moderation.reports || [], addReport, removeReport, quiet, "report", generation);
  if (hasAlertList() && Array.isArray(moderation.alerts)) {
    reconcile(alertRows, moderation.alerts, addAlert, removeAlert, quiet, "alert", generation);
  }
  refreshQueues();
  if (!changedSince("waiting", generation)) { renderWaiting(moderation.waiting, quiet); }
  if (!changedSince("handover", generation)) { renderHandover(moderation.handover); }
  if (Array.isArray(moderation.muted)) { applyMutes(moderation.muted, generation); }
}
