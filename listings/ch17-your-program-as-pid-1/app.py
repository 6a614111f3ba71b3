# Chapter 17's application in Python. It starts a helper that leaves a job
# running in the background and exits 3, notes in the journal (chapter 9)
# what the helper's exit gave it and that it is ready, and then serves
# for 30 seconds, relying on Python's default for SIGTERM.
# ANCHOR: app
import os, signal, subprocess, sys, time

if sys.argv[1:] == ["--ignore-sigchld"]:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
# The background `sleep` is left an orphan when the helper exits.
status = subprocess.run(["sh", "-c", "sleep 0.1 & exit 3"]).returncode
time.sleep(0.5)
pid = os.getpid()
with open(os.environ.get("ORPHANS_JOURNAL", "/dev/null"), "a") as journal:
    journal.write(f"child {status} {pid}\nready python {pid}\n")
time.sleep(30)
# ANCHOR_END: app
