import type { ConsoleConfig } from "../wire";

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
