// Chapter 17's application in Java: the same steps as app.py.
// ANCHOR: app
import java.nio.file.*;

public class App {
    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--ignore-sigchld")) {
            sun.misc.Signal.handle(new sun.misc.Signal("CHLD"), sun.misc.SignalHandler.SIG_IGN);
        }
        // The background `sleep` is left an orphan when the helper exits.
        int status = new ProcessBuilder("sh", "-c", "sleep 0.1 & exit 3").start().waitFor();
        Thread.sleep(500);
        long pid = ProcessHandle.current().pid();
        String journal = System.getenv().getOrDefault("ORPHANS_JOURNAL", "/dev/null");
        Files.writeString(Path.of(journal), "child " + status + " " + pid + "\nready java " + pid + "\n",
            StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        Thread.sleep(30_000);
    }
}
// ANCHOR_END: app
