import type { Command } from "commander";
import { integer, print } from "../options";
import { buildEvent, type KindName } from "./events";
import { REASONS } from "./values";
import { reportText, writeOptions, Writer, type WriteOptions } from "./writer";

const DESCRIPTIONS: Record<"suspend" | "reinstate" | "revoke", string> = {
  suspend: "suspend index N (from ACTIVE)",
  reinstate: "make a suspended index N active again; --reason names the suspension it lifts (a lock that came in since is not lifted)",
  revoke: "revoke index N for good (from ACTIVE or SUSPENDED)",
};

/** suspend, reinstate and revoke: one index, one reason. */
export function statusChangeCommands(program: Command): void {
  for (const kind of Object.keys(DESCRIPTIONS) as (keyof typeof DESCRIPTIONS)[]) {
    writeOptions(program.command(kind))
      .description(DESCRIPTIONS[kind])
      .requiredOption("--index <n>", "status index", integer("--index"))
      .requiredOption("--reason <name>", Object.keys(REASONS).join(", "))
      .action(async (options: WriteOptions & { index: number; reason: string }) => {
        const { event } = buildEvent(kind as KindName, { index: options.index, reason: options.reason });
        const writer = await Writer.open(options);
        const report = await writer.write(kind, [event]);
        print(options.json, report, reportText(report));
      });
  }
}
