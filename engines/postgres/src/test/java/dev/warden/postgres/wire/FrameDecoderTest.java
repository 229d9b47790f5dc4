package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameDecoderTest {
    private static byte[] stream() {
        PgWriter w = new PgWriter();
        new QueryMessage.Query("SELECT 1").write(w);
        new QueryMessage.Parse("s1", "SELECT $1", new int[] {23}).write(w);
        new QueryMessage.Bind("", "s1", new int[] {0}, new byte[][] {"42".getBytes()}, new int[0]).write(w);
        new QueryMessage.Execute("", 0).write(w);
        QueryMessage.sync(w);
        return w.toByteArray();
    }

    @Test
    void everySplitYieldsTheSameFramesAndLeavesNothingOver() throws Exception {
        byte[] all = stream();
        List<Frame> whole = decode(all, all.length);
        assertThat(whole).extracting(Frame::type).containsExactly((int) 'Q', (int) 'P', (int) 'B', (int) 'E', (int) 'S');
        for (int chunk = 1; chunk <= all.length; chunk++) {
            List<Frame> frames = decode(all, chunk);
            assertThat(frames).hasSize(5);
            for (int i = 0; i < 5; i++) assertThat(frames.get(i).body()).isEqualTo(whole.get(i).body());
        }
        assertThat(QueryMessage.Parse.read(whole.get(1))).satisfies(p -> {
            assertThat(p.name()).isEqualTo("s1");
            assertThat(p.sql()).isEqualTo("SELECT $1");
        });
        assertThat(QueryMessage.Bind.read(whole.get(2)).rendered(null)).containsExactly("42");
    }

    private static List<Frame> decode(byte[] all, int chunk) throws ProtocolException {
        FrameDecoder d = new FrameDecoder(1 << 20);
        List<Frame> out = new ArrayList<>();
        for (int off = 0; off < all.length; off += chunk) {
            d.feed(all, off, Math.min(chunk, all.length - off));
            Frame f;
            while ((f = d.next()) != null) out.add(f);
        }
        assertThat(d.buffered()).isZero();
        return out;
    }

    @Test
    void aPartialFrameIsNeedMoreBytes() throws Exception {
        byte[] all = stream();
        FrameDecoder d = new FrameDecoder(1 << 20);
        d.feed(all, 0, 7);
        assertThat(d.next()).isNull();
        assertThat(d.buffered()).isEqualTo(7);
    }

    @Test
    void oversizedAndInvalidLengthsAreProtocolErrors() {
        FrameDecoder d = new FrameDecoder(100);
        d.feed(new byte[] {'Q', 0, 0, 1, 0}, 0, 5);
        assertThatThrownBy(d::next).isInstanceOf(ProtocolException.class).hasMessageContaining("exceeds");
        FrameDecoder e = new FrameDecoder(100);
        e.feed(new byte[] {'Q', 0, 0, 0, 2}, 0, 5);
        assertThatThrownBy(e::next).isInstanceOf(ProtocolException.class);
        FrameDecoder s = new FrameDecoder(100);
        s.feed(new byte[] {(byte) 0x7f, 0, 0, 0}, 0, 4);
        assertThatThrownBy(s::nextUntyped).isInstanceOf(ProtocolException.class);
    }

    @Test
    void truncatedBodiesAreProtocolErrors() {
        Frame bind = new Frame('B', new byte[] {0, 0, 0, 1});
        assertThatThrownBy(() -> QueryMessage.Bind.read(bind)).isInstanceOf(ProtocolException.class);
        Frame hugeCount = new Frame('B', new byte[] {0, 0, 0, 0, 0x7f, (byte) 0xff});
        assertThatThrownBy(() -> QueryMessage.Bind.read(hugeCount)).isInstanceOf(ProtocolException.class);
    }

    @Test
    void scramServerAcceptsTheRightSecretOnly() throws Exception {
        Scram.Keys keys = Scram.Keys.generate("s3cret");
        ScramClient client = new ScramClient("s3cret");
        ScramServer server = new ScramServer(keys);
        byte[] last = client.last(server.first(client.first()));
        byte[] sig = server.last(last);
        assertThat(sig).isNotNull();
        client.verify(sig);

        ScramClient wrong = new ScramClient("nope");
        ScramServer server2 = new ScramServer(keys);
        assertThat(server2.last(wrong.last(server2.first(wrong.first())))).isNull();
    }
}
