import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "artifacts/", "cache/", "typechain-types/", "coverage/", "data/", "dist/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", ignoreRestSiblings: true }],
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    // layering (docs/architecture in the README): the pure core imports nothing else of the project,
    // and the verifier SDK nothing but the core, so a bank can take it on its own
    files: ["registry-service/src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^\\.\\./", message: "the core imports nothing from the rest of the project" }] },
      ],
    },
  },
  {
    files: ["registry-service/src/verifier/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^\\.\\./(?!core$)", message: "the verifier SDK uses only the core and ethers" }] },
      ],
    },
  },
  {
    files: ["**/*.js"],
    languageOptions: { globals: { require: "readonly", module: "writable", process: "readonly", __dirname: "readonly" } },
  },
);
