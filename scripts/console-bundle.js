// The web console's bundle (dist/console/), built with Vite when it is missing or older than its
// sources: `npm start` and the console's tests call it, so a fresh clone needs no manual build.
// `npm run build` always builds it (and the package ships it).
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const BUNDLE = path.join(ROOT, "dist", "console", "index.html");
/** What the bundle is made of: the pages and the code of the project they load. */
const SOURCES = ["console", "core", "verifier", "wire", "chain/read"].map((dir) => path.join(ROOT, "registry-service", "src", dir));

function newestChange(entry) {
  const stat = fs.statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...fs.readdirSync(entry).map((name) => newestChange(path.join(entry, name))));
}

/** True when dist/console/ is missing or older than a source file or the Vite configuration. */
function consoleBundleStale() {
  if (!fs.existsSync(BUNDLE)) return true;
  const built = fs.statSync(BUNDLE).mtimeMs;
  return [...SOURCES, path.join(ROOT, "vite.config.mts"), path.join(ROOT, "package-lock.json")].some(
    (source) => newestChange(source) > built,
  );
}

/** Builds the console's bundle unless it is up to date; throws with Vite's output when the build fails. */
function ensureConsoleBundle() {
  if (!consoleBundleStale()) return false;
  const vite = path.join(path.dirname(require.resolve("vite/package.json")), "bin", "vite.js");
  const run = spawnSync(process.execPath, [vite, "build"], { cwd: ROOT, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`the web console's build (vite build) failed:\n${run.stdout}${run.stderr}`);
  return true;
}

module.exports = { ensureConsoleBundle, consoleBundleStale };

if (require.main === module) {
  try {
    if (ensureConsoleBundle()) process.stdout.write("web console built: dist/console/\n");
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
