package dev.warden.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Classification;
import dev.warden.core.Gate;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Statement;
import dev.warden.core.Target;
import dev.warden.core.Verdict;
import dev.warden.core.ApprovalSpec;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.StatedReason;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.ledger.Entry;
import dev.warden.core.policy.PolicyLoader;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real browser (Debian's headless Chromium, driven through Debian's chromedriver; nothing is downloaded) logs in,
 * sees a statement held by the real gate appear live, approves it, and the held statement is released to run.
 */
class ConsoleBrowserTest {
    static final String CHROMIUM = "/usr/bin/chromium";
    static final String CHROMEDRIVER = "/usr/bin/chromedriver";

    @TempDir Path dir;
    ConsoleFixture f;
    WebDriver browser;

    @BeforeEach
    void start() throws Exception {
        assertThat(new File(CHROMIUM).canExecute()).as("install Debian's chromium (scripts/lib.sh WARDEN_TEST_PACKAGES)").isTrue();
        assertThat(new File(CHROMEDRIVER).canExecute()).as("install Debian's chromium-driver (scripts/lib.sh WARDEN_TEST_PACKAGES)").isTrue();
        f = new ConsoleFixture(dir);
        browser = chromium(dir.resolve("chromium-profile"));
    }

    @AfterEach
    void stop() {
        if (browser != null) browser.quit();
        if (f != null) f.close();
    }

