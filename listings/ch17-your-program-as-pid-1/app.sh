# Chapter 17's application as a shell script, for bash, dash and busybox
# sh: the same steps as app.py.
# ANCHOR: app
if [ "$1" = --ignore-sigchld ]; then trap '' CHLD; fi
# The background `sleep` is left an orphan when the helper exits.
sh -c 'sleep 0.1 & exit 3'
status=$?
sleep 0.5
printf 'child %s %s\nready sh %s\n' "$status" $$ $$ \
  >> "${ORPHANS_JOURNAL:-/dev/null}"
sleep 30
# ANCHOR_END: app
