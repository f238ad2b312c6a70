// The same restore as actions/cache's main step.
require("../restore.js");
