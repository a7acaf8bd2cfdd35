/* Planning a meeting: the day of the week follows the first date, and only the fields that apply show.
 *
 * When the date changes, the "Day of the week" select is set to that date's weekday, so a series planned
 * from a Friday is on Fridays unless the coordinator then picks another day (the server refuses a weekly
 * series whose first date is not on its day, and without a choice it takes the date's day itself).
 * Without this script the select keeps "the day of the date above", which the server reads the same way.
 *
 * The repeat fields show only for a repeating meeting, and "week of the month" only for a monthly one (the
 * server ignores the fields that do not apply to the choice, so hiding them loses nothing).
 */
const form = document.querySelector("form[data-plan-meeting]");
const date = form?.querySelector("input[name='starts_on']");
const weekday = form?.querySelector("select[name='weekday']");

/** The weekday of an ISO date (YYYY-MM-DD) with Monday = 0, or null. Read as a calendar date, not a time. */
function weekdayOf(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || "");
  if (!match) return null;
  const day = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  if (Number.isNaN(day.getTime())) return null;
  return (day.getUTCDay() + 6) % 7;
}

function follow() {
  const day = weekdayOf(date.value);
  if (day !== null) weekday.value = String(day);
}

if (date && weekday) {
  date.addEventListener("change", follow);
  date.addEventListener("input", follow);
  if (weekday.value === "") follow(); // a date typed before a reload, a refused form: only if no day was chosen
}

const repeats = form ? [...form.querySelectorAll("input[name='repeat']")] : [];
const recurrence = form?.querySelector("fieldset[data-recurrence]");
const weekOfMonth = form?.querySelector("select[name='week_of_month']")?.closest(".field");

function showWhatApplies() {
  const chosen = repeats.find((radio) => radio.checked)?.value || "once";
  if (recurrence) recurrence.hidden = chosen === "once";
  if (weekOfMonth) weekOfMonth.hidden = chosen !== "monthly";
}

if (repeats.length) {
  repeats.forEach((radio) => radio.addEventListener("change", showWhatApplies));
  showWhatApplies();
}
