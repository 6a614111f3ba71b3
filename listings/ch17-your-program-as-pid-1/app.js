// Chapter 17's application in JavaScript, for Node.js: the same steps as
// app.py. Node has no way to set SIGCHLD to SIG_IGN (process.on installs
// a handler), so it takes no option.
// ANCHOR: app
const { spawn } = require("child_process");
const fs = require("fs");

// The background `sleep` is left an orphan when the helper exits.
spawn("sh", ["-c", "sleep 0.1 & exit 3"]).on("exit", (status) => {
  setTimeout(() => {
    fs.appendFileSync(process.env.ORPHANS_JOURNAL || "/dev/null",
      `child ${status} ${process.pid}\nready node ${process.pid}\n`);
  }, 500);
});
setTimeout(() => {}, 30000);
// ANCHOR_END: app
