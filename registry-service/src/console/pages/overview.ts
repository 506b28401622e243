import type { BatchLine, Overview } from "../../wire";
import { ApiProblem, loadOverview } from "../api";
import { ago, alertBox, facts, h, short } from "../dom";
import { poll, type Page } from "../page";

/** How often the overview asks again, ms. */
const REFRESH_MS = 2000;

export const overviewPage: Page = {
  title: "Overview",
  render(view) {
    const status = h("p", { class: "live", "aria-live": "polite" }, "loading…");
    const body = h("div", {});
    view.append(status, body);
    return poll(async () => {
      try {
        const overview = await loadOverview();
        body.replaceChildren(summary(overview), recentTable(overview));
        status.textContent = `live: updated ${new Date(overview.now * 1000).toLocaleTimeString()}, every ${REFRESH_MS / 1000} s`;
        view.dataset.batch = String(overview.latest?.batch ?? 0);
      } catch (error) {
        const problem = error as ApiProblem;
        body.replaceChildren(alertBox("error", `The overview is unavailable: ${problem.code}`, problem.message));
      }
    }, REFRESH_MS);
  },
};

function summary(o: Overview): HTMLElement {
  const latest = o.latest;
  const age = latest?.anchoredAt ? ago(o.now - latest.anchoredAt) : "—";
  const waitingLabel = o.server === "mirror" ? "Batches not replayed yet" : "Backlog (submissions waiting)";
  return facts(
    [
      ["Chain", `id ${o.chainId}`],
      ["Registry", short(o.registry, 12)],
      ["Latest anchored batch", latest ? h("span", { class: "big", id: "latest-batch" }, `#${latest.batch}`) : "none yet"],
      ["Anchored", age],
      ["Anchoring lag", `${o.anchoringLagSeconds} s`],
      [waitingLabel, o.waiting === null ? "unknown" : String(o.waiting)],
      [o.server === "mirror" ? "Events replayed / s" : "Events accepted / s", o.eventsPerSecond.toFixed(1)],
    ],
    "facts cards",
  );
}

function recentTable(o: Overview): HTMLElement {
  const head = ["Batch", "State", "Events", "Gas", "Transaction", "Block", "Anchored"];
  const row = (b: BatchLine) =>
    h(
      "tr",
      {},
      h("td", {}, h("a", { href: `#/batches/${b.batch}` }, `#${b.batch}`)),
      h("td", {}, b.state),
      h("td", { class: "num" }, b.eventCount),
      h("td", { class: "num" }, b.gasUsed ? Number(b.gasUsed).toLocaleString("en") : "—"),
      h("td", {}, short(b.transactionHash)),
      h("td", { class: "num" }, b.blockNumber ?? "—"),
      h("td", {}, b.anchoredAt ? ago(o.now - b.anchoredAt) : "—"),
    );
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { id: "recent-batches" },
      h("caption", {}, "Recent batches"),
      h("thead", {}, h("tr", {}, ...head.map((label) => h("th", { scope: "col" }, label)))),
      h("tbody", {}, ...(o.recent.length ? o.recent.map(row) : [h("tr", {}, h("td", { colspan: head.length }, "no batch yet"))])),
    ),
  );
}
