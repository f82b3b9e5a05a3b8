#!/usr/bin/env node
// Validate one .gltf/.glb with the Khronos glTF-Validator and print its JSON report on stdout.
// Usage: node validate_gltf.js FILE   (exit 0 when the report has no errors, 1 when it has, 2 on failure)
"use strict";
const fs = require("fs");
const path = require("path");
const validator = require("gltf-validator");

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate_gltf.js FILE.gltf|FILE.glb");
  process.exit(2);
}
const full = path.resolve(file);
validator
  .validateBytes(new Uint8Array(fs.readFileSync(full)), {
    uri: path.basename(full),
    maxIssues: 1000,
    externalResourceFunction: (uri) =>
      new Promise((resolve, reject) => {
        fs.readFile(path.resolve(path.dirname(full), decodeURIComponent(uri)), (err, data) =>
          err ? reject(err.toString()) : resolve(new Uint8Array(data)));
      }),
  })
  .then((report) => {
    console.log(JSON.stringify(report, null, 1));
    process.exit(report.issues.numErrors > 0 ? 1 : 0);
  }, (err) => {
    console.error(String(err));
    process.exit(2);
  });