    static WebDriver chromium(Path profile) throws Exception {
        Files.createDirectories(profile);
        // Selenium Manager would look for (and download) a driver; an explicit driver and binary keep it out.
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER);
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM);
        o.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile.toAbsolutePath());
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort().build();
        return new ChromeDriver(service, o);
    }

    @Test
    void approverLogsInSeesHeldStatementLiveAndApprovesIt() throws Exception {
        Path policy = Files.writeString(dir.resolve("policy.yaml"), """
                rules:
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                  - name: schema-changes
                    match: { kind: [ddl] }
                    action: approve
                    approval: { mode: hold, timeout: 2m }
                """);
        Target shop = new Target("shop", "postgres", (text, ctx) -> Classification.of(List.of(new Statement(Kind.DDL, text,
                "CREATE INDEX", List.of(ObjectAccess.of("public.orders", dev.warden.core.Access.DDL)), List.of(), Set.of("locks"),
                List.of("creates an index")))), Catalog.NONE);
        Gate gate = new Gate(Map.of("shop", shop), PolicyLoader.load(policy), f.approvals, f.ledger, f.url());

        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        // The page re-renders rows on every live event; an element found a moment ago may have been replaced.
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        browser.get(f.url() + "/");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token"))).sendKeys(ConsoleFixture.BOB);
        browser.findElement(By.id("login-button")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("pending-empty")));
        wait.until(ExpectedConditions.attributeContains(By.id("live"), "class", "on"));

        // The agent's statement arrives after the page loaded: it must appear through the live event stream.
        String sql = "/* reason: <b>fixing</b> slow /orders endpoint */ CREATE INDEX CONCURRENTLY orders_created_idx ON orders(created_at)";
        Operation op = new Operation("claude", "shop", "postgres", sql, List.of(), StatedReason.parse(sql), "s1", "10.0.0.7", null);
        CompletableFuture<Verdict> held = CompletableFuture.supplyAsync(() ->
                gate.submit(op, ClassifyContext.defaults(), new Gate.Hold(h -> {}, true)));

        WebElement card = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#pending-list .request.pending")));
        assertThat(card.findElement(By.cssSelector("pre.sql")).getText()).contains("CREATE INDEX CONCURRENTLY orders_created_idx");
        assertThat(card.findElement(By.cssSelector(".agent")).getText()).contains("claude");
        // Why there is no row estimate, for the person deciding.
        assertThat(card.findElement(By.cssSelector(".rows")).getText()).isEqualTo("unknown (no catalog: enrichment not available)");
        assertThat(card.findElement(By.cssSelector(".txn")).isDisplayed()).as("in-transaction mark").isTrue();
        // The reason is shown as text, never as markup.
        assertThat(card.findElement(By.cssSelector(".reason")).getText()).contains("<b>fixing</b> slow /orders endpoint");
        assertThat(card.findElements(By.cssSelector(".reason b"))).isEmpty();
        assertThat(held).as("the statement waits for a person").isNotDone();
        String id = card.getAttribute("data-id");

        card.findElement(By.cssSelector(".comment")).sendKeys("index is fine, go");
        card.findElement(By.cssSelector(".approve")).click();

        Verdict v = held.get(20, TimeUnit.SECONDS);
        assertThat(v.run()).as(String.valueOf(v.message())).isTrue();
        assertThat(v.approvalId()).isEqualTo(id);
        assertThat(f.approvals.get(id).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.USED);
        assertThat(f.ledger.entries()).filteredOn(e -> e instanceof Entry.ApprovalEntry a && "approved".equals(a.verdict()))
                .singleElement().satisfies(e -> {
                    assertThat(((Entry.ApprovalEntry) e).approver()).isEqualTo("bob");
                    assertThat(((Entry.ApprovalEntry) e).comment()).isEqualTo("index is fine, go");
                });

        // The page shows the outcome live: the request leaves the queue as approved/used and enters the history.
        wait.until(d -> {
            List<WebElement> rows = d.findElements(By.cssSelector("#history-rows tr[data-id='" + id + "'] .hstatus"));
            return !rows.isEmpty() && rows.getFirst().getAttribute("textContent").equals("used");
        });
        wait.until(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector("#pending-list .request.pending")));
        browser.findElement(By.cssSelector("nav a[data-tab='history']")).click();
        assertThat(browser.findElement(By.cssSelector("#history-rows tr[data-id='" + id + "']")).getText()).contains("used").contains("bob");
        assertThat(Files.readString(dir.resolve("approvals/" + id + ".json"), StandardCharsets.UTF_8)).contains("\"status\":\"used\"");
    }

    /** Under a rule that asks two approvers, the second sees why the first said yes (as text, never markup). */
    @Test
    void theSecondApproverSeesTheFirstOnesComment() throws Exception {
        ApprovalRequest r = f.open("ALTER TABLE orders ADD note text", ApprovalSpec.Mode.TICKET, 2, false);
        f.approvals.decide(r.id(), "alice", true, "nullable column, <b>no</b> rewrite");

        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        browser.get(f.url() + "/");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token"))).sendKeys(ConsoleFixture.BOB);
        browser.findElement(By.id("login-button")).click();
        WebElement card = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#pending-list .request.pending")));
        assertThat(card.findElement(By.cssSelector(".approvals")).getText()).isEqualTo("1 of 2 (alice)");
        assertThat(card.findElement(By.cssSelector("dd.comments")).getText()).isEqualTo("alice: nullable column, <b>no</b> rewrite");
        assertThat(card.findElements(By.cssSelector("dd.comments b"))).isEmpty();

        card.findElement(By.cssSelector(".comment")).sendKeys("agreed");
        card.findElement(By.cssSelector(".approve")).click();
        wait.until(d -> f.approvals.get(r.id()).orElseThrow().status() == ApprovalRequest.Status.APPROVED);
        browser.findElement(By.cssSelector("nav a[data-tab='history']")).click();
        wait.until(d -> d.findElement(By.cssSelector("#history-rows tr[data-id='" + r.id() + "']")).getText()
                .contains("alice: nullable column, <b>no</b> rewrite; bob: agreed"));
    }

    @Test
    void killSwitchAndAuditBrowserFromThePage() throws Exception {
        Path ledgerDir = Files.createDirectories(f.dataDir.resolve("ledger"));
        Files.writeString(ledgerDir.resolve("00000000000000000000.jsonl"),
                "{\"seq\":0,\"time\":\"2026-01-01T00:00:00Z\",\"type\":\"decision\",\"agent\":\"claude\",\"database\":\"shop\","
                + "\"statement\":\"DROP TABLE audit_log\",\"decision\":\"deny\",\"rule\":\"protect-audit-log\"}\n"
                + "{\"seq\":1,\"time\":\"2026-01-01T00:00:01Z\",\"type\":\"decision\",\"agent\":\"claude\",\"database\":\"shop\","
                + "\"statement\":\"SELECT 1\",\"decision\":\"allow\",\"rule\":\"reads\"}\n");
        ApprovalRequest pending = f.open("DROP INDEX i", dev.warden.core.ApprovalSpec.Mode.TICKET, 1, false);
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        browser.get(f.url() + "/#/agents");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token"))).sendKeys(ConsoleFixture.ALICE);
        browser.findElement(By.id("login-button")).click();

        WebElement row = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#agent-rows tr[data-agent='claude']")));
        row.findElement(By.cssSelector(".agent-comment")).sendKeys("runaway loop");
        row.findElement(By.cssSelector("button")).click();
        wait.until(d -> !f.agents.allows("claude"));
        wait.until(d -> d.findElement(By.cssSelector("#agent-rows tr[data-agent='claude']")).getText().contains("disabled"));
        assertThat(f.approvals.get(pending.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.DENIED);
        assertThat(f.ledger.entries()).filteredOn(e -> e instanceof Entry.ApprovalEntry a && "agent_disabled".equals(a.verdict()))
                .singleElement().satisfies(e -> assertThat(((Entry.ApprovalEntry) e).approver()).isEqualTo("alice"));

        browser.findElement(By.cssSelector("nav a[data-tab='audit']")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("verification"), "verified"));
        WebElement decision = browser.findElement(By.cssSelector("#audit-form select[name='decision']"));
        new org.openqa.selenium.support.ui.Select(decision).selectByVisibleText("deny");
        browser.findElement(By.cssSelector("#audit-form button")).click();
        wait.until(d -> {
            List<WebElement> rows = d.findElements(By.cssSelector("#audit-rows tr"));
            return rows.size() == 1 && rows.getFirst().getText().contains("DROP TABLE audit_log");
        });
    }
}
