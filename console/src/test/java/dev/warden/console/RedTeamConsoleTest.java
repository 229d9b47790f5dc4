package dev.warden.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.Access;
import dev.warden.core.Action;
import dev.warden.core.ApprovalSpec;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Statement;
import dev.warden.core.approval.ApprovalRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Red-team review of the approval console: an approver must see exactly what an approval lets run, and nothing but
 * a configured approver's own request may decide. Each test fails while the weakness it names exists.
 */
class RedTeamConsoleTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path dir;
    ConsoleFixture f;
    WebDriver browser;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        f = new ConsoleFixture(dir);
    }

    @AfterEach
    void stop() {
        if (browser != null) browser.quit();
        if (f != null) f.close();
    }

    // --- helpers ---

    ApprovalRequest open(String text, List<String> params, Kind kind, String command, ObjectAccess... objects) {
        Operation op = new Operation("claude", "shop", "postgres", text, params, "", "s1", "127.0.0.1:5555", null);
        Classification c = Classification.of(List.of(new Statement(kind, text, command, List.of(objects), List.of(),
                Set.of(), List.of("needs approval"))));
        Decision d = new Decision(Action.APPROVE, "writes", List.of("needs approval"),
                new ApprovalSpec(ApprovalSpec.Mode.HOLD, 1, Duration.ofMinutes(5), Duration.ofMinutes(10)));
        return f.approvals.open(op, c, d, false);
    }

    /** Logs bob in with a real headless Chromium and returns the pending card of the request. */
    WebElement cardOf(ApprovalRequest r) throws Exception {
        browser = ConsoleBrowserTest.chromium(dir.resolve("chromium-profile"));
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        browser.get(f.url() + "/#/requests/" + r.id());
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token"))).sendKeys(ConsoleFixture.BOB);
        browser.findElement(By.id("login-button")).click();
        return wait.until(ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("#pending-list .request.pending[data-id='" + r.id() + "']")));
    }

    HttpResponse<String> call(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(f.url() + path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) b.header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    // --- findings ---

    /**
     * Finding 1. The approval binds the text AND the bound parameters (Operation.statementHash), and the held
     * statement runs with them, but the console's request card never shows the parameters. The approver sees
     * "UPDATE accounts SET balance = $1 WHERE id = $2" and approves values they were never shown.
     */
    @Test
    void boundParametersAreShownToTheApprover() throws Exception {
        ApprovalRequest r = open("UPDATE accounts SET balance = $1 WHERE id = $2", List.of("-99999999", "1 OR TRUE"),
                Kind.WRITE, "UPDATE", ObjectAccess.of("public.accounts", Access.WRITE));
        WebElement card = cardOf(r);
        String shown = card.getText();
        assertThat(shown).contains("UPDATE accounts SET balance = $1");
        assertThat(shown).as("the parameters the approval covers must be on the card the approver decides from")
                .contains("-99999999").contains("1 OR TRUE");
    }

    /**
     * Finding 2. Unicode bidi controls in the statement reach the page unchanged (the reason is cleaned of them,
     * the statement is not). With U+202E inside a comment, everything after it on the line is drawn reversed:
     * "SELECT 1 /*\u202E* /; DROP TABLE users; --" is displayed as "SELECT 1 /*-- ;sresu ELBAT PORD ;/*", so
     * the DROP that runs looks like garbage inside a comment. Invisible characters must be made visible.
     */
    @Test
    void bidiAndInvisibleCharactersInTheStatementAreMadeVisible() throws Exception {
        String sql = "SELECT count(*) FROM orders /*\u202E*/; DROP TABLE users; --";
        ApprovalRequest r = open(sql, List.of(), Kind.DDL, "DROP TABLE", ObjectAccess.of("public.users", Access.DDL));
        WebElement card = cardOf(r);
        String text = (String) ((JavascriptExecutor) browser).executeScript(
                "return arguments[0].textContent;", card.findElement(By.cssSelector("pre.sql")));
        assertThat(text).as("raw bidi override / isolate / zero-width characters in the statement shown to the approver")
                .doesNotContainPattern("[\\u202A-\\u202E\\u2066-\\u2069\\u200B-\\u200F\\u061C\\uFEFF]");
    }

    /**
     * Finding 3. The page's SQL highlighter does not know PostgreSQL dollar quoting: in
     * "SELECT $$ /* $$; DROP TABLE users; -- * /" PostgreSQL reads a string, then runs DROP TABLE users, then a line
     * comment; the console draws "/* $$; DROP TABLE users; -- * /" as a grey italic comment.
     */
    @Test
    void highlighterNeverDrawsExecutedSqlAsAComment() throws Exception {
        String sql = "SELECT $$ /* $$; DROP TABLE users; -- */";
        ApprovalRequest r = open(sql, List.of(), Kind.DDL, "DROP TABLE", ObjectAccess.of("public.users", Access.DDL));
        WebElement card = cardOf(r);
        List<WebElement> comments = card.findElements(By.cssSelector("pre.sql .com"));
        assertThat(comments).extracting(WebElement::getText)
                .as("text drawn as a comment that PostgreSQL executes").noneMatch(t -> t.contains("DROP"));
    }

    // --- what held (regression guards; these pass) ---

    @Test
    void heldAgentSecretSessionReuseAndReplays() throws Exception {
        ApprovalRequest r = open("DROP TABLE users", List.of(), Kind.DDL, "DROP TABLE", ObjectAccess.of("public.users", Access.DDL));
        String path = "/api/requests/" + r.id() + "/approve";
        // agent secret: bearer (any case of the scheme, padded) and login
        assertThat(call("POST", path, null, "Authorization", "bearer  " + ConsoleFixture.AGENT + " ").statusCode()).isEqualTo(403);
        assertThat(call("POST", "/api/login", "{\"token\":\"" + ConsoleFixture.AGENT + "\"}").statusCode()).isEqualTo(403);
        // cookie session: CSRF token needed even without Origin; a forged Host does not help either
        HttpResponse<String> login = call("POST", "/api/login", "{\"token\":\"" + ConsoleFixture.ALICE + "\"}");
        String cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
        String csrf = (String) JSON.readValue(login.body(), new TypeReference<Map<String, Object>>() {}).get("csrf");
        assertThat(call("POST", path, "{}", "Cookie", cookie).statusCode()).isEqualTo(403);
        assertThat(call("POST", path, "{}", "Cookie", cookie, "X-CSRF-Token", csrf, "Origin", "null").statusCode()).isEqualTo(403);
        assertThat(call("POST", path, "{}", "Cookie", cookie, "X-CSRF-Token", "").statusCode()).isEqualTo(403);
        // logout kills the session for good
        assertThat(call("POST", "/api/logout", "{}", "Cookie", cookie, "X-CSRF-Token", csrf).statusCode()).isEqualTo(200);
        assertThat(call("POST", path, "{}", "Cookie", cookie, "X-CSRF-Token", csrf).statusCode()).isEqualTo(401);
        assertThat(f.approvals.get(r.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.PENDING);
        // kill switch: an agent can't re-enable itself; unknown/case-variant names are refused
        assertThat(call("POST", "/api/agents/claude/disable", null, "Authorization", "Bearer " + ConsoleFixture.ALICE).statusCode()).isEqualTo(200);
        assertThat(call("POST", "/api/agents/claude/enable", null, "Authorization", "Bearer " + ConsoleFixture.AGENT).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/api/agents/Claude/enable", null, "Authorization", "Bearer " + ConsoleFixture.ALICE).statusCode()).isEqualTo(404);
        assertThat(f.agents.allows("claude")).isFalse();
        assertThat(f.approvals.get(r.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.DENIED);
    }

    @Test
    void heldTwoApproversAreTwoPeopleAndDecisionsAreFinal() throws Exception {
        Operation op = new Operation("claude", "shop", "postgres", "DROP TABLE t", List.of(), "", "s1", "", null);
        ApprovalRequest r = f.approvals.open(op, Classification.of(List.of(new Statement(Kind.DDL, "DROP TABLE t", "DROP TABLE",
                List.of(ObjectAccess.of("public.t", Access.DDL)), List.of(), Set.of(), List.of()))),
                new Decision(Action.APPROVE, "ddl", List.of(), new ApprovalSpec(ApprovalSpec.Mode.TICKET, 2, Duration.ofMinutes(5),
                        Duration.ofMinutes(10))), false);
        String path = "/api/requests/" + r.id() + "/approve";
        assertThat(call("POST", path, null, "Authorization", "Bearer " + ConsoleFixture.ALICE).statusCode()).isEqualTo(200);
        // the same person again through a browser session
        HttpResponse<String> login = call("POST", "/api/login", "{\"token\":\"" + ConsoleFixture.ALICE + "\"}");
        String cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
        String csrf = (String) JSON.readValue(login.body(), new TypeReference<Map<String, Object>>() {}).get("csrf");
        assertThat(call("POST", path, "{}", "Cookie", cookie, "X-CSRF-Token", csrf).statusCode()).isEqualTo(409);
        assertThat(f.approvals.get(r.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.PENDING);
        // deny wins and is final
        assertThat(call("POST", "/api/requests/" + r.id() + "/deny", null, "Authorization", "Bearer " + ConsoleFixture.BOB).statusCode()).isEqualTo(200);
        assertThat(call("POST", path, null, "Authorization", "Bearer " + ConsoleFixture.BOB).statusCode()).isEqualTo(409);
        assertThat(f.approvals.get(r.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.DENIED);
    }
    /**
     * A wrong approver token cost a fixed 250 ms pause on the request's own thread: parallel requests each waited out
     * their own pause at once, so a guesser tried tokens about as fast as it opened connections.
     */
    @Test
    void parallelWrongTokensGetTheirVerdictsOneAtATimeWhileAnApproverAtWorkIsNotSlowed() throws Exception {
        assertThat(call("GET", "/api/requests", null, "Authorization", "Bearer " + ConsoleFixture.BOB).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/api/requests", null, "Authorization", "Bearer guess-0").statusCode()).isEqualTo(401);
        long start = System.nanoTime();
        List<Thread> guesses = new java.util.ArrayList<>();
        int[] status = new int[3];
        for (int i = 0; i < status.length; i++) {
            int n = i;
            guesses.add(Thread.ofVirtual().start(() -> {
                try {
                    status[n] = call("GET", "/api/requests", null, "Authorization", "Bearer guess-" + (n + 1)).statusCode();
                } catch (Exception e) {
                    status[n] = -1;
                }
            }));
        }
        Thread.sleep(100);
        long bob = System.nanoTime();
        assertThat(call("GET", "/api/requests", null, "Authorization", "Bearer " + ConsoleFixture.BOB).statusCode()).isEqualTo(200);
        assertThat((System.nanoTime() - bob) / 1_000_000).as("bob, already at work from this address").isLessThan(150);
        for (Thread g : guesses) g.join();
        assertThat(status).containsOnly(401);
        // 0.2 s, 0.4 s and 0.8 s one after the other, not 0.25 s side by side.
        assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(1300);
    }
}
