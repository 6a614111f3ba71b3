# Chapter 17's application in Perl: the same steps as app.py.
# ANCHOR: app
$SIG{CHLD} = 'IGNORE' if "@ARGV" eq "--ignore-sigchld";
# The background `sleep` is left an orphan when the helper exits.
system("sh", "-c", "sleep 0.1 & exit 3");
my $status = $? == -1 ? -1 : $? >> 8;
select(undef, undef, undef, 0.5);
my $path = $ENV{ORPHANS_JOURNAL} // "/dev/null";
open(my $journal, ">>", $path) or die "journal $path: $!";
print $journal "child $status $$\nready perl $$\n";
close($journal);
sleep 30;
# ANCHOR_END: app
