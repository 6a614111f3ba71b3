# Chapter 17's exec probe. It checks that the application's process is
# there, and leaves a helper running in the background, as a probe does
# that starts a command with `&`, or whose timeout kills its shell but not
# what the shell started.
# ANCHOR: probe
sleep 0.1 &
test -d /proc/1
# ANCHOR_END: probe
