import type { Command } from "commander";
import { chainOptions, confirmationsOption, connectChain, integer, print, registryOf } from "../options";

export function mirrorCommand(program: Command): void {
  chainOptions(program.command("mirror"))
    .description("follow the chain, replay it into a tree of its own and serve the verifiers' read API")
    .option("--host <host>", "interface to bind", "127.0.0.1")
    .option("--port <port>", "port", integer("--port"), 8090)
    .option("--poll-ms <ms>", "how often to look for new anchors", integer("--poll-ms"), 1000)
    .addOption(confirmationsOption("serve a batch only once its anchor is this many blocks deep (a chain that can reorganise)"))
    .action(async (options) => {
      const registry = registryOf(options);
      const { startMirror } = await import("../../mirror/mirror");
      const provider = await connectChain(options.rpc);
      const mirror = await startMirror({
        provider,
        registry,
        host: options.host,
        port: options.port,
        pollMs: options.pollMs,
        confirmations: options.confirmations,
        rpcUrl: options.rpc,
        log: (line) => console.error(line),
      });
      const health = mirror.health();
      print(
        options.json,
        { url: mirror.url, ...health },
        `mirror serving ${mirror.url}/v1/status/:index and the console at ${mirror.url}/console/ (batch ${health.batch}, ${health.events} events replayed); Ctrl-C stops it`,
      );
      await new Promise<void>((resolve) => process.once("SIGINT", resolve).once("SIGTERM", resolve));
      await mirror.close();
    });
}
