import type { ChainFollower } from "./follower";

export interface PollOptions {
  pollMs: number;
  /** who logs: "mirror", "witness" */
  label: string;
  log: (line: string) => void;
  /** run after each catch-up that reached the chain (the witness attests there) */
  afterStep?: () => Promise<void>;
}

/**
 * Catches the follower up every `pollMs` until stopped, diverged or not (a correction may come);
 * logs a divergence once and the way back after a correction, and remembers why the chain last
 * failed to answer. The mirror and the witness run their followers on it.
 */
export function pollFollower(follower: ChainFollower, options: PollOptions) {
  const { label, log } = options;
  let stopped = false;
  let lastError: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reported = follower.divergence;
  const report = (divergence: ChainFollower["divergence"]) => {
    if (divergence && divergence !== reported && !stopped) log(`${label}: chain history diverges: ${divergence.message}`);
    if (!divergence && reported) log(`${label}: following again after the admin's correction (batch ${follower.replayer.batch})`);
    reported = divergence;
  };
  const step = async () => {
    try {
      report(await follower.catchUp());
      await options.afterStep?.();
      lastError = undefined;
    } catch (error) {
      lastError = (error as Error).message.split("\n")[0];
      log(`${label}: ${error instanceof Error && error.name === "ChainError" ? "" : "step failed, "}retrying: ${lastError}`);
    }
    if (!stopped) timer = setTimeout(step, options.pollMs);
  };
  timer = setTimeout(step, options.pollMs);
  return {
    lastError: () => lastError,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
