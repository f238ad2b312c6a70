// What the cache stand-in's steps share: the inputs, the store, the paths.
const fs = require("fs");
const os = require("os");
const path = require("path");

function input(name) {
  return (process.env[`INPUT_${name.toUpperCase()}`] || "").trim();
}

function lines(text) {
  return text.split("\n").map((line) => line.trim()).filter((line) => line);
}

// Each `path` line as an absolute path: `~` is the home folder, a relative one is read from the
// workspace, as actions/cache reads them.
function paths() {
  return lines(input("path")).map((line) => {
    const expanded = line.startsWith("~") ? os.homedir() + line.slice(1) : line;
    return path.resolve(process.env.GITHUB_WORKSPACE || ".", expanded);
  });
}

// @actions/glob's rule (Pattern.fixupPattern): "." only as the first segment, ".." never.
function invalid() {
  return lines(input("path")).find((line) =>
    line
      .replace(/^!+/, "")
      .split("/")
      .filter((s) => s)
      .some((s, i) => s === ".." || (s === "." && i > 0)),
  );
}

function caches() {
  const folder = path.join(process.env.FASTFUN_ACT_STORE, "caches");
  fs.mkdirSync(folder, { recursive: true });
  return folder;
}

function append(variable, name, value) {
  fs.appendFileSync(process.env[variable], `${name}=${value}\n`);
}

function copy(from, to) {
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
}

module.exports = { input, lines, paths, invalid, caches, append, copy };
