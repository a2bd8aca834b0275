// What the browser tests share: Debian's chromium launched as this closed machine needs it, a check that
// reports and counts instead of stopping, and the end of a run.
"use strict";

const path = require("node:path");
const { chromium } = require(path.join(__dirname, "..", "..", "node_modules", "playwright-core"));

// Root needs --no-sandbox; the rest keep Chromium off the network (it is closed here, and the pages must
// not need it).
const BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--disable-quic", "--no-first-run"];

function launch() {
  return chromium.launch({ executablePath: process.env.WIRETALLY_CHROMIUM || "/usr/bin/chromium", args: BROWSER_ARGS });
}

let failures = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}\n${e.stack || e}`);
  }
}

// Runs main(), then exits 0 when every check passed, 1 otherwise (or when main throws).
function run(main) {
  main().then(() => {
    console.log(failures === 0 ? "all passed" : `${failures} failed`);
    process.exit(failures === 0 ? 0 : 1);
  }, (e) => {
    console.error(e);
    process.exit(1);
  });
}

module.exports = { launch, check, run };
