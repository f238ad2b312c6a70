// actions/cache's post step: save the paths under the key, unless the key was hit.
const fs = require("fs");
const path = require("path");
const store = require("./store.js");

const key = process.env.STATE_CACHE_KEY || store.input("key");
const bad = store.invalid();
if (process.env.STATE_CACHE_RESULT === key) {
  console.log(`Cache hit occurred on the primary key ${key}, not saving cache.`);
} else if (bad) {
  console.log(`::warning::Failed to save: Invalid pattern '${bad}'. Relative pathing '.' and '..' is not allowed.`);
} else {
  const into = path.join(store.caches(), key);
  store.paths().forEach((where, i) => {
    if (fs.existsSync(where)) store.copy(where, path.join(into, String(i)));
  });
  if (fs.existsSync(into)) console.log(`Cache saved with key: ${key}`);
  else console.log("::warning::Path Validation Error: Path(s) specified in the action for caching do(es) not exist, hence no cache is being saved.");
}
