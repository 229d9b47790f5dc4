package dev.warden.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Origins as the MCP endpoint compares them: one canonical form, and loopback only by definition, never by DNS. */
class WebOriginTest {
    @Test
    void oneCanonicalForm() {
        assertThat(WebOrigin.parse("HTTPS://Inspector.Example.com:443")).isEqualTo(WebOrigin.parse("https://inspector.example.com"));
        assertThat(WebOrigin.parse("http://a.example:80").toString()).isEqualTo("http://a.example");
        assertThat(WebOrigin.parse("http://a.example:8080").toString()).isEqualTo("http://a.example:8080");
        assertThat(WebOrigin.parse("http://[FD00:0::1]:1").host()).isEqualTo(WebOrigin.host("fd00::1"));
        assertThat(WebOrigin.parse("http://a.example")).isNotEqualTo(WebOrigin.parse("https://a.example"));
    }

    @Test
    void onlySchemeHostAndPort() {
        for (String s : new String[] {"null", "", "file://", "ftp://a.example", "https://a.example/", "https://a.example/x",
                "https://user@a.example", "https://a.example?q", "a.example", "https://a.example:0", "https://a_b.example"}) {
            assertThatThrownBy(() -> WebOrigin.parse(s)).as(s).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void loopbackByDefinitionOnly() {
        for (String s : new String[] {"http://localhost", "http://LOCALHOST:3000", "http://127.0.0.1:6274", "http://127.8.9.10",
                "http://[::1]:80"}) {
            assertThat(WebOrigin.parse(s).loopback()).as(s).isTrue();
        }
        // Names that may well resolve to 127.0.0.1 (that is what DNS rebinding arranges) are not loopback here.
        for (String s : new String[] {"http://localhost.attacker.example", "http://127.0.0.1.attacker.example",
                "http://attacker.example", "http://10.0.0.1", "http://[fd00::1]"}) {
            assertThat(WebOrigin.parse(s).loopback()).as(s).isFalse();
        }
    }

    @Test
    void wildcardListenHosts() {
        assertThat(WebOrigin.wildcard("0.0.0.0")).isTrue();
        assertThat(WebOrigin.wildcard("::")).isTrue();
        assertThat(WebOrigin.wildcard("127.0.0.1")).isFalse();
        assertThat(WebOrigin.wildcard("warden.internal")).isFalse();
    }
}
