import type { Command } from "commander";
import { CliError } from "./errors";
import { keyOptions, loadWallet } from "./keys";
import { chainOptions, connectChain, integer, print, registryOf } from "./options";

export function witnessCommand(program: Command): void {
  keyOptions(chainOptions(program.command("witness")))
    .description(
      "a consortium member's witness: replay every anchored batch from the chain and attest each root the replay reproduces (key with WITNESS_ROLE)",
    )
    .option("--poll-ms <ms>", "how often to look for new anchors", integer("--poll-ms"), 250)
    .option("--from-batch <n>", "attest from this batch on (default: the latest batch at start)", integer("--from-batch"))
    .action(async (options) => {
      const registry = registryOf(options);
      const { Witness, WitnessError } = await import("../witness/witness");
      const provider = await connectChain(options.rpc);
      const signer = (await loadWallet(options)).connect(provider);
      const log = (line: string) => console.error(line);
      const witness = await Witness.start({ provider, registry, signer, fromBatch: options.fromBatch, log }).catch((error: unknown) => {
        if (error instanceof WitnessError) throw new CliError("REFUSED", error.message, error.code);
        throw error;
      });
      witness.follow(options.pollMs);
      const { batch } = witness.follower.replayer;
      const state = witness.follower.divergence
        ? `DIVERGED at batch ${witness.follower.divergence.batch}, attesting nothing`
        : `batch ${batch}`;
      print(
        options.json,
        { witness: witness.address, registry, batch, divergence: witness.follower.divergence?.toJSON() ?? null },
        `witness ${witness.address} following registry ${registry} (${state}); Ctrl-C stops it`,
      );
      await new Promise<void>((resolve) => process.once("SIGINT", resolve).once("SIGTERM", resolve));
      witness.close();
    });
}
