import path from "node:path";
import { defineConfig } from "vite";

// The web console: registry-service/src/console/ bundled (with the core's and the verifier SDK's code)
// into dist/console/, which the service and the mirror serve at /console/ (readApi/console.ts).
export default defineConfig({
  root: path.join(import.meta.dirname, "registry-service/src/console"),
  base: "./",
  logLevel: "warn",
  build: {
    outDir: path.join(import.meta.dirname, "dist/console"),
    emptyOutDir: true,
    target: "es2022",
    reportCompressedSize: false,
    chunkSizeWarningLimit: 800,
    rolldownOptions: {
      // the pages use a few functions of each package they reach: a package module whose exports go
      // unused (merkletreejs behind the core's EventTree, which the browser never builds) is dropped
      treeshake: { moduleSideEffects: (id: string) => !id.includes("/node_modules/") },
    },
  },
});
