"""psycopg 3 through Warden: what an agent written in Python does. Connection settings come from PG* variables,
the schema to work in from DRV_SCHEMA. Prints one line per step; DriversPsycopgTest checks the lines and the
database afterwards. Any unexpected error ends the script with a traceback and a non-zero exit."""
import os
import sys

import psycopg
from psycopg import errors

S = os.environ["DRV_SCHEMA"]


def step(name, value):
    print(f"{name}: {value}", flush=True)


with psycopg.connect(connect_timeout=10) as conn:
    step("version", psycopg.__version__)
    # libpq's default sslmode is prefer: TLS, since the listener offers it.
    step("tls", conn.pgconn.ssl_in_use)

    # Server-side binding: the extended protocol with an unnamed statement.
    row = conn.execute(f"SELECT name FROM {S}.items WHERE id = %s AND name <> %s", (1, "x")).fetchone()
    step("params", row[0])

    # A named prepared statement: prepare=True, and a query run past prepare_threshold.
    row = conn.execute(f"SELECT name FROM {S}.items WHERE id = %s", (2,), prepare=True).fetchone()
    step("prepared", row[0])
    names = [conn.execute(f"SELECT name FROM {S}.items WHERE id = %s", (i % 2 + 1,)).fetchone()[0] for i in range(8)]
    step("threshold", ",".join(names))
    for i in range(10, 17):
        conn.execute(f"INSERT INTO {S}.items (id, name) VALUES (%s, %s)", (i, f"p{i}"))
    conn.commit()
    step("prepared-insert", conn.execute(f"SELECT count(*) FROM {S}.items WHERE id BETWEEN 10 AND 16").fetchone()[0])

    # A transaction that commits and one that rolls back.
    with conn.transaction():
        conn.execute(f"INSERT INTO {S}.items (id, name) VALUES (%s, %s)", (20, "committed"))
    try:
        with conn.transaction():
            conn.execute(f"INSERT INTO {S}.items (id, name) VALUES (%s, %s)", (21, "rolled back"))
            raise RuntimeError("roll it back")
    except RuntimeError:
        pass
    step("transaction", conn.execute(f"SELECT string_agg(name, ',') FROM {S}.items WHERE id IN (20, 21)").fetchone()[0])
    conn.commit()

    # COPY both ways.
    with conn.cursor() as cur:
        with cur.copy(f"COPY {S}.items (id, name) FROM STDIN") as copy:
            for i in range(100, 150):
                copy.write_row((i, f"copied {i}"))
        step("copy-in", cur.rowcount)
        conn.commit()
        with cur.copy(f"COPY (SELECT id, name FROM {S}.items WHERE id >= 100 ORDER BY id) TO STDOUT") as copy:
            rows = list(copy.rows())
        step("copy-out", f"{len(rows)} {rows[0][1]}..{rows[-1][1]}")
    conn.commit()

    # A server-side cursor: DECLARE, FETCH FORWARD in batches, CLOSE.
    with conn.cursor("agent_cursor") as cur:
        cur.itersize = 7
        cur.execute(f"SELECT id FROM {S}.items WHERE id >= %s ORDER BY id", (100,))
        first = cur.fetchmany(3)
        rest = list(cur)
        step("server-cursor", f"{len(first) + len(rest)} {first[0][0]}..{rest[-1][0]}")
    conn.commit()

    # Pipeline mode: several statements sent before any result is read.
    with conn.pipeline():
        cur = conn.cursor()
        cur.execute(f"INSERT INTO {S}.items (id, name) VALUES (%s, %s)", (30, "piped 30"))
        cur.execute(f"INSERT INTO {S}.items (id, name) VALUES (%s, %s)", (31, "piped 31"))
        cur2 = conn.execute(f"SELECT count(*) FROM {S}.items WHERE id IN (30, 31)")
        conn.commit()
    step("pipeline", cur2.fetchone()[0])

    # A statement Warden denies: 42501, and the connection goes on after a rollback.
    try:
        conn.execute(f"DELETE FROM {S}.secret WHERE id = %s", (1,))
        step("denied", "NOT DENIED")
    except errors.InsufficientPrivilege as e:
        step("denied", f"{e.sqlstate} {e.diag.message_primary}")
    conn.rollback()
    step("after-denial", conn.execute(f"SELECT count(*) FROM {S}.secret").fetchone()[0])

    # A denial inside a pipeline: the statements after it in the same sync are skipped, the pipeline ends cleanly.
    try:
        with conn.pipeline():
            conn.execute(f"INSERT INTO {S}.items (id, name) VALUES (%s, %s)", (40, "before the denial"))
            conn.execute(f"UPDATE {S}.secret SET v = %s", ("stolen",))
            conn.execute(f"INSERT INTO {S}.items (id, name) VALUES (%s, %s)", (41, "after the denial"))
        step("pipeline-denied", "NOT DENIED")
    except errors.InsufficientPrivilege as e:
        step("pipeline-denied", e.sqlstate)
    conn.rollback()
    step("after-pipeline-denial", conn.execute("SELECT 1").fetchone()[0])
    conn.commit()

    # A statement held for a person's approval: it waits, then runs once approved.
    conn.execute(f"INSERT INTO {S}.held (id, v) VALUES (%s, %s)", (1, "approved by a person"))
    conn.commit()
    step("held", conn.execute(f"SELECT v FROM {S}.held").fetchone()[0])

step("done", "ok")
