// actions/cache's main step (and actions/cache/restore's): restore by key, else by prefix.
const fs = require("fs");
const path = require("path");
const store = require("./store.js");

const key = store.input("key");
const folder = store.caches();
let matched = fs.existsSync(path.join(folder, key)) ? key : "";
for (const prefix of store.lines(store.input("restore-keys"))) {
  if (matched) break;
  const found = fs
    .readdirSync(folder)
    .filter((name) => name.startsWith(prefix))
    .sort((a, b) => fs.statSync(path.join(folder, b)).mtimeMs - fs.statSync(path.join(folder, a)).mtimeMs);
  matched = found[0] || "";
}
store.append("GITHUB_OUTPUT", "cache-primary-key", key);
store.append("GITHUB_STATE", "CACHE_KEY", key);
if (matched) {
  store.paths().forEach((where, i) => {
    const saved = path.join(folder, matched, String(i));
    if (fs.existsSync(saved)) store.copy(saved, where);
  });
  store.append("GITHUB_OUTPUT", "cache-matched-key", matched);
  store.append("GITHUB_STATE", "CACHE_RESULT", matched);
  console.log(`Cache restored from key: ${matched}`);
} else {
  console.log(`Cache not found for input keys: ${[key, ...store.lines(store.input("restore-keys"))].join(", ")}`);
}
store.append("GITHUB_OUTPUT", "cache-hit", String(matched === key));
