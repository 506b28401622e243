import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importPlugin from "eslint-plugin-import";
import prettier from "eslint-config-prettier";

const SRC = "registry-service/src";

/**
 * Who may import whom inside registry-service/src (docs/architecture.md draws it). A folder may
 * import itself and the folders listed; anything else of the project is an error. Tests, scripts
 * and benchmarks stand outside and may use any part.
 */
const LAYERS = {
  core: [],
  accel: ["core"],
  wire: ["core"],
  "chain/read": ["core"],
  "chain/write": ["core", "chain/read"],
  journal: ["core"],
  intake: ["core", "journal"],
  anchoring: ["core", "journal", "intake", "chain/write"],
  readApi: ["core", "wire"],
  http: ["core", "accel", "wire", "chain/read", "readApi", "journal", "intake", "anchoring"],
  // a standby instance (JOURNAL_URL) serves reads as a mirror does
  service: ["core", "accel", "wire", "chain/read", "chain/write", "journal", "intake", "anchoring", "readApi", "http", "mirror"],
  audit: ["core", "accel", "chain/read"],
  mirror: ["core", "wire", "readApi", "audit", "chain/read"],
  // a consortium member's witness: the auditor's replay, and an attestation for each root it reproduces
  witness: ["core", "audit", "chain/read"],
  verifier: ["core", "wire", "chain/read"],
  client: ["core", "wire"],
  cli: ["core", "chain/read", "audit", "mirror", "witness", "verifier", "client"],
  // the web console's pages, bundled for browsers: the SDK's check and the core's proofs, nothing of a server
  console: ["core", "wire", "verifier"],
};

const layerZones = Object.entries(LAYERS).map(([layer, allowed]) => ({
  target: `./${SRC}/${layer}`,
  from: `./${SRC}`,
  except: [layer, ...allowed].map((folder) => `./${folder}`),
  message: `${layer}/ may import only ${allowed.length ? allowed.join(", ") : "nothing else of the project"} (docs/architecture.md)`,
}));

/** What code that must stay pure (no I/O) may not reach for. */
const IO_MODULES = [
  "fs",
  "fs/promises",
  "net",
  "http",
  "https",
  "child_process",
  "worker_threads",
  "dgram",
  "dns",
  "os",
  "cluster",
  "level",
  "pg",
  "fastify",
  "secp256k1",
];
const pure = {
  "no-restricted-imports": [
    "error",
    {
      paths: [
        ...IO_MODULES.map((name) => ({ name, message: "the core does no I/O, starts no threads and loads no native code" })),
        {
          name: "ethers",
          importNames: ["JsonRpcProvider", "WebSocketProvider", "Contract", "Wallet", "FetchRequest", "getDefaultProvider"],
          message: "the core does no I/O: chain access lives in chain/",
        },
      ],
      patterns: [{ group: ["node:*"], message: "the core does no I/O: Node's modules belong to the layers around it" }],
    },
  ],
  "no-restricted-globals": [
    "error",
    ...["fetch", "setTimeout", "setInterval", "process", "require", "__dirname"].map((name) => ({ name, message: "the core does no I/O" })),
  ],
};

/** What the verifier SDK (and everything it loads) may not reach for: a bank's bundle stays small and portable. */
const portable = {
  "no-restricted-imports": [
    "error",
    {
      paths: ["worker_threads", "node:worker_threads", "secp256k1", "level", "fastify", "pg"].map((name) => ({
        name,
        message: "the verifier SDK loads this folder: no worker threads, native addons, storage or HTTP server",
      })),
    },
  ],
};

/** What the browser's console may not reach for: Node's modules and globals (it is bundled for browsers). */
const browser = {
  "no-restricted-imports": [
    "error",
    {
      paths: IO_MODULES.map((name) => ({ name, message: "the console runs in browsers" })),
      patterns: [{ group: ["node:*"], message: "the console runs in browsers: no Node modules" }],
    },
  ],
  "no-restricted-globals": [
    "error",
    ...["process", "require", "__dirname"].map((name) => ({ name, message: "the console runs in browsers" })),
  ],
};

export default tseslint.config(
  { ignores: ["node_modules/", "artifacts/", "cache/", "typechain-types/", "coverage/", "data/", "dist/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    files: [`${SRC}/**/*.ts`],
    plugins: { import: importPlugin },
    settings: {
      // the project imports relative paths only: Node's resolution with .ts finds every file
      "import/resolver": { node: { extensions: [".ts", ".js"] } },
      "import/extensions": [".ts", ".js"],
      "import/parsers": { "@typescript-eslint/parser": [".ts"] },
    },
    rules: {
      "import/no-restricted-paths": ["error", { zones: layerZones }],
      "import/no-cycle": ["error", { ignoreExternal: true }],
      // the contracts' solhint limits (code-complexity 8, function-max-lines 40), loosened where TypeScript
      // counts more: ESLint's complexity counts every && and ||, and a route's schema is lines, not logic
      complexity: ["error", 10],
      "max-lines-per-function": ["error", { max: 50, skipBlankLines: true, skipComments: true }],
      "max-depth": ["error", 4],
      "max-params": ["error", 6],
    },
  },
  { files: [`${SRC}/core/**/*.ts`, `${SRC}/wire/**/*.ts`], rules: pure },
  { files: [`${SRC}/chain/read/**/*.ts`, `${SRC}/verifier/**/*.ts`], rules: portable },
  { files: [`${SRC}/console/**/*.ts`], rules: browser, languageOptions: { globals: { window: "readonly", document: "readonly" } } },
  {
    files: ["**/*.js"],
    languageOptions: { globals: { require: "readonly", module: "writable", process: "readonly", __dirname: "readonly" } },
  },
  prettier,
);
