"""asyncpg through Warden: it prepares every statement (named statements, binary results) and introspects pg_type
the first time it meets a type it does not know (here an enum). Connection settings come from PG* variables, the
schema from DRV_SCHEMA. Prints one line per step; DriversAsyncpgTest checks them and the database afterwards."""
import asyncio
import io
import os

import asyncpg

S = os.environ["DRV_SCHEMA"]


def step(name, value):
    print(f"{name}: {value}", flush=True)


async def main():
    # Generous timeouts: a statement held for approval waits for a person.
    conn = await asyncpg.connect(timeout=30, command_timeout=150)
    step("version", asyncpg.__version__)
    # asyncpg's default sslmode is prefer: TLS, since the listener offers it.
    step("tls", conn._transport.get_extra_info("ssl_object") is not None)

    rows = await conn.fetch(f"SELECT id, name FROM {S}.items WHERE id = ANY($1::int[]) ORDER BY id", [1, 2])
    step("fetch", ",".join(f"{r['id']}={r['name']}" for r in rows))

    # The enum is not one asyncpg knows: it asks pg_type about it before it can decode the column.
    step("introspection", await conn.fetchval(f"SELECT mood FROM {S}.items WHERE id = $1", 2))

    step("execute", await conn.execute(f"INSERT INTO {S}.items (id, name, mood) VALUES ($1, $2, $3)", 10, "ten", "calm"))
    await conn.executemany(f"INSERT INTO {S}.items (id, name) VALUES ($1, $2)", [(i, f"many {i}") for i in range(11, 16)])
    step("executemany", await conn.fetchval(f"SELECT count(*) FROM {S}.items WHERE id BETWEEN 11 AND 15"))

    # COPY FROM STDIN in the binary format, after asyncpg read the table's columns.
    result = await conn.copy_records_to_table("items", schema_name=S, columns=["id", "name"],
                                              records=[(i, f"copied {i}") for i in range(100, 140)])
    step("copy-records", result)

    out = io.BytesIO()
    step("copy-out", await conn.copy_from_query(f"SELECT id FROM {S}.items WHERE id >= $1 ORDER BY id", 100, output=out))
    step("copy-out-rows", out.getvalue().decode().split()[-1])

    async with conn.transaction():
        await conn.execute(f"INSERT INTO {S}.items (id, name) VALUES ($1, $2)", 20, "committed")
    try:
        async with conn.transaction():
            await conn.execute(f"INSERT INTO {S}.items (id, name) VALUES ($1, $2)", 21, "rolled back")
            raise RuntimeError("roll it back")
    except RuntimeError:
        pass
    step("transaction", await conn.fetchval(f"SELECT string_agg(name, ',') FROM {S}.items WHERE id IN (20, 21)"))

    # A cursor inside a transaction: a named portal fetched in batches.
    async with conn.transaction():
        ids = [r["id"] async for r in conn.cursor(f"SELECT id FROM {S}.items WHERE id >= $1 ORDER BY id", 100, prefetch=15)]
    step("cursor", f"{len(ids)} {ids[0]}..{ids[-1]}")

    try:
        await conn.execute(f"UPDATE {S}.secret SET v = $1", "stolen")
        step("denied", "NOT DENIED")
    except asyncpg.exceptions.InsufficientPrivilegeError as e:
        step("denied", f"{e.sqlstate} {e.message}")
    step("after-denial", await conn.fetchval(f"SELECT v FROM {S}.secret"))
    try:
        await conn.copy_records_to_table("secret", schema_name=S, records=[(2, "smuggled")])
        step("copy-denied", "NOT DENIED")
    except asyncpg.exceptions.InsufficientPrivilegeError as e:
        step("copy-denied", e.sqlstate)

    try:
        async with conn.transaction():
            await conn.execute(f"INSERT INTO {S}.items (id, name) VALUES ($1, $2)", 30, "in a denied transaction")
            await conn.execute(f"DELETE FROM {S}.secret")
        step("denied-in-transaction", "NOT DENIED")
    except asyncpg.exceptions.InsufficientPrivilegeError as e:
        step("denied-in-transaction", e.sqlstate)
    step("after-denied-transaction", await conn.fetchval(f"SELECT count(*) FROM {S}.items WHERE id = 30"))

    # Held twice: a COPY (sent as a Query after the Parse of its column query) and an insert.
    step("held-copy", await conn.copy_records_to_table("held", schema_name=S, records=[(2, "copied once approved")]))
    step("held", await conn.execute(f"INSERT INTO {S}.held (id, v) VALUES ($1, $2)", 1, "approved by a person"))
    await conn.close()

    # A pool resets each connection it takes back (advisory locks, cursors, listeners, settings), then hands it out
    # again: a reset that failed would close it, and the second acquisition would get another backend.
    pool = await asyncpg.create_pool(min_size=1, max_size=1, timeout=30, command_timeout=150)
    pids = []
    for i in (1, 2):
        async with pool.acquire() as c:
            pids.append(c.get_server_pid())
            await c.fetchval(f"SELECT name FROM {S}.items WHERE id = $1", i)
    await pool.close()
    step("pool", f"{len(pids)} acquisitions, {len(set(pids))} connection")
    step("done", "ok")


asyncio.run(main())
