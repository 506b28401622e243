// Headless Chromium for the console's browser tests and screenshots: Debian's `chromium` package,
// driven by playwright-core. Installed here when missing (apt-get, as root), so `npm test` on a
// fresh machine needs no manual step; CHROMIUM_PATH names another binary.
const { execFileSync, spawnSync } = require("node:child_process");
const fs = require("node:fs");

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/snap/bin/chromium"];

function findChromium() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  return CANDIDATES.find((candidate) => fs.existsSync(candidate));
}

/** The Chromium binary; installs Debian's package first when there is none (root only). */
function chromiumPath() {
  const found = findChromium();
  if (found) return found;
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const apt = spawnSync("sh", ["-c", "command -v apt-get"]).status === 0;
  if (!root || !apt) {
    throw new Error("no Chromium found: install Debian's package (sudo apt-get install -y chromium) or set CHROMIUM_PATH");
  }
  process.stderr.write("installing Chromium for the console's browser tests: apt-get install -y chromium\n");
  const quiet = { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } };
  execFileSync("apt-get", ["update"], quiet);
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], quiet);
  const installed = findChromium();
  if (!installed) throw new Error("apt-get installed chromium, but no binary was found at " + CANDIDATES.join(", "));
  return installed;
}

module.exports = { chromiumPath };

if (require.main === module) {
  try {
    process.stdout.write(`${chromiumPath()}\n`);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
