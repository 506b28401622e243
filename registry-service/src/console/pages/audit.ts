import type { AuditProgress, ConsoleConfig } from "../../wire";
import { ApiProblem, loadAudit } from "../api";
import { alertBox, facts, h, short } from "../dom";
import { poll, type Page } from "../page";

export const auditPage: Page = {
  title: "Audit",
  render(view, config) {
    if (config.server !== "mirror") {
      view.append(serviceNote(config));
      return () => undefined;
    }
    const body = h("div", { id: "audit-output", "aria-live": "polite" });
    view.append(h("p", {}, "This mirror replays every anchored batch from the chain alone and recomputes every root."), body);
    return poll(async () => {
      try {
        body.replaceChildren(...progress(await loadAudit()));
      } catch (error) {
        const problem = error as ApiProblem;
        body.replaceChildren(alertBox("error", `The audit's progress is unavailable: ${problem.code}`, problem.message));
      }
    }, 2000);
  },
};

function serviceNote(config: ConsoleConfig): HTMLElement {
  const command = `npx mobile-id mirror --rpc ${config.rpcUrl} --registry ${config.registry}`;
  return h(
    "div",
    {},
    h(
      "p",
      {},
      "This is the issuer's service: it does not audit itself. The audit runs on a mirror, which replays the chain alone and serves these same pages:",
    ),
    h("pre", {}, h("code", {}, command)),
  );
}

function progress(audit: AuditProgress): HTMLElement[] {
  const parts: HTMLElement[] = [];
  const { divergence } = audit;
  if (divergence) {
    parts.push(
      alertBox(
        "error",
        `DIVERGENCE at batch ${divergence.batch}: ${divergence.code}`,
        divergence.message,
        `transaction ${divergence.transactionHash}`,
        divergence.expected ? `anchored: ${divergence.expected}` : null,
        divergence.computed ? `recomputed: ${divergence.computed}` : null,
        "This mirror stopped serving statuses. The chain holds something its replay does not reproduce.",
      ),
    );
  } else parts.push(alertBox("ok", "No divergence", "Every batch replayed so far reproduces the roots anchored on the chain."));
  if (audit.chainError) parts.push(alertBox("warn", "The chain did not answer the last poll", audit.chainError));
  const total = audit.latestBatch ?? audit.batch;
  parts.push(
    h("progress", { max: Math.max(total, 1), value: audit.batch, "aria-label": "batches replayed" }),
    facts([
      ["Batches replayed", `${audit.batch} of ${audit.latestBatch ?? "?"}`],
      ["Events replayed", String(audit.events)],
      ["Last block read", String(audit.headBlock)],
      ["Replayed status root", short(audit.statusRoot)],
    ]),
  );
  return parts;
}
