import { AppliedKind, Status, type AppliedEvent } from "../../core";
import { verifyReceipt } from "../../verifier";
import type { BatchSummary, ConsoleConfig } from "../../wire";
import { apiBase, ApiProblem, loadBatch, loadOverview } from "../api";
import { alertBox, constantName, facts, h, short } from "../dom";
import { formWithOutput, type Page } from "../page";

export const batchesPage: Page = {
  title: "Batches and receipts",
  render(view, config, rest) {
    const input = h("input", { id: "field-batch", name: "batch", inputmode: "numeric", required: true, value: rest[0] ?? "" });
    const form = h(
      "form",
      { id: "batch-form", class: "inline" },
      h("label", { for: "field-batch" }, "Batch"),
      input,
      h("button", { type: "submit" }, "Show"),
    );
    const intro = "A batch's events (no personal data exists to show) and, for any event, its receipt checked in this browser.";
    const output = formWithOutput(view, intro, form, "batch-output", () => (window.location.hash = `#/batches/${input.value.trim()}`));
    if (rest[0]) void showBatch(rest[0], config, output);
    else void latestBatches(output);
    return () => undefined;
  },
};

/** With no batch asked for: the recent ones, as links. */
async function latestBatches(output: HTMLElement): Promise<void> {
  try {
    const { recent } = await loadOverview();
    const links = recent.map((b) =>
      h("li", {}, h("a", { href: `#/batches/${b.batch}` }, `batch #${b.batch}`), ` — ${b.eventCount} events, ${b.state}`),
    );
    output.replaceChildren(h("h2", {}, "Recent batches"), links.length ? h("ul", {}, ...links) : h("p", {}, "no batch yet"));
  } catch (error) {
    output.replaceChildren(problemBox(error));
  }
}

function problemBox(error: unknown): HTMLElement {
  const problem = error as ApiProblem;
  return alertBox("error", problem.code ?? "ERROR", problem.message);
}

async function showBatch(asked: string, config: ConsoleConfig, output: HTMLElement): Promise<void> {
  if (!/^[0-9]{1,12}$/.test(asked)) {
    output.replaceChildren(alertBox("error", "Not a batch number", `"${asked}": a whole number, 1 or more`));
    return;
  }
  try {
    const { batch, applied } = await loadBatch(Number(asked));
    output.replaceChildren(h("h2", {}, `Batch #${batch.batch}`), batchFacts(batch), eventsTable(applied, batch, config));
  } catch (error) {
    const mirror = config.server === "mirror" && (error as ApiProblem).status === 404;
    output.replaceChildren(
      mirror
        ? alertBox(
            "warn",
            "Not on this mirror",
            "A mirror keeps the contents of the last batches it replayed from the chain; older ones come from the service's /v1/batches.",
          )
        : problemBox(error),
    );
  }
}

function batchFacts(batch: BatchSummary): HTMLElement {
  return facts([
    ["State", batch.state],
    ["Events", String(batch.eventCount)],
    ["Status root", short(batch.statusRoot)],
    ["Event root", short(batch.eventRoot)],
    ["Transaction", short(batch.transactionHash)],
    ["Block", batch.blockNumber === null ? "—" : String(batch.blockNumber)],
  ]);
}

function eventsTable(applied: AppliedEvent[], batch: BatchSummary, config: ConsoleConfig): HTMLElement {
  const head = ["#", "Event", "Index", "Status after", "Signer", "Receipt"];
  const row = (event: AppliedEvent) => {
    const cell = h("td", {});
    const button = h("button", { type: "button", class: "small", "data-position": event.position }, "Check receipt");
    button.addEventListener("click", () => void checkReceipt(event.position, batch.batch, config, cell, button));
    cell.append(button);
    return h(
      "tr",
      {},
      h("td", { class: "num" }, event.position),
      h("td", {}, constantName(AppliedKind[event.kind] ?? String(event.kind))),
      h("td", { class: "num" }, h("a", { href: `#/check/${event.record.index}` }, event.record.index)),
      h("td", {}, constantName(Status[event.record.status])),
      h("td", {}, short(event.signer)),
      cell,
    );
  };
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { id: "batch-events" },
      h("thead", {}, h("tr", {}, ...head.map((label) => h("th", { scope: "col" }, label)))),
      h("tbody", {}, ...applied.map(row)),
    ),
  );
}

/** The receipt of one event: fetched from this server, verified here, its event root asked of the chain. */
async function checkReceipt(
  position: number,
  batch: number,
  config: ConsoleConfig,
  cell: HTMLElement,
  button: HTMLButtonElement,
): Promise<void> {
  button.disabled = true;
  try {
    const result = await verifyReceipt({ chain: config.rpcUrl, registry: config.registry, source: apiBase(), batch, position });
    const mark = result.verified ? "✓ anchored" : "✗ refused";
    cell.replaceChildren(
      h("span", { class: result.verified ? "ok" : "failed", role: "status", title: result.message }, mark),
      h("small", {}, result.message),
    );
  } catch (error) {
    cell.replaceChildren(h("span", { class: "failed", role: "alert" }, `✗ ${(error as Error).message}`));
  }
}
