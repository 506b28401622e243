import type { ConsoleConfig } from "../wire";
import { h } from "./dom";

/** One page of the console: it fills `view` and returns what stops it (timers) when another page is shown. */
export interface Page {
  title: string;
  render(view: HTMLElement, config: ConsoleConfig, rest: string[]): () => void;
}

/**
 * Calls `step` now and then `everyMs` after each run ends, until stopped: the pages stay live
 * without reloading. A step's failure is its own to show; polling goes on.
 */
export function poll(step: () => Promise<void>, everyMs: number): () => void {
  let stopped = false;
  let timer: number | undefined;
  const run = async () => {
    await step().catch(() => undefined);
    if (!stopped) timer = window.setTimeout(run, everyMs);
  };
  void run();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

/** A page's introduction, its form and the live region its answers go to; `submit` runs instead of a page load. */
export function formWithOutput(
  view: HTMLElement,
  intro: string,
  form: HTMLFormElement,
  outputId: string,
  submit: (output: HTMLElement) => void,
) {
  const output = h("div", { id: outputId, "aria-live": "polite" });
  view.append(h("p", {}, intro), form, output);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(output);
  });
  return output;
}
