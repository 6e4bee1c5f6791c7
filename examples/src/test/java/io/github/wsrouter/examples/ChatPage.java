package io.github.wsrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * One person's headless Chromium, driven through Selenium, and what that person sees and does on
 * the chat page. Uses the Debian packages {@code chromium} and {@code chromium-driver} at fixed
 * paths, so Selenium Manager never runs and nothing is downloaded. A browser is started once
 * ({@link #start}) and {@linkplain #load loads} the page afresh for each scenario. Every wait is a
 * bounded {@link WebDriverWait} on something the page shows.
 */
final class ChatPage implements AutoCloseable {

    /** The browser: Debian's by default, or {@code -Dchromium.binary=...}. */
    static final Path CHROMIUM = Path.of(System.getProperty("chromium.binary", "/usr/bin/chromium"));
    /** Its driver: Debian's by default, or {@code -Dchromedriver.binary=...}. */
    static final Path CHROMEDRIVER = Path.of(System.getProperty("chromedriver.binary", "/usr/bin/chromedriver"));

    /** The longest wait for anything the page should show. */
    static final Duration WAIT = Duration.ofSeconds(15);

    private static final Duration POLL = Duration.ofMillis(50);

    private static final int WIDTH = 1100;
    private static final int HEIGHT = 900;

    /** Selenium's own account of how it found the driver; kept strongly, JUL holds loggers weakly. */
    private static final Logger DRIVER_FINDER_LOG = Logger.getLogger("org.openqa.selenium.remote.service.DriverFinder");

    /** One line of a log on the page (messages or room). */
    record Entry(String kind, String from, String text, String time, String line) {}

    /** The connection state shown on the page: {@code data-state} and the words. */
    record Status(String state, String text) {}

    private final String who;
    private final Path profile;
    private final Path screenshots;
    private final ChromeDriver driver;
    private final List<String> consoleErrors = new ArrayList<>();

    private ChatPage(String who, Path profile, Path screenshots, ChromeDriver driver) {
        this.who = who;
        this.profile = profile;
        this.screenshots = screenshots;
        this.driver = driver;
    }

    /**
     * Skips the calling tests when Chromium or its driver is not installed, or fails them under
     * {@code CI=true}, where the browser tests must run.
     */
    static void requireBrowser() {
        List<String> missing = Stream.of(CHROMIUM, CHROMEDRIVER)
                .filter(path -> !Files.isExecutable(path))
                .map(Path::toString)
                .toList();
        if (missing.isEmpty()) {
            return;
        }
        String message = "browser tests need " + String.join(" and ", missing)
                + " (Debian: apt-get install chromium chromium-driver)";
        if ("true".equals(System.getenv("CI"))) {
            fail(message + "; CI=true, so they fail instead of being skipped");
        }
        // Said on stderr too: Maven's console shows only the count of skipped tests, not why.
        System.err.println("SKIPPED " + message + "; skipped outside CI");
        Assumptions.abort(message + "; skipped outside CI");
    }

    /** Starts a browser for {@code who}, showing a blank page. */
    static ChatPage start(String who, Path screenshots) {
        System.setProperty(ChromeDriverService.CHROME_DRIVER_EXE_PROPERTY, CHROMEDRIVER.toString());
        Path profile;
        try {
            profile = Files.createTempDirectory("wsrouter-chromium-" + who + "-");
            Files.createDirectories(screenshots);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                "--user-data-dir=" + profile,
                "--window-size=" + WIDTH + "," + HEIGHT,
                "--lang=en-US");
        LoggingPreferences logging = new LoggingPreferences();
        logging.enable(LogType.BROWSER, Level.ALL);
        options.setCapability(ChromeOptions.LOGGING_PREFS, logging);

        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .withLogFile(screenshots
                        .resolveSibling("chromedriver-" + who + ".log")
                        .toFile())
                .build();

        List<String> finder = new ArrayList<>();
        Handler recorder = new Handler() {
            @Override
            public void publish(LogRecord record) {
                synchronized (finder) {
                    finder.add(record.getMessage());
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Level before = DRIVER_FINDER_LOG.getLevel();
        DRIVER_FINDER_LOG.setLevel(Level.FINE);
        DRIVER_FINDER_LOG.addHandler(recorder);
        ChromeDriver driver;
        try {
            driver = new ChromeDriver(service, options);
        } finally {
            DRIVER_FINDER_LOG.removeHandler(recorder);
            DRIVER_FINDER_LOG.setLevel(before);
        }
        ChatPage page = new ChatPage(who, profile, screenshots, driver);
        try {
            synchronized (finder) {
                assertThat(finder)
                        .as("Selenium must use %s without running Selenium Manager", CHROMEDRIVER)
                        .anySatisfy(line -> assertThat(line).contains("Skipping Selenium Manager"));
            }
        } catch (RuntimeException | AssertionError e) {
            page.close();
            throw e;
        }
        return page;
    }

    /** Opens the chat page at {@code url} in a window of the default size, and waits until it is ready. */
    void load(URI url) {
        resize(WIDTH, HEIGHT);
        driver.get(url.toString());
        await("the page to load", () -> "idle".equals(status().state()));
    }

    /**
     * Leaves the page (closing its WebSockets as a person's browser does) for a blank one, and
     * returns the console errors of the page other than those matching {@code allowed}.
     */
    List<String> leave(Pattern allowed) {
        List<String> errors = consoleErrors(allowed);
        consoleErrors.clear();
        driver.get("about:blank");
        collectConsoleErrors();
        consoleErrors.clear();
        return errors;
    }

    String who() {
        return who;
    }

    ChromeDriver driver() {
        return driver;
    }

    // ---- waiting ----

    /** Waits (at most {@link #WAIT}) until {@code condition} holds, failing with what the page shows. */
    void await(String what, Supplier<Boolean> condition) {
        new WebDriverWait(driver, WAIT, POLL)
                .withMessage(() -> who + "'s page: waited " + WAIT.toSeconds() + " s for " + what + "; " + describe())
                .until(d -> condition.get());
    }

    String describe() {
        try {
            Status status = status();
            return "status=" + status.state() + " '" + status.text() + "', online=" + onlineUsers()
                    + ", messages=" + entries().stream().map(Entry::line).toList()
                    + ", room=" + roomEntries().stream().map(Entry::line).toList();
        } catch (RuntimeException e) {
            return "(page not readable: " + e + ")";
        }
    }

    Object script(String js, Object... args) {
        return driver.executeScript(js, args);
    }

    // ---- what the page shows ----

    Status status() {
        return statusOf("status");
    }

    Status roomStatus() {
        return statusOf("room-status");
    }

    /** The room's members on every server, as the page shows them ("alice, bob"). */
    String roomMembers() {
        return (String) script("return document.getElementById('room-members').textContent;");
    }

    @SuppressWarnings("unchecked")
    private Status statusOf(String id) {
        Map<String, Object> s = (Map<String, Object>) script(
                "var s = document.getElementById(arguments[0]);"
                        + "return {state: s.dataset.state || '', text: s.textContent};",
                id);
        return new Status((String) s.get("state"), (String) s.get("text"));
    }

    /** The users in the online list, in the order shown. */
    @SuppressWarnings("unchecked")
    List<String> onlineUsers() {
        return (List<String>) script("return Array.from(document.querySelectorAll('#online li[data-user]'))"
                + ".map(function (li) { return li.dataset.user; });");
    }

    List<Entry> entries() {
        return entriesOf("log");
    }

    List<Entry> roomEntries() {
        return entriesOf("room-log");
    }

    @SuppressWarnings("unchecked")
    private List<Entry> entriesOf(String id) {
        List<Map<String, Object>> rows = (List<Map<String, Object>>) script(
                "return Array.from(document.querySelectorAll('#' + arguments[0] + ' > li')).map(function (li) {"
                        + "  var text = li.querySelector('.text'); var time = li.querySelector('time');"
                        + "  return {kind: li.dataset.kind || '', from: li.dataset.from || '',"
                        + "          text: text ? text.textContent : '', time: time ? time.dateTime : '',"
                        + "          line: li.innerText.replace(/\\s+/g, ' ').trim()};"
                        + "});",
                id);
        return rows.stream()
                .map(r -> new Entry(
                        (String) r.get("kind"),
                        (String) r.get("from"),
                        (String) r.get("text"),
                        (String) r.get("time"),
                        (String) r.get("line")))
                .toList();
    }

    /** Waits for a message from {@code from} with exactly {@code text} in the messages log, and returns it. */
    Entry awaitMessage(String from, String text) {
        return awaitEntry("messages", this::entries, "in", from, text);
    }

    /** Waits for a room message from {@code from} (the sender the server stamped) with exactly {@code text} in the room log. */
    Entry awaitRoomMessage(String from, String text) {
        return awaitEntry("room", this::roomEntries, "in", from, text);
    }

    /** Waits for a server error whose detail contains {@code detail}. */
    Entry awaitError(String detail) {
        Entry[] found = new Entry[1];
        await("an error saying '" + detail + "'", () -> {
            found[0] = entries().stream()
                    .filter(e -> e.kind().equals("error") && e.text().contains(detail))
                    .findFirst()
                    .orElse(null);
            return found[0] != null;
        });
        return found[0];
    }

    private Entry awaitEntry(String where, Supplier<List<Entry>> log, String kind, String from, String text) {
        Entry[] found = new Entry[1];
        await(kind + " entry from " + from + " '" + text + "' in the " + where + " log", () -> {
            found[0] = log.get().stream()
                    .filter(e -> e.kind().equals(kind)
                            && e.from().equals(from)
                            && e.text().equals(text))
                    .findFirst()
                    .orElse(null);
            return found[0] != null;
        });
        return found[0];
    }

    void awaitState(String state) {
        await("status '" + state + "'", () -> state.equals(status().state()));
    }

    void awaitOnline(String... users) {
        List<String> expected = List.of(users);
        await("online list " + expected, () -> onlineUsers().equals(expected));
    }

    // ---- what the person does ----

    WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    /** Types a name and presses Enter, then waits until the connection is open. */
    void connectAs(String name) {
        typeName(name);
        find("#username").sendKeys(Keys.ENTER);
        awaitState("open");
        await("the online list to include " + name, () -> onlineUsers().contains(name));
    }

    void typeName(String name) {
        WebElement field = find("#username");
        field.clear();
        field.sendKeys(name);
    }

    /** Sets the To field ({@code null} or empty for everyone), types the message and presses Enter. */
    void send(String to, String text) {
        WebElement recipient = find("#recipient");
        recipient.clear();
        if (to != null && !to.isEmpty()) {
            recipient.sendKeys(to);
        }
        WebElement message = find("#message");
        message.sendKeys(text);
        message.sendKeys(Keys.ENTER);
        await(
                "the message field to be emptied after sending",
                () -> message.getDomProperty("value").isEmpty());
    }

    /** Types a message to whoever is picked and presses Enter. */
    void sendToPicked(String text) {
        WebElement message = find("#message");
        message.sendKeys(text, Keys.ENTER);
        await(
                "the message field to be emptied after sending",
                () -> message.getDomProperty("value").isEmpty());
    }

    void clickDisconnect() {
        find("#disconnect").click();
    }

    /** Types a room name and presses Enter (the page must be connected), then waits until the server says joined. */
    void joinRoom(String room) {
        WebElement field = find("#room-name");
        field.clear();
        field.sendKeys(room, Keys.ENTER);
        await(
                "room status 'open' (joined " + room + ")",
                () -> "open".equals(roomStatus().state()));
    }

    void sendToRoom(String text) {
        WebElement message = find("#room-message");
        message.sendKeys(text, Keys.ENTER);
        await(
                "the room message field to be emptied after sending",
                () -> message.getDomProperty("value").isEmpty());
    }

    /** Closes the tab that shows the page (as a person closes it), leaving the browser on a blank tab. */
    void closePage() {
        collectConsoleErrors();
        String chat = driver.getWindowHandle();
        driver.switchTo().newWindow(WindowType.TAB);
        String blank = driver.getWindowHandle();
        driver.switchTo().window(chat);
        driver.close();
        driver.switchTo().window(blank);
    }

    /** Scrolls so that the element {@code css} is at the top of the window, for a screenshot. */
    void scrollTo(String css) {
        script("document.querySelector(arguments[0]).scrollIntoView({block: 'start'});", css);
    }

    void resize(int width, int height) {
        driver.manage().window().setSize(new Dimension(width, height));
    }

    /** Saves what the browser shows as {@code name}.png in the screenshot folder. */
    Path screenshot(String name) {
        Path target = screenshots.resolve(name + ".png");
        File shot = driver.getScreenshotAs(OutputType.FILE);
        try {
            Files.copy(shot.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
            Files.deleteIfExists(shot.toPath());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return target;
    }

    // ---- the console ----

    /** Reads the browser console so far and keeps its errors. */
    void collectConsoleErrors() {
        for (LogEntry entry : driver.manage().logs().get(LogType.BROWSER)) {
            if (entry.getLevel().intValue() >= Level.SEVERE.intValue()) {
                consoleErrors.add(entry.getMessage());
            }
        }
    }

    /** Console errors other than those matching {@code allowed}. */
    List<String> consoleErrors(Pattern allowed) {
        collectConsoleErrors();
        return consoleErrors.stream()
                .filter(m -> allowed == null || !allowed.matcher(m).find())
                .collect(Collectors.toList());
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            deleteQuietly(profile);
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a leftover temp profile is harmless
        }
    }

    @Override
    public String toString() {
        return "ChatPage[" + Objects.requireNonNull(who) + "]";
    }
}
