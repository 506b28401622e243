import "./shim";
import "./style.css";
import { ApiProblem, loadConfig } from "./api";
import { alertBox, h } from "./dom";
import { auditPage } from "./pages/audit";
import { batchesPage } from "./pages/batches";
import { checkPage } from "./pages/check";
import { overviewPage } from "./pages/overview";
import type { Page } from "./page";

const PAGES: Record<string, Page> = { overview: overviewPage, check: checkPage, batches: batchesPage, audit: auditPage };

/** The page the hash names (#/check, #/batches/12 ...): its name and what follows it. */
function route(): { name: string; rest: string[] } {
  const [name, ...rest] = window.location.hash.replace(/^#\/?/, "").split("/");
  return PAGES[name] ? { name, rest } : { name: "overview", rest: [] };
}

async function start(): Promise<void> {
  const main = document.getElementById("main")!;
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    const problem = error as ApiProblem;
    main.replaceChildren(alertBox("error", `The console cannot start: ${problem.code ?? "ERROR"}`, problem.message));
    return;
  }
  const kind = document.getElementById("server-kind")!;
  kind.textContent = config.server === "mirror" ? "mirror: the chain's word alone" : "service: the issuer's registry";
  kind.classList.add(config.server);
  let leave: () => void = () => undefined;
  const show = () => {
    leave();
    const { name, rest } = route();
    for (const link of document.querySelectorAll("nav a")) {
      if (link.getAttribute("href") === `#/${name}`) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    const page = PAGES[name];
    document.title = `${page.title} · Mobile-ID status registry`;
    const view = h("section", { class: `page page-${name}`, "aria-labelledby": "page-title" }, h("h1", { id: "page-title" }, page.title));
    main.replaceChildren(view);
    leave = page.render(view, config, rest);
  };
  window.addEventListener("hashchange", show);
  show();
}

void start();
