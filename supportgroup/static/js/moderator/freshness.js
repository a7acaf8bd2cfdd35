/* Which console rows changed after a moderation snapshot's request was sent.
 *
 * "pending:12", "report:3", "alert:5", "waiting", "handover" -> the snapshot generation (the chat counts the
 * join and catch_up requests sent, page.snapshotGeneration) current when a live event or this console's own
 * action last changed it. A snapshot is read while its request is handled, before its ack leaves: a change
 * made after the request was sent may reach the page first, and that snapshot must neither undo nor redo it.
 */
import { page } from "../chat/store.js";

let touched = {};
let reconciling = false;

export function touch(key) { if (!reconciling) { touched[key] = page.snapshotGeneration; } }
export function changedSince(key, generation) { return typeof generation === "number" && touched[key] >= generation; }

/* Run `apply` (the snapshot's own adds and removes): they mark nothing as touched. */
export function whileReconciling(apply) {
  reconciling = true;
  try { apply(); } finally { reconciling = false; }
}

export function forgetTouched() { touched = {}; }
