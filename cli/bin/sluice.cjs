#!/usr/bin/env node
// The `sluice` command. npm links a package's bin only when its file exists at install time, and
// dist/ exists only after a build: so the bin is this committed file, which runs the built CLI.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const main = path.join(__dirname, "..", "dist", "src", "main.js");
if (!fs.existsSync(main)) {
  process.stderr.write(
    `sluice: ${main} is missing: run \`npm run build\` (or \`npm start\`) in the Sluice checkout first\n`,
  );
  process.exit(2);
}
require(main).run();
