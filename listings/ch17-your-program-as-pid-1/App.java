// Chapter 17's application in Java: the same steps as app.py.
// ANCHOR: app
import java.nio.file.*;
import sun.misc.Signal;
import sun.misc.SignalHandler;

public class App {
    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--ignore-sigchld")) {
            Signal.handle(new Signal("CHLD"), SignalHandler.SIG_IGN);
        }
        // The background `sleep` is left an orphan when the helper exits.
        Process helper = new ProcessBuilder("sh", "-c", "sleep 0.1 & exit 3")
            .start();
        int status = helper.waitFor();
        Thread.sleep(500);
        long pid = ProcessHandle.current().pid();
        String line = "child " + status + " " + pid + "\nready java " + pid;
        Path journal = Path.of(System.getenv()
            .getOrDefault("ORPHANS_JOURNAL", "/dev/null"));
        Files.writeString(journal, line + "\n",
            StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        Thread.sleep(30_000);
    }
}
// ANCHOR_END: app
